// 报告证书错误: the item and the description, checked here as the server checks
// them; the answer deadline in Beijing time; 409 and 422 in plain words; the
// earlier reports with their answers and the re-issued certificate.
const { loadPage, renderPage, textOf, wordsOf: words } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, settle } = require('./helpers/fake-wx');
const { NUMBER, NEW_NUMBER, BASE, CLAIM } = require('./helpers/certificates');

const ITEMS = ['权利人', '共有情况', '坐落', '不动产单元号', '权利类型', '权利性质', '用途', '面积', '使用期限', '权利其他状况', '附记', '其他'];

function request(overrides = {}) {
  return {
    id: 1,
    item: '坐落',
    description: '门牌号应为 1203 房，证书写成 1230 房',
    status: 'open',
    status_label: '处理中',
    created_at: '2026-11-24T02:00:00Z',
    due_at: '2026-11-25T10:00:00Z',
    clock_label: '今日到期',
    overdue: false,
    answered_at: null,
    outcome: null,
    outcome_label: null,
    answer: null,
    new_certificate: null,
    ...overrides,
  };
}

const ANSWERED = request({
  status: 'answered',
  status_label: '已答复',
  clock_label: null,
  answered_at: '2026-11-24T08:30:00Z',
  outcome: 'reissued',
  outcome_label: '已作废并换发新证',
  answer: '经核查门牌号记载有误，已换发新证',
  new_certificate: NEW_NUMBER,
});

let pageId;

beforeAll(() => {
  pageId = loadPage('packageCertificate/pages/correction/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showModal').mockImplementation((o) => o.success({ confirm: true }));
  jest.spyOn(wx, 'stopPullDownRefresh').mockImplementation(() => {});
});

// `report(req)` answers the POST; the history starts as `history`.
function server({ history = [], report } = {}) {
  let list = history;
  return fakeServer((req) => {
    if (req.path === `${BASE}/corrections` && req.method === 'GET') return { data: list };
    if (req.path === `${BASE}/corrections` && req.method === 'POST') {
      if (report) return report(req);
      const created = request({ id: list.length + 1, item: req.data.item, description: req.data.description, clock_label: null });
      list = list.concat([created]);
      return { status: 201, data: created };
    }
    if (req.path === '/kyc/status') return { data: { identity_verified: true, consent_version: 'v1', provider: 'wechat' } };
    return { status: 404, data: errorBody('NOT_FOUND', '未找到') };
  });
}

async function openCorrection() {
  const page = renderPage(pageId);
  page.instance.onLoad({ number: encodeURIComponent(NUMBER) });
  page.instance.onShow();
  await settle();
  return page;
}

async function fill(page, item, description) {
  if (item !== undefined) page.instance.onItemChange({ detail: { value: String(ITEMS.indexOf(item)) } });
  if (description !== undefined) page.instance.onDescriptionInput({ detail: { value: description } });
  await settle();
}

async function submit(page) {
  page.querySelector('.correction__submit').dispatchEvent('tap');
  await settle();
}

function posts(requests) {
  return requests.filter((req) => req.method === 'POST');
}

test('the form offers the twelve items; the history is empty at first', async () => {
  loggedIn();
  const requests = server();

  const page = await openCorrection();

  expect(requests.map((req) => `${req.method} ${req.path}`)).toEqual([`GET ${BASE}/corrections`]);
  expect(page.instance.data.items).toEqual(ITEMS);
  expect(textOf(page.querySelector('.correction__item'))).toBe('请选择 ›');
  expect(textOf(page.querySelector('.correction__empty'))).toBe('暂无更正申请');
});

test('a report is sent with the item and the trimmed description and the claim; the deadline is shown in Beijing time', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  const requests = server({ history: [ANSWERED] });
  const page = await openCorrection();

  await fill(page, '坐落', '  门牌号应为 1203 房，证书写成 1230 房  ');
  expect(textOf(page.querySelector('.form-field__count'))).toBe('28/500');
  await submit(page);

  const [post] = posts(requests);
  expect(post.path).toBe(`${BASE}/corrections`);
  expect(post.data).toEqual({ item: '坐落', description: '门牌号应为 1203 房，证书写成 1230 房' });
  expect(post.header['X-Identity-Claim']).toBe('claim-1');
  expect(textOf(page.querySelector('.correction__submitted'))).toBe('已提交，将于 2026-11-25 18:00 前答复');
  // The new open request comes first and no second report is offered meanwhile.
  expect(page.querySelectorAll('.request__status').map(textOf)).toEqual(['处理中', '已答复']);
  expect(page.querySelector('.correction__submit')).toBeUndefined();
  expect(textOf(page.querySelector('.correction__open-note'))).toContain('正在处理中');
});

test.each([
  ['no item', undefined, '门牌号有误，应为1203', { item: '请选择有误的记载事项' }],
  ['a description of 3 characters', '坐落', '有误了', { description: '请说明哪里有误、正确应为什么（4 至 500 字）' }],
  ['blanks only', '面积', '        ', { description: '请说明哪里有误、正确应为什么（4 至 500 字）' }],
  ['501 characters', '附记', '错'.repeat(501), { description: '请说明哪里有误、正确应为什么（4 至 500 字）' }],
])('%s is refused before sending', async (_, item, description, errors) => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  const requests = server();
  const page = await openCorrection();

  await fill(page, item, description);
  await submit(page);

  expect(posts(requests)).toHaveLength(0);
  expect(page.instance.data.fieldErrors).toEqual(errors);
  if (errors.item) expect(textOf(page.querySelector('.error--item'))).toBe(errors.item);
  if (errors.description) expect(textOf(page.querySelector('.error--description'))).toBe(errors.description);
});

