// 我的缴费凭证: my paid orders and the e-bills issued for them, newest first, in
// Beijing time and exact yuan; a tap opens the items and the refunds, or a
// bill's identifiers; 下载 opens a bill's PDF.
const { loadPage, renderPage, textOf, textIn, wordsOf: words } = require('./helpers/page');
const {
  loggedIn,
  useMemoryStorage,
  fakeServer,
  fakeDownloads,
  errorBody,
  NETWORK_FAILURE,
  settle,
} = require('./helpers/fake-wx');
const { CASE_NUMBER } = require('./helpers/cases');
const { getReceipt } = require('../services/receipts');

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

function ebill(overrides = {}) {
  return {
    kind: 'fiscal_ebill',
    kind_label: '财政电子票据',
    number: '44062601-0000000001',
    issued_at: '2026-11-24T02:41:00Z',
    file_url: '/api/me/receipts/ebills/7.pdf',
    case_number: CASE_NUMBER,
    business_type: { code: 'resale_transfer', name: '存量房转移登记' },
    out_trade_no: 'BDC202611240123456789012',
    paid_at: '2026-11-24T02:40:00Z',
    amount_fen: 8005,
    status: 'issued',
    status_label: '已开具',
    items: [{ name: '不动产登记费（住宅）', amount_fen: 8005 }],
    bill_code: '44062601',
    bill_number: '0000000001',
    check_code: '3FA9C1',
    issuer_name: '珠海市不动产登记中心',
    verify_url: 'http://127.0.0.1:8001/ebills/verify?code=44062601&number=0000000001&check=3FA9C1',
    voided_at: null,
    note: null,
    ...overrides,
  };
}

const VOIDED_TAX = ebill({
  kind: 'tax_certificate',
  kind_label: '税收完税证明',
  number: '44122601-0000000001',
  file_url: '/api/me/receipts/ebills/8.pdf',
  amount_fen: 2150000,
  status: 'voided',
  status_label: '已红冲',
  items: [{ name: '契税', amount_fen: 2150000 }],
  bill_code: '44122601',
  check_code: '7B20DE',
  issuer_name: '国家税务总局珠海市税务局',
  voided_at: '2026-11-26T01:20:00Z',
  note: '该票据已红冲作废（对应款项已全额退还）',
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

describe('e-bills', () => {
  beforeEach(() => {
    jest.spyOn(wx, 'showLoading').mockImplementation(() => {});
    jest.spyOn(wx, 'hideLoading').mockImplementation(() => {});
  });

  test('are listed with their number, issue time, amount and issuer and a 下载 button; a voided one says so in red', async () => {
    loggedIn();
    fakeServer(() => pageOf([VOIDED_TAX, ebill(), receipt()]));

    const page = await openPage();

    expect(cards(page).map(words)).toEqual([
      `税收完税证明 已红冲 办件编号 ${CASE_NUMBER} 票据号码 44122601-0000000001 开票时间 2026-11-24 10:41 ` +
        '票面金额 21500.00 元 开票单位 国家税务总局珠海市税务局 该票据已红冲作废（对应款项已全额退还） 查看明细',
      `财政电子票据 已开具 办件编号 ${CASE_NUMBER} 票据号码 44062601-0000000001 开票时间 2026-11-24 10:41 ` +
        '票面金额 80.05 元 开票单位 珠海市不动产登记中心 查看明细',
      `存量房转移登记 已支付 办件编号 ${CASE_NUMBER} 支付时间 2026-11-24 10:40 支付方式 微信支付 ` +
        '实付金额 21580.05 元 查看明细',
    ]);
    expect(cards(page).map((card) => textIn(card, 'receipt__download'))).toEqual(['下载', '下载', null]);
    expect(textIn(cards(page)[0], 'receipt__note')).toBe('该票据已红冲作废（对应款项已全额退还）');
    expect(textIn(cards(page)[1], 'receipt__note')).toBeNull();
  });

  test('下载 fetches the PDF with the token and opens it, without opening the details', async () => {
    loggedIn('access-9');
    fakeServer(() => pageOf([ebill()]));
    const downloads = fakeDownloads(() => ({ tempFilePath: 'wxfile://tmp/ebill-7.pdf' }));
    jest.spyOn(wx, 'openDocument').mockImplementation((o) => o.success({}));
    const page = await openPage();

    await tap(page.querySelector('.receipt__download'));

    expect(downloads).toEqual([
      { url: 'http://127.0.0.1:8000/api/me/receipts/ebills/7.pdf', header: { Authorization: 'Bearer access-9' } },
    ]);
    expect(wx.openDocument).toHaveBeenCalledWith(
      expect.objectContaining({ filePath: 'wxfile://tmp/ebill-7.pdf', fileType: 'pdf' }),
    );
    expect(wx.showLoading).toHaveBeenCalledWith(expect.objectContaining({ title: '正在下载' }));
    expect(wx.hideLoading).toHaveBeenCalled();
    expect(page.querySelector('.receipt__details')).toBeUndefined();
  });

  test('a bill that cannot be downloaded says why; closing the viewer is no error', async () => {
    loggedIn();
    fakeServer(() => pageOf([ebill()]));
    let status = 404;
    fakeDownloads(() => ({ status, tempFilePath: 'wxfile://tmp/ebill-7.pdf' }));
    jest.spyOn(wx, 'openDocument').mockImplementation((o) => o.fail({ errMsg: 'openDocument:fail cancel' }));
    const page = await openPage();

    await tap(page.querySelector('.receipt__download'));
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '文件不存在或已被撤回' }));
    expect(wx.openDocument).not.toHaveBeenCalled();
    expect(wx.hideLoading).toHaveBeenCalledTimes(1);

    status = 200;
    wx.showToast.mockClear();
    await tap(page.querySelector('.receipt__download'));
    expect(wx.openDocument).toHaveBeenCalledTimes(1);
    expect(wx.showToast).not.toHaveBeenCalled();
    expect(wx.showModal).not.toHaveBeenCalled();
  });

  test('a tap opens the bill code, number, check code, the order and the items', async () => {
    loggedIn();
    fakeServer(() => pageOf([VOIDED_TAX]));
    const page = await openPage();

    await tap(cards(page)[0]);

    const card = cards(page)[0];
    expect(textIn(card, 'receipt__bill-code')).toBe('44122601');
    expect(textIn(card, 'receipt__bill-number')).toBe('0000000001');
    expect(textIn(card, 'receipt__check-code')).toBe('7B20DE');
    expect(textIn(card, 'receipt__order')).toBe('BDC202611240123456789012');
    expect(page.querySelectorAll('.line').map(words)).toEqual(['契税 21500.00 元']);
    expect(textOf(card)).not.toContain('收款部门');
  });
});
