// 谁查看了我的证书: every look at the certificate, newest first, in Chinese.
const { loadPage, renderPage, textOf, wordsOf: words } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, settle } = require('./helpers/fake-wx');
const { NUMBER, BASE } = require('./helpers/certificates');

const ACCESSES = [
  { at: '2026-11-25T06:00:00Z', who: '中国工商银行珠海分行', accessor_type: 'institution', action: 'lookup', outcome: 'denied', basis: null },
  { at: '2026-11-25T07:30:00Z', who: '中国工商银行珠海分行', accessor_type: 'institution', action: 'lookup', outcome: 'allowed', basis: '授权#11：办理抵押贷款' },
  { at: '2026-11-25T05:00:00Z', who: '扫码核验', accessor_type: 'public', action: 'verify', outcome: 'allowed', basis: null },
  { at: '2026-11-25T04:00:00Z', who: '珠海市中级人民法院', accessor_type: 'institution', action: 'verify', outcome: 'allowed', basis: null },
  { at: '2026-11-24T03:02:00Z', who: '本人', accessor_type: 'owner', action: 'download_pdf', outcome: 'allowed', basis: null },
  { at: '2026-11-24T03:01:00Z', who: '本人', accessor_type: 'owner', action: 'view_image', outcome: 'allowed', basis: null },
  { at: '2026-11-24T03:00:00Z', who: '本人', accessor_type: 'owner', action: 'view', outcome: 'allowed', basis: null },
];

let pageId;

beforeAll(() => {
  pageId = loadPage('packageCertificate/pages/accesses/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'stopPullDownRefresh').mockImplementation(() => {});
});

async function openAccesses() {
  const page = renderPage(pageId);
  page.instance.onLoad({ number: encodeURIComponent(NUMBER) });
  await settle();
  return page;
}

test('every access newest first, with Chinese action labels, Beijing time, 已拒绝 and the basis', async () => {
  loggedIn();
  const requests = fakeServer(() => ({ data: ACCESSES }));

  const page = await openAccesses();

  expect(requests.map((req) => `${req.method} ${req.path}`)).toEqual([`GET ${BASE}/accesses`]);
  expect(requests[0].header).not.toHaveProperty('X-Identity-Claim');
  expect(page.querySelectorAll('.access').map(words)).toEqual([
    '中国工商银行珠海分行 机构查询 2026-11-25 15:30 依据：授权#11：办理抵押贷款',
    '中国工商银行珠海分行 机构查询 已拒绝 2026-11-25 14:00',
    '扫码核验 扫码核验 2026-11-25 13:00',
    '珠海市中级人民法院 核验 2026-11-25 12:00',
    '本人 下载 2026-11-24 11:02',
    '本人 查看图片 2026-11-24 11:01',
    '本人 查看内容 2026-11-24 11:00',
  ]);
  const denied = page.querySelectorAll('.access')[1];
  expect(denied.dom.className).toContain('access--denied');
  expect(page.querySelectorAll('.access__denied').map(textOf)).toEqual(['已拒绝']);
});

test('no access yet: 暂无查看记录', async () => {
  loggedIn();
  fakeServer(() => ({ data: [] }));

  const page = await openAccesses();

  expect(textOf(page)).toContain('暂无查看记录');
  expect(page.querySelectorAll('.access')).toHaveLength(0);
});

test('an unknown certificate shows the server’s message', async () => {
  loggedIn();
  fakeServer(() => ({ status: 404, data: errorBody('NOT_FOUND', '未找到该证书') }));

  const page = await openAccesses();

  expect(textOf(page)).toContain('未找到该证书');
  expect(textOf(page)).not.toContain('暂无查看记录');
});

test('a pull-down reloads', async () => {
  loggedIn();
  let answer = [];
  const requests = fakeServer(() => ({ data: answer }));
  const page = await openAccesses();

  answer = ACCESSES.slice(-1);
  await page.instance.onPullDownRefresh();
  await settle();

  expect(requests).toHaveLength(2);
  expect(page.querySelectorAll('.access').map(words)).toEqual(['本人 查看内容 2026-11-24 11:00']);
  expect(wx.stopPullDownRefresh).toHaveBeenCalled();
});
