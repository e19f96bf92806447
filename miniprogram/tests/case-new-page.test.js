const { loadPage, renderPage, textOf, wordsOf } = require('./helpers/page');
const { loggedIn, useMemoryStorage, fakeServer, errorBody, NETWORK_FAILURE, settle } = require('./helpers/fake-wx');
const { TRANSFER, OTHER_TYPE, caseDetail } = require('./helpers/cases');

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/case-new/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'redirectTo').mockImplementation(() => {});
  jest.spyOn(wx, 'reLaunch').mockImplementation(() => {});
});

async function openNew() {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await settle();
  return page;
}

function server(create = () => ({ status: 201, data: caseDetail() })) {
  return fakeServer((req) => (req.path === '/business-types' ? { data: [TRANSFER, OTHER_TYPE] } : create(req)));
}

async function fill(page, { typeIndex, unitNumber, location }) {
  if (typeIndex !== undefined) page.querySelectorAll('.type')[typeIndex].dispatchEvent('tap');
  if (unitNumber !== undefined) page.querySelector('.new__unit-number').dispatchEvent('input', { detail: { value: unitNumber } });
  if (location !== undefined) page.querySelector('.new__location').dispatchEvent('input', { detail: { value: location } });
  await settle();
}

async function create(page) {
  page.querySelector('.new__create').dispatchEvent('tap');
  await settle();
}

test('lists the business types with their time limits', async () => {
  loggedIn();
  server();

  const page = await openNew();

  expect(page.querySelectorAll('.type').map(wordsOf)).toEqual([
    '○ 转移登记（二手房买卖） 法定办结时限 5 个工作日',
    '○ 抵押权首次登记 法定办结时限 3 个工作日',
  ]);
  expect(page.querySelector('.new__unit-number').toJSON().attrs).toContainEqual({ name: 'maxlength', value: 28 });
});

test('creates the draft and opens the wizard in its place', async () => {
  loggedIn();
  const requests = server();
  const page = await openNew();

  await fill(page, { typeIndex: 0, unitNumber: ' 440402001001gb00001f00010001 ', location: ' 香洲区人民东路1号1栋101房 ' });
  expect(textOf(page.querySelectorAll('.type')[0])).toContain('●');
  await create(page);

  expect(requests[1]).toMatchObject({
    method: 'POST',
    path: '/cases',
    data: { business_type: 'transfer', unit_number: '440402001001GB00001F00010001', location: '香洲区人民东路1号1栋101房' },
  });
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/pages/case-form/index?case_number=ZH2026112300001' });
});

test('unit number and location may be left for later', async () => {
  loggedIn();
  const requests = server();
  const page = await openNew();

  await fill(page, { typeIndex: 1 });
  await create(page);

  expect(requests[1].data).toEqual({ business_type: 'mortgage' });
});

test('without a business type nothing is sent', async () => {
  loggedIn();
  const requests = server();
  const page = await openNew();

  await create(page);

  expect(requests).toHaveLength(1);
  expect(textOf(page.querySelector('.new__error--business-type'))).toBe('请选择要办理的业务');
});

test('the server’s field errors are shown under the fields', async () => {
  loggedIn();
  server(() => ({
    status: 422,
    data: errorBody('VALIDATION_FAILED', '提交的信息有误，请检查后重试', { fields: { unit_number: ['不动产单元号应为28位'] } }),
  }));
  const page = await openNew();

  await fill(page, { typeIndex: 0, unitNumber: '4404' });
  await create(page);

  expect(textOf(page.querySelector('.new__error--unit-number'))).toBe('不动产单元号应为28位');
  expect(page.querySelector('.new__alert')).toBeUndefined();
  expect(wx.redirectTo).not.toHaveBeenCalled();
});

test('a failed load can be retried', async () => {
  loggedIn();
  let answer = NETWORK_FAILURE;
  fakeServer(() => answer);
  const page = await openNew();

  expect(textOf(page)).toContain('网络连接失败');
  answer = { data: [TRANSFER] };
  page.querySelector('.new__reload').dispatchEvent('tap');
  await settle();

  expect(page.querySelectorAll('.type')).toHaveLength(1);
});

test('without a session the login page opens', async () => {
  useMemoryStorage();
  const requests = fakeServer(() => ({ data: [] }));

  await openNew();

  expect(wx.reLaunch).toHaveBeenCalledWith({ url: '/pages/login/index' });
  expect(requests).toHaveLength(0);
});
