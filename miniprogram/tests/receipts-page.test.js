// 我的缴费凭证: my paid orders, newest first, in Beijing time and exact yuan; a
// tap opens the items and the refunds.
const { loadPage, renderPage, textOf, textIn, wordsOf: words } = require('./helpers/page');
const { loggedIn, useMemoryStorage, fakeServer, errorBody, NETWORK_FAILURE, settle } = require('./helpers/fake-wx');
const { CASE_NUMBER } = require('./helpers/cases');
const { getReceipt } = require('../services/api');

function receipt(overrides = {}) {
  return {
    kind: 'payment_receipt',
    kind_label: '电子缴费凭证',
    number: 'BDC202611240123456789012',
    issued_at: '2026-11-24T02:40:00Z',
    file_url: null,
    case_number: CASE_NUMBER,
    business_type: { code: 'resale_transfer', name: '存量房转移登记' },
    out_trade_no: 'BDC202611240123456789012',
    gateway: 'wechat',
    gateway_label: '微信支付',
    transaction_id_masked: '**********************456789',
    paid_at: '2026-11-24T02:40:00Z',
    amount_fen: 2158005,
    refunded_fen: 0,
    status: 'paid',
    status_label: '已支付',
    items: [
      { name: '不动产登记费（住宅）', department: 'registration', department_label: '不动产登记中心', amount_fen: 8005, refunded_fen: 0 },
      { name: '契税', department: 'tax', department_label: '税务局', amount_fen: 2150000, refunded_fen: 0 },
    ],
    refunds: [],
    ...overrides,
  };
}

const REFUNDED = receipt({
  number: 'BDC202611250987654321098',
  out_trade_no: 'BDC202611250987654321098',
  paid_at: '2026-11-25T16:30:00Z',
  issued_at: '2026-11-25T16:30:00Z',
  gateway: 'alipay',
  gateway_label: '支付宝',
  transaction_id_masked: '**********************654321',
  refunded_fen: 100000,
  status: 'partially_refunded',
  status_label: '部分退款',
  items: [
    { name: '不动产登记费（住宅）', department: 'registration', department_label: '不动产登记中心', amount_fen: 8005, refunded_fen: 0 },
    { name: '契税', department: 'tax', department_label: '税务局', amount_fen: 2150000, refunded_fen: 100000 },
  ],
  refunds: [{ amount_fen: 100000, refunded_at: '2026-11-26T01:15:00Z' }],
});

function pageOf(items, { page = 1, totalPages = 1 } = {}) {
  const pagination = { total: items.length, total_pages: totalPages, first_page: 1, last_page: totalPages, page };
  if (page < totalPages) pagination.next_page = page + 1; // flask-smorest omits it on the last page
  return { data: items, header: { 'X-Pagination': JSON.stringify(pagination) } };
}

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/receipts/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'reLaunch').mockImplementation(() => {});
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showModal').mockImplementation(() => {});
  jest.spyOn(wx, 'stopPullDownRefresh').mockImplementation(() => {});
});

async function openPage() {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await settle();
  return page;
}

function cards(page) {
  return page.querySelectorAll('.receipt');
}

async function tap(card) {
  card.dispatchEvent('tap');
  await settle();
}

test('lists my receipts with case number, Beijing time, gateway, status and the exact yuan total', async () => {
  loggedIn();
  const requests = fakeServer(() => pageOf([REFUNDED, receipt()]));

  const page = await openPage();

  expect(requests[0].path).toBe('/me/receipts');
  expect(requests[0].query).toEqual({ page: '1', page_size: '20' });
  expect(requests[0].header.Authorization).toBe('Bearer access-1');
  expect(cards(page).map(words)).toEqual([
    `存量房转移登记 部分退款 办件编号 ${CASE_NUMBER} 支付时间 2026-11-26 00:30 支付方式 支付宝 ` +
      '实付金额 21580.05 元 已退金额 1000.00 元 查看明细',
    `存量房转移登记 已支付 办件编号 ${CASE_NUMBER} 支付时间 2026-11-24 10:40 支付方式 微信支付 ` +
      '实付金额 21580.05 元 查看明细',
  ]);
  // Details stay closed until tapped.
  expect(page.querySelector('.receipt__details')).toBeUndefined();
  expect(textOf(page)).not.toContain('456789');
});