test('lengths count characters as the server does: four emoji are four characters, 500 are allowed', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  // The history stays empty, so the form stays open for a second report.
  const requests = server({ report: (req) => ({ status: 201, data: request({ description: req.data.description }) }) });
  const page = await openCorrection();

  await fill(page, '其他', '🏠🏠🏠🏠');
  await submit(page);
  await fill(page, '其他', '错'.repeat(500));
  await submit(page);

  expect(posts(requests).map((req) => Array.from(req.data.description).length)).toEqual([4, 500]);
});

test('409: the open request is named in plain words and the history reloads', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  const requests = server({ report: () => ({ status: 409, data: errorBody('CASE_STATE_CONFLICT', '该证书已有处理中的更正申请，请等待答复') }) });
  const page = await openCorrection();

  await fill(page, '用途', '用途应为住宅，证书写成商业');
  await submit(page);

  expect(textOf(page.querySelector('.correction__error'))).toBe('该证书已有处理中的更正申请，请等待答复');
  expect(requests.filter((req) => req.method === 'GET')).toHaveLength(2);
  expect(page.querySelector('.correction__submitted')).toBeUndefined();
});

test('422: the server’s field errors appear under the fields, others above the button', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server({
    report: () => ({
      status: 422,
      data: errorBody('VALIDATION_FAILED', '提交的信息有误，请检查后重试', {
        fields: { item: ['请选择有误的记载事项'], description: ['请说明哪里有误、正确应为什么（4 至 500 字）'], other: ['未知字段'] },
      }),
    }),
  });
  const page = await openCorrection();

  await fill(page, '面积', '面积应为 89.50 平方米');
  await submit(page);

  expect(textOf(page.querySelector('.error--item'))).toBe('请选择有误的记载事项');
  expect(textOf(page.querySelector('.error--description'))).toBe('请说明哪里有误、正确应为什么（4 至 500 字）');
  expect(textOf(page.querySelector('.correction__error'))).toBe('未知字段');
  expect(page.instance.data.submitting).toBe(false);
});

test('422 without field errors shows the message', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server({ report: () => ({ status: 422, data: errorBody('VALIDATION_FAILED', '提交的信息有误，请检查后重试') }) });
  const page = await openCorrection();

  await fill(page, '面积', '面积应为 89.50 平方米');
  await submit(page);

  expect(textOf(page.querySelector('.correction__error'))).toBe('提交的信息有误，请检查后重试');
});

test('without a claim verification is offered, and the report is sent on return', async () => {
  const store = loggedIn();
  const requests = server({
    report: (req) =>
      req.header['X-Identity-Claim']
        ? { status: 201, data: request({ item: req.data.item, description: req.data.description }) }
        : { status: 403, data: errorBody('IDENTITY_CLAIM_REQUIRED', '请先完成人脸核验') },
  });
  const page = await openCorrection();

  await fill(page, '权利人', '共有人姓名应为李梅，证书写成李海');
  await submit(page);

  expect(wx.showModal.mock.calls[0][0]).toMatchObject({ title: '需要身份核验' });
  expect(wx.showModal.mock.calls[0][0].content).toContain('报告证书错误前需要进行人脸核验');
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/wechat/index' });
  expect(page.querySelector('.correction__submitted')).toBeUndefined();

  store.set('kyc.claim', CLAIM);
  page.instance.onShow();
  await settle();

  const sent = posts(requests);
  expect(sent).toHaveLength(2);
  expect(sent[1].data).toEqual({ item: '权利人', description: '共有人姓名应为李梅，证书写成李海' });
  expect(textOf(page.querySelector('.correction__submitted'))).toBe('已提交，将于 2026-11-25 18:00 前答复');
});

test('the history: an open request with its deadline, clock and 已超期; an answer with its outcome and the new certificate', async () => {
  loggedIn();
  server({
    history: [
      ANSWERED,
      request({ id: 2, item: '面积', description: '面积应为 89.50 平方米', created_at: '2026-11-26T01:00:00Z', due_at: '2026-11-27T10:00:00Z', clock_label: '已超期 1 个工作日', overdue: true }),
    ],
  });

  const page = await openCorrection();

  const entries = page.querySelectorAll('.request');
  expect(entries.map(words)).toEqual([
    '面积 已超期 处理中 面积应为 89.50 平方米 提交时间：2026-11-26 09:00 答复期限：2026-11-27 18:00（已超期 1 个工作日）',
    `坐落 已答复 门牌号应为 1203 房，证书写成 1230 房 提交时间：2026-11-24 10:00 已作废并换发新证 经核查门牌号记载有误，已换发新证 答复时间：2026-11-24 16:30 查看新证书：${NEW_NUMBER} ›`,
  ]);
  // An open request: no second report meanwhile.
  expect(page.querySelector('.correction__submit')).toBeUndefined();

  page.querySelector('.request__new').dispatchEvent('tap');
  await settle();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/certificate/index?number=${encodeURIComponent(NEW_NUMBER)}` });
});
