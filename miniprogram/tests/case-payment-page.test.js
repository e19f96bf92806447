// 缴纳税费: the assessed items, one button, and a result believed only from the server.
const { loadPage, renderPage, textOf, wordsOf: words } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody } = require('./helpers/fake-wx');
const { CASE_NUMBER } = require('./helpers/cases');

const FEES = {
  case_number: CASE_NUMBER,
  items: [
    { item: 'deed_tax', name: '契税', department: 'tax', department_label: '税务局', amount_fen: 4567891, basis: '计税价格×1%', exempt: false },
    { item: 'stamp_duty', name: '印花税', department: 'tax', department_label: '税务局', amount_fen: 0, basis: '个人住房交易免征', exempt: true },
    { item: 'registration_fee', name: '不动产登记费', department: 'registration', department_label: '不动产登记中心', amount_fen: 8005, basis: '住宅每件80元', exempt: false },
  ],
  total_fen: 4575896,
  assessed_at: '2026-11-24T02:30:00Z',
};

const CLIENT_PARAMS = { timeStamp: '1795400000', nonceStr: 'n0nce', package: 'prepay_id=wx123', signType: 'RSA', paySign: 'c2lnbg==' };

function order(status = 'paying') {
  return {
    out_trade_no: 'PAY2026112400001',
    gateway: 'wechat',
    status,
    status_label: status === 'paid' ? '已支付' : '支付中',
    amount_fen: 4575896,
    expires_at: '2026-11-24T03:00:00Z',
    paid_at: status === 'paid' ? '2026-11-24T02:40:00Z' : null,
    client_params: CLIENT_PARAMS,
    pay_url: null,
    items: FEES.items,
  };
}

const CLAIM = { token: 'claim-1', expiresAt: Date.now() + 3600000 };

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/case-payment/index');
});

beforeEach(() => {
  jest.useFakeTimers();
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showModal').mockImplementation((o) => o.success({ confirm: false }));
});

afterEach(() => {
  jest.useRealTimers();
});

// Lets pending promises run and moves the fake clock on by `ms`.
async function flush(ms = 0) {
  for (let i = 0; i < 5; i += 1) await jest.advanceTimersByTimeAsync(0);
  if (ms) await jest.advanceTimersByTimeAsync(ms);
  for (let i = 0; i < 5; i += 1) await jest.advanceTimersByTimeAsync(0);
}

// `paidAfter`: how many GET /payments reads answer `paying` before `paid`
// (Infinity: never paid).
function server({ paidAfter = Infinity, create } = {}) {
  let reads = 0;
  return fakeServer((req) => {
    if (req.path === `/cases/${CASE_NUMBER}/fees`) return { data: FEES };
    if (req.path === `/cases/${CASE_NUMBER}/payments`) return create ? create(req) : { status: 201, data: order() };
    if (req.path === '/payments/PAY2026112400001') {
      reads += 1;
      return { data: order(reads > paidAfter ? 'paid' : 'paying') };
    }
    return { status: 404, data: errorBody('NOT_FOUND', '不存在') };
  });
}

async function openPayment() {
  const page = renderPage(pageId);
  page.instance.onLoad({ case_number: CASE_NUMBER });
  await flush();
  return page;
}

async function tapPay(page) {
  page.querySelector('.actions__pay').dispatchEvent('tap');
  await flush();
}

function payments(requests) {
  return requests.filter((req) => req.path === '/payments/PAY2026112400001');
}

test('every item with its department, basis and exact yuan amount, 免收 for an exempt one, and the total', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  const requests = server();

  const page = await openPayment();

  expect(requests[0].path).toBe(`/cases/${CASE_NUMBER}/fees`);
  expect(page.querySelectorAll('.fee').map(words)).toEqual([
    '契税 45678.91 元 税务局 计税价格×1%',
    '印花税 免收 税务局 个人住房交易免征',
    '不动产登记费 80.05 元 不动产登记中心 住宅每件80元',
  ]);
  expect(textOf(page.querySelector('.total__amount'))).toBe('45758.96 元');
  expect(textOf(page.querySelector('.payment__assessed'))).toBe('核定时间：2026-11-24 10:30');
  expect(textOf(page.querySelector('.actions__pay'))).toBe('一键缴费');
});