test('a tap opens the items with their departments, the masked transaction id and the refunds; a second tap closes them', async () => {
  loggedIn();
  fakeServer(() => pageOf([REFUNDED, receipt()]));
  const page = await openPage();

  await tap(cards(page)[0]);

  expect(page.querySelectorAll('.receipt__details')).toHaveLength(1);
  expect(textIn(cards(page)[0], 'receipt__order')).toBe('BDC202611250987654321098');
  expect(textIn(cards(page)[0], 'receipt__transaction')).toBe('**********************654321');
  expect(page.querySelectorAll('.line').map(words)).toEqual([
    '不动产登记费（住宅） 80.05 元 收款部门：不动产登记中心',
    '契税 21500.00 元 收款部门：税务局 已退 1000.00 元',
  ]);
  expect(page.querySelectorAll('.refund').map(words)).toEqual(['2026-11-26 09:15 退款 1000.00 元']);
  expect(textIn(cards(page)[0], 'receipt__toggle')).toBe('收起明细');
  expect(textIn(cards(page)[1], 'receipt__toggle')).toBe('查看明细');

  await tap(cards(page)[1]);
  expect(page.querySelectorAll('.receipt__details')).toHaveLength(2);
  expect(textIn(cards(page)[1], 'receipt__transaction')).toBe('**********************456789');
  expect(textOf(cards(page)[1])).not.toContain('退款记录');
  expect(page.querySelectorAll('.refund')).toHaveLength(1);

  await tap(cards(page)[0]);
  expect(page.querySelectorAll('.receipt__details')).toHaveLength(1);
  expect(textIn(cards(page)[0], 'receipt__details')).toBeNull();
  expect(textIn(cards(page)[1], 'receipt__order')).toBe('BDC202611240123456789012');
});

test('without receipts the page says 暂无缴费记录', async () => {
  loggedIn();
  fakeServer(() => pageOf([]));

  const page = await openPage();

  expect(cards(page)).toHaveLength(0);
  expect(textOf(page)).toContain('暂无缴费记录');
  expect(textOf(page)).not.toContain('没有更多了');
});

test('a failed first load shows the Chinese message in place of the list; pull down to retry', async () => {
  loggedIn();
  let fail = true;
  const requests = fakeServer(() => (fail ? NETWORK_FAILURE : pageOf([receipt()])));

  const page = await openPage();

  expect(textOf(page)).toContain('网络连接失败，请检查网络后重试');
  expect(textOf(page)).toContain('请下拉刷新重试');
  expect(textOf(page)).not.toContain('暂无缴费记录');

  fail = false;
  await page.instance.onPullDownRefresh();
  await settle();

  expect(requests).toHaveLength(2);
  expect(wx.stopPullDownRefresh).toHaveBeenCalled();
  expect(cards(page)).toHaveLength(1);
  expect(textOf(page)).not.toContain('网络连接失败');
});

test('an error envelope shows the server’s message', async () => {
  loggedIn();
  fakeServer(() => ({ status: 503, data: errorBody('SERVICE_UNAVAILABLE', '服务暂时不可用，请稍后重试') }));

  const page = await openPage();

  expect(textOf(page)).toContain('服务暂时不可用，请稍后重试');
});

test('more receipts load at the bottom; a failure there keeps the list and shows a toast', async () => {
  loggedIn();
  const first = Array.from({ length: 20 }, (_, i) =>
    receipt({ number: `P1${String(i).padStart(4, '0')}`, out_trade_no: `P1${String(i).padStart(4, '0')}` }),
  );
  let failNext = false;
  const requests = fakeServer((req) => {
    if (req.query.page === '1') return pageOf(first, { page: 1, totalPages: 2 });
    if (failNext) return NETWORK_FAILURE;
    return pageOf([receipt({ number: 'P20000', out_trade_no: 'P20000' })], { page: 2, totalPages: 2 });
  });
  const page = await openPage();
  expect(cards(page)).toHaveLength(20);
  expect(textOf(page.querySelector('.receipts__footer'))).toBe('上拉加载更多');

  failNext = true;
  await page.instance.onReachBottom();
  await settle();
  expect(cards(page)).toHaveLength(20);
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: expect.stringContaining('网络连接失败') }));

  failNext = false;
  await page.instance.onReachBottom();
  await settle();
  expect(requests.map((req) => req.query.page)).toEqual(['1', '2', '2']);
  expect(cards(page)).toHaveLength(21);
  expect(textOf(page.querySelector('.receipts__footer'))).toBe('没有更多了');
  await page.instance.onReachBottom();
  expect(requests).toHaveLength(3);
});

test('logged out, the page goes to login without asking the server', async () => {
  useMemoryStorage();
  const requests = fakeServer(() => pageOf([]));

  await openPage();

  expect(wx.reLaunch).toHaveBeenCalledWith({ url: '/pages/login/index' });
  expect(requests).toHaveLength(0);
});

test('getReceipt reads one receipt by its order number', async () => {
  loggedIn();
  const requests = fakeServer(() => ({ data: receipt() }));

  const one = await getReceipt('BDC202611240123456789012');

  expect(requests[0].path).toBe('/me/receipts/BDC202611240123456789012');
  expect(one.amount_fen).toBe(2158005);
});
