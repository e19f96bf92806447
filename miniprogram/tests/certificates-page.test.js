// 我的证书: the list, its empty state, revoked certificates and the way to the viewer.
const { loadPage, renderPage, textOf, textIn, wordsOf: words } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, NETWORK_FAILURE, settle } = require('./helpers/fake-wx');
const { NUMBER, NEW_NUMBER, PROOF_NUMBER, summary, revokedSummary } = require('./helpers/certificates');

let pageId;

beforeAll(() => {
  pageId = loadPage('packageCertificate/pages/list/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'stopPullDownRefresh').mockImplementation(() => {});
});

async function openList() {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  page.instance.onShow();
  await settle();
  return page;
}

test('lists my certificates with kind, status, number, location, unit and issue date', async () => {
  loggedIn();
  const proof = summary({ number: PROOF_NUMBER, kind: 'proof', kind_label: '不动产登记证明', issue_date: '2026-11-26' });
  const requests = fakeServer(() => ({ data: [proof, summary()] }));

  const page = await openList();

  expect(requests.map((req) => `${req.method} ${req.path}`)).toEqual(['GET /certificates']);
  expect(requests[0].header.Authorization).toBe('Bearer access-1');
  const cards = page.querySelectorAll('.certificate');
  expect(cards).toHaveLength(2);
  expect(words(cards[1])).toBe(
    `不动产权证书 有效 ${NUMBER} 坐落 珠海市香洲区海滨南路 88 号 1 栋 2 单元 1203 房 单元号 440402003001GB00012F00010203 发证日期 2026-11-24 查看证书 ›`,
  );
  expect(textIn(cards[0], 'certificate__kind')).toBe('不动产登记证明');
  expect(textIn(cards[0], 'certificate__revoked')).toBeNull();
});

test('a revoked certificate is marked 已作废 with when, why and the number replacing it', async () => {
  loggedIn();
  fakeServer(() => ({ data: [summary({ number: NEW_NUMBER }), revokedSummary()] }));

  const page = await openList();

  const revoked = page.querySelectorAll('.certificate')[1];
  expect(revoked.dom.className).toContain('certificate--revoked');
  expect(textIn(revoked, 'certificate__status')).toBe('已作废');
  expect(textIn(revoked, 'certificate__revoked-title')).toBe('本证书已作废（2026-11-25 10:30）');
  expect(textIn(revoked, 'certificate__revoked-reason')).toBe('原因：记载有误（坐落）：门牌号有误');
  expect(textIn(revoked, 'certificate__replaced')).toBe(`已换发新证：${NEW_NUMBER} ›`);

  page.querySelector('.certificate__replaced').dispatchEvent('tap');
  await settle();
  expect(wx.navigateTo).toHaveBeenCalledTimes(1);
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/certificate/index?number=${encodeURIComponent(NEW_NUMBER)}` });
});

test('a tap on a certificate opens the viewer with its number encoded', async () => {
  loggedIn();
  fakeServer(() => ({ data: [summary()] }));
  const page = await openList();

  page.querySelector('.certificate').dispatchEvent('tap');
  await settle();

  expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/certificate/index?number=${encodeURIComponent(NUMBER)}` });
});

test('no certificate yet: 暂无电子证书', async () => {
  loggedIn();
  fakeServer(() => ({ data: [] }));

  const page = await openList();

  expect(textOf(page)).toContain('暂无电子证书');
  expect(page.querySelectorAll('.certificate')).toHaveLength(0);
});

test('a failed load says why, and a pull-down tries again', async () => {
  loggedIn();
  let fail = true;
  fakeServer(() => (fail ? NETWORK_FAILURE : { data: [summary()] }));
  const page = await openList();

  expect(textOf(page)).toContain('网络连接失败，请检查网络后重试');
  expect(textOf(page)).not.toContain('暂无电子证书');

  fail = false;
  await page.instance.onPullDownRefresh();
  await settle();
  expect(page.querySelectorAll('.certificate')).toHaveLength(1);
  expect(wx.stopPullDownRefresh).toHaveBeenCalled();
});

test('coming back to the list reloads it (a correction may have replaced a certificate)', async () => {
  loggedIn();
  let answer = [summary()];
  const requests = fakeServer(() => ({ data: answer }));
  const page = await openList();

  answer = [summary({ number: NEW_NUMBER }), revokedSummary()];
  page.instance.onShow();
  await settle();

  expect(requests).toHaveLength(2);
  expect(page.querySelectorAll('.certificate__status').map(textOf)).toEqual(['有效', '已作废']);
});

test('a reload that fails keeps the list and shows the message', async () => {
  loggedIn();
  let fail = false;
  fakeServer(() => (fail ? { status: 500, data: errorBody('SERVER_ERROR', '服务暂时不可用') } : { data: [summary()] }));
  const page = await openList();

  fail = true;
  page.instance.onShow();
  await settle();

  expect(page.querySelectorAll('.certificate')).toHaveLength(1);
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '服务暂时不可用' }));
});