test('the success callback alone shows nothing: 支付成功 only once the server says paid', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  const requests = server({ paidAfter: 2 });
  jest.spyOn(wx, 'requestPayment').mockImplementation((o) => o.success({ errMsg: 'requestPayment:ok' }));
  const page = await openPayment();

  await tapPay(page);

  const create = requests.find((req) => req.path === `/cases/${CASE_NUMBER}/payments`);
  expect(create.method).toBe('POST');
  expect(create.data).toEqual({ gateway: 'wechat' });
  expect(create.header['X-Identity-Claim']).toBe('claim-1');
  expect(wx.requestPayment).toHaveBeenCalledWith(expect.objectContaining(CLIENT_PARAMS));
  expect(payments(requests)).toHaveLength(1);
  expect(textOf(page)).not.toContain('支付成功');
  expect(textOf(page.querySelector('.result'))).toBe('正在确认支付结果…');

  await flush(2000);
  expect(payments(requests)).toHaveLength(2);
  expect(textOf(page)).not.toContain('支付成功');

  await flush(2000);
  expect(payments(requests)).toHaveLength(3);
  expect(textOf(page.querySelector('.result'))).toBe('支付成功');
  expect(page.querySelector('.actions__pay')).toBeUndefined();
});

test('when the server never says paid within about 30 s, the result is left to the case detail', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  const requests = server();
  jest.spyOn(wx, 'requestPayment').mockImplementation((o) => o.success({ errMsg: 'requestPayment:ok' }));
  const page = await openPayment();

  await tapPay(page);
  await flush(30000);

  expect(payments(requests)).toHaveLength(15);
  expect(textOf(page)).not.toContain('支付成功');
  expect(textOf(page.querySelector('.result'))).toBe('支付结果确认中，请稍后在办件详情查看');
  await flush(10000);
  expect(payments(requests)).toHaveLength(15);
});

test('a cancel shows 已取消支付 and a retry pays the same order', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  const requests = server({ paidAfter: 1 });
  jest
    .spyOn(wx, 'requestPayment')
    .mockImplementationOnce((o) => o.fail({ errMsg: 'requestPayment:fail cancel' }))
    .mockImplementationOnce((o) => o.success({ errMsg: 'requestPayment:ok' }));
  const page = await openPayment();

  await tapPay(page);

  expect(payments(requests)).toHaveLength(1); // the server is asked even after a cancel
  expect(textOf(page.querySelector('.result'))).toBe('已取消支付');
  expect(textOf(page.querySelector('.actions__pay'))).toBe('一键缴费');

  await tapPay(page);

  const creates = requests.filter((req) => req.path === `/cases/${CASE_NUMBER}/payments`);
  expect(creates).toHaveLength(2);
  expect(wx.requestPayment).toHaveBeenCalledTimes(2);
  expect(wx.requestPayment.mock.calls[1][0]).toMatchObject(CLIENT_PARAMS);
  expect(textOf(page.querySelector('.result'))).toBe('支付成功');
});

test('a 409 shows the server’s message and does not open the payment', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server({ create: () => ({ status: 409, data: errorBody('CASE_STATE_CONFLICT', '当前没有待缴纳的税费') }) });
  jest.spyOn(wx, 'requestPayment').mockImplementation(() => {});
  const page = await openPayment();

  await tapPay(page);

  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '当前没有待缴纳的税费' }));
  expect(wx.requestPayment).not.toHaveBeenCalled();
  expect(textOf(page)).not.toContain('支付成功');
  expect(page.instance.data.paying).toBe(false);
});

test('without a claim the verification journey is offered first', async () => {
  loggedIn();
  const requests = server({
    create: () => ({ status: 403, data: errorBody('IDENTITY_CLAIM_REQUIRED', '请先完成人脸核验') }),
  });
  jest.spyOn(wx, 'requestPayment').mockImplementation(() => {});
  const page = await openPayment();

  await tapPay(page);

  const create = requests.find((req) => req.path === `/cases/${CASE_NUMBER}/payments`);
  expect(create.header['X-Identity-Claim']).toBeUndefined();
  expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '需要身份核验' }));
  expect(wx.showModal.mock.calls[0][0].content).toContain('缴纳税费');
  expect(wx.requestPayment).not.toHaveBeenCalled();
});
