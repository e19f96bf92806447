const { loadPage, renderPage, textOf } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, settle } = require('./helpers/fake-wx');

const ID_NUMBER = '11010519491231002X';
let pageId;

beforeAll(() => {
  pageId = loadPage('packageKyc/pages/realname/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'redirectTo').mockImplementation(() => {});
});

async function fillAndSubmit({ name, idNumber }) {
  const page = renderPage(pageId);
  if (name !== undefined) page.querySelector('.realname__name').dispatchEvent('input', { detail: { value: name } });
  if (idNumber !== undefined) {
    page.querySelector('.realname__id-number').dispatchEvent('input', { detail: { value: idNumber } });
  }
  await settle();
  page.querySelector('.realname__submit').dispatchEvent('tap');
  await settle();
  return page;
}

function fieldError(page, field) {
  const node = page.querySelector(`.realname__error--${field}`);
  return node ? textOf(node) : '';
}

test('the form asks for the name and the ID number with the ID-card keyboard', () => {
  loggedIn();
  const page = renderPage(pageId);

  expect(textOf(page)).toContain('姓名');
  expect(textOf(page)).toContain('身份证号');
  expect(page.querySelector('.realname__id-number').toJSON().attrs).toContainEqual({ name: 'type', value: 'idcard' });
});

test('a matched name and ID number are sent and the consent page opens', async () => {
  loggedIn();
  const requests = fakeServer(() => ({ data: { status: 'matched' } }));

  await fillAndSubmit({ name: ' 张三 ', idNumber: '11010519491231002x' });

  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({
    method: 'POST',
    path: '/kyc/realname',
    data: { name: '张三', id_number: ID_NUMBER },
  });
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/consent/index' });
});

test('the server’s validation errors are shown under their own fields', async () => {
  loggedIn();
  fakeServer(() => ({
    status: 422,
    data: errorBody('VALIDATION_FAILED', '提交的信息有误，请检查后重试', {
      fields: { name: ['姓名只能包含中文字符和间隔号'], id_number: ['身份证号码校验位不正确'] },
    }),
  }));

  const page = await fillAndSubmit({ name: 'Zhang San', idNumber: '110105194912310021' });

  expect(fieldError(page, 'name')).toBe('姓名只能包含中文字符和间隔号');
  expect(fieldError(page, 'id-number')).toBe('身份证号码校验位不正确');
  expect(page.querySelector('.realname__error')).toBeUndefined();
  expect(wx.redirectTo).not.toHaveBeenCalled();
});

test('editing a field clears its error', async () => {
  loggedIn();
  fakeServer(() => ({
    status: 422,
    data: errorBody('VALIDATION_FAILED', '提交的信息有误', { fields: { id_number: ['身份证号码校验位不正确'] } }),
  }));
  const page = await fillAndSubmit({ name: '张三', idNumber: '110105194912310021' });

  page.querySelector('.realname__id-number').dispatchEvent('input', { detail: { value: ID_NUMBER } });
  await settle();

  expect(fieldError(page, 'id-number')).toBe('');
});

test('a name that does not match the ID number shows the server’s message', async () => {
  loggedIn();
  fakeServer(() => ({ status: 409, data: errorBody('REALNAME_MISMATCH', '姓名与身份证号码不一致') }));

  const page = await fillAndSubmit({ name: '李四', idNumber: ID_NUMBER });

  expect(textOf(page.querySelector('.realname__error'))).toBe('姓名与身份证号码不一致');
  expect(wx.redirectTo).not.toHaveBeenCalled();
});

test('an unavailable registry is explained, and the form keeps what was typed', async () => {
  loggedIn();
  fakeServer(() => ({ status: 503, data: errorBody('REGISTRY_UNAVAILABLE', '人口信息核验服务暂时不可用，请稍后重试') }));

  const page = await fillAndSubmit({ name: '张三', idNumber: ID_NUMBER });

  expect(textOf(page.querySelector('.realname__error'))).toBe('人口信息核验服务暂时不可用，请稍后重试');
  expect(page.data.idNumber).toBe(ID_NUMBER);
  expect(page.querySelector('.realname__submit').toJSON().attrs).toContainEqual({ name: 'disabled', value: false });
});

test('empty or malformed input is caught before anything is sent', async () => {
  loggedIn();
  const requests = fakeServer(() => ({ data: { status: 'matched' } }));

  const page = await fillAndSubmit({ name: '', idNumber: '1101051949' });

  expect(fieldError(page, 'name')).toBe('请输入姓名');
  expect(fieldError(page, 'id-number')).toBe('身份证号码应为18位，最后一位可以是数字或X');
  expect(requests).toHaveLength(0);
});
