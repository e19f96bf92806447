// 纸质证书寄递/领取: the parcel's status and route, the documents travelling together,
// and the holder's pickup code with its QR (downloaded with the bearer token).
const { loadPage, renderPage, textOf, wordsOf: words } = require('./helpers/page');
const { API_BASE, loggedIn, fakeServer, fakeDownloads, errorBody, settle } = require('./helpers/fake-wx');

const CASE_NUMBER = 'ZH2026112300001';
const DELIVERY_NUMBER = `${CASE_NUMBER}-0`;
const LIST_PATH = `/cases/${CASE_NUMBER}/deliveries`;
const QR_URL = `${API_BASE}${LIST_PATH}/${encodeURIComponent(DELIVERY_NUMBER)}/pickup-qr`;
const QR_PATH = 'wxfile://tmp/pickup-qr.png';

const DOCUMENTS = [
  { kind: 'certificate', title: '不动产权证书', number: '粤（2026）珠海市不动产权第0000123号' },
  { kind: 'ebill', title: '财政电子票据', number: '4400260000001234' },
  { kind: 'ebill', title: '税收完税证明', number: '344026000000567' },
];

function delivery(overrides = {}) {
  return {
    number: DELIVERY_NUMBER,
    method: 'mail',
    method_label: '邮寄',
    status: 'shipped',
    status_label: '已寄出',
    recipient_masked: '张*',
    phone_masked: '138****0001',
    address_masked: '广东省珠海市香洲区****',
    documents: DOCUMENTS,
    courier: '顺丰速运',
    tracking_number: 'SF1234567890123',
    events: [
      { at: '2026-11-24T15:20:00+08:00', at_local: '2026-11-24 15:20', op_code: '30', place: '珠海', remark: '快件已到达 珠海香洲集散中心' },
      { at: '2026-11-24T10:30:00+08:00', at_local: '2026-11-24 10:30', op_code: '50', place: '珠海', remark: '顺丰速运 已收取快件' },
    ],
    shipped_at: '2026-11-24T02:30:00Z',
    finished_at: null,
    pickup_code: '12345678',
    ...overrides,
  };
}

const WINDOW_READY = delivery({
  method: 'window',
  method_label: '窗口领取',
  status: 'ready',
  status_label: '可到窗口领取',
  phone_masked: '',
  address_masked: null,
  courier: null,
  tracking_number: null,
  events: [],
  shipped_at: null,
  pickup_code: '87654321',
});

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/delivery/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showModal').mockImplementation(() => {});
  jest.spyOn(wx, 'stopPullDownRefresh').mockImplementation(() => {});
  jest.spyOn(wx, 'setClipboardData').mockImplementation((o) => o.success({ errMsg: 'setClipboardData:ok' }));
});

// `answer(request)` replaces the list's answer.
function server(answer) {
  return fakeServer((req) => {
    if (req.path === LIST_PATH) return answer(req);
    return { status: 404, data: errorBody('NOT_FOUND', '未找到') };
  });
}

function qrDownloads(handler = () => ({ tempFilePath: QR_PATH })) {
  return fakeDownloads(handler);
}

async function openPage(caseNumber = CASE_NUMBER) {
  const page = renderPage(pageId);
  page.instance.onLoad({ case_number: encodeURIComponent(caseNumber) });
  await settle();
  return page;
}

async function tap(page, selector) {
  page.querySelector(selector).dispatchEvent('tap');
  await settle();
}

function attr(node, name) {
  const found = node.toJSON().attrs.find((a) => a.name === name);
  return found && found.value;
}

test('a shipped parcel: status, courier and tracking number, masked recipient, route, documents, code and its QR', async () => {
  loggedIn();
  const requests = server(() => ({ data: [delivery()] }));
  const files = qrDownloads();

  const page = await openPage();

  expect(requests.map((req) => `${req.method} ${req.path}`)).toEqual([`GET ${LIST_PATH}`]);
  expect(requests[0].header.Authorization).toBe('Bearer access-1');
  expect(textOf(page.querySelector('.delivery__method'))).toBe('纸质证书 · 邮寄');
  expect(textOf(page.querySelector('.delivery__status'))).toBe('已寄出');
  expect(words(page.querySelector('.delivery__tracking'))).toBe('顺丰速运 SF1234567890123');
  expect(textOf(page.querySelector('.delivery__copy'))).toBe('复制单号');
  expect(textOf(page.querySelector('.delivery__recipient'))).toBe('张*');
  expect(textOf(page.querySelector('.delivery__phone'))).toBe('138****0001');
  expect(textOf(page.querySelector('.delivery__address'))).toBe('广东省珠海市香洲区****');

  // The route, newest first, each with its Beijing time.
  expect(page.querySelectorAll('.route__entry').map(words)).toEqual([
    '快件已到达 珠海香洲集散中心 2026-11-24 15:20',
    '顺丰速运 已收取快件 2026-11-24 10:30',
  ]);

  expect(textOf(page.querySelector('.documents__note'))).toBe('同一办件的证书和票据一并寄递');
  expect(page.querySelectorAll('.documents__item').map(words)).toEqual([
    '不动产权证书 粤（2026）珠海市不动产权第0000123号',
    '财政电子票据 4400260000001234',
    '税收完税证明 344026000000567',
  ]);

  // The sign-off code, grouped 4 + 4, and its QR downloaded with the token.
  expect(textOf(page.querySelector('.code .section__title'))).toBe('签收码');
  expect(textOf(page.querySelector('.code__digits'))).toBe('1234 5678');
  // Read out digit by digit (aria-label), not as one large number.
  expect(page.instance.data.deliveries[0].codeSpoken).toBe('1 2 3 4 5 6 7 8');
  expect(textOf(page.querySelector('.code__hint'))).toBe('签收或窗口领取时出示，请勿告诉他人');
  expect(files).toEqual([{ url: QR_URL, header: { Authorization: 'Bearer access-1' } }]);
  expect(attr(page.querySelector('.code__qr'), 'src')).toBe(QR_PATH);
  expect(page.querySelector('.delivery__note')).toBeUndefined();
});

test('复制单号 copies the tracking number', async () => {
  loggedIn();
  server(() => ({ data: [delivery()] }));
  qrDownloads();
  const page = await openPage();

  await tap(page, '.delivery__copy');

  expect(wx.setClipboardData).toHaveBeenCalledWith(expect.objectContaining({ data: 'SF1234567890123' }));
  expect(wx.showToast).not.toHaveBeenCalled();
});

test('a copy that fails says how to copy by hand', async () => {
  loggedIn();
  server(() => ({ data: [delivery()] }));
  qrDownloads();
  wx.setClipboardData.mockImplementation((o) => o.fail({ errMsg: 'setClipboardData:fail' }));
  const page = await openPage();

  await tap(page, '.delivery__copy');

  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '复制失败，请长按单号复制' }));
});

test('ready at the window: the pickup code and QR, the window hint, no courier or route', async () => {
  loggedIn();
  server(() => ({ data: [WINDOW_READY] }));
  const files = qrDownloads();

  const page = await openPage();

  expect(textOf(page.querySelector('.delivery__method'))).toBe('纸质证书 · 窗口领取');
  expect(textOf(page.querySelector('.delivery__status'))).toBe('可到窗口领取');
  expect(page.querySelector('.delivery__tracking')).toBeUndefined();
  expect(page.querySelector('.delivery__copy')).toBeUndefined();
  expect(page.querySelector('.delivery__address')).toBeUndefined();
  expect(page.querySelector('.route')).toBeUndefined();
  expect(textOf(page.querySelector('.code .section__title'))).toBe('取件码');
  expect(textOf(page.querySelector('.code__digits'))).toBe('8765 4321');
  expect(textOf(page.querySelector('.code__hint'))).toContain('请携带身份证件到登记中心窗口领取');
  expect(textOf(page.querySelector('.documents__note'))).toBe('同一办件的证书和票据一并领取');
  expect(files).toEqual([{ url: QR_URL, header: { Authorization: 'Bearer access-1' } }]);
  expect(attr(page.querySelector('.code__qr'), 'src')).toBe(QR_PATH);
});

test('a parcel returned to the centre keeps its route and sends the citizen to the window', async () => {
  loggedIn();
  server(() => ({
    data: [delivery({ status: 'returned', status_label: '已退回登记中心，请到窗口领取' })],
  }));
  qrDownloads();

  const page = await openPage();

  expect(textOf(page.querySelector('.delivery__status'))).toBe('已退回登记中心，请到窗口领取');
  expect(page.querySelectorAll('.route__entry')).toHaveLength(2);
  expect(textOf(page.querySelector('.code .section__title'))).toBe('取件码');
  expect(textOf(page.querySelector('.code__hint'))).toContain('请携带身份证件到登记中心窗口领取');
});

test('collected: no code and no QR request', async () => {
  loggedIn();
  server(() => ({
    data: [{ ...WINDOW_READY, status: 'collected', status_label: '已领取', pickup_code: null, finished_at: '2026-11-25T02:00:00Z' }],
  }));
  const files = qrDownloads();

  const page = await openPage();

  expect(textOf(page.querySelector('.delivery__status'))).toBe('已领取');
  expect(page.querySelector('.code')).toBeUndefined();
  expect(textOf(page)).not.toContain('8765');
  expect(files).toHaveLength(0);
  expect(page.querySelectorAll('.documents__item')).toHaveLength(3);
});

test('still being prepared: a note, the code, and no route yet', async () => {
  loggedIn();
  server(() => ({
    data: [delivery({ status: 'waiting', status_label: '正在准备', courier: null, tracking_number: null, events: [] })],
  }));
  qrDownloads();

  const page = await openPage();

  expect(textOf(page.querySelector('.delivery__note'))).toBe('正在准备证书和票据，寄出后可在此查看物流信息');
  expect(page.querySelector('.delivery__tracking')).toBeUndefined();
  expect(page.querySelector('.route')).toBeUndefined();
  expect(textOf(page.querySelector('.code__digits'))).toBe('1234 5678');
});

test('an empty list: the case chose the electronic certificate', async () => {
  loggedIn();
  server(() => ({ data: [] }));
  const files = qrDownloads();

  const page = await openPage();

  expect(textOf(page)).toContain('本办件选择电子证书，无纸质证书寄递');
  expect(page.querySelector('.delivery')).toBeUndefined();
  expect(files).toHaveLength(0);
});

test('an API error is shown in the page; 重试 loads again', async () => {
  loggedIn();
  let failing = true;
  const requests = server(() =>
    failing ? { status: 404, data: errorBody('NOT_FOUND', '办件不存在或无权查看') } : { data: [delivery()] },
  );
  qrDownloads();

  const page = await openPage();

  expect(textOf(page)).toContain('办件不存在或无权查看');
  expect(page.querySelector('.delivery')).toBeUndefined();

  failing = false;
  await tap(page, '.delivery-page__retry');

  expect(requests).toHaveLength(2);
  expect(textOf(page)).not.toContain('办件不存在或无权查看');
  expect(textOf(page.querySelector('.code__digits'))).toBe('1234 5678');
});

test('a refresh that fails over what is shown keeps it and says why in a toast', async () => {
  loggedIn();
  let failing = false;
  server(() => (failing ? { status: 500, data: errorBody('SERVER_ERROR', '服务暂时不可用') } : { data: [delivery()] }));
  qrDownloads();
  const page = await openPage();

  failing = true;
  await page.instance.onPullDownRefresh();
  await settle();

  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '服务暂时不可用' }));
  expect(textOf(page.querySelector('.delivery__status'))).toBe('已寄出');
  expect(wx.stopPullDownRefresh).toHaveBeenCalled();
});

test('pull-down refresh reloads: a parcel signed for loses its code', async () => {
  loggedIn();
  let signed = false;
  const requests = server(() => ({
    data: [signed ? delivery({ status: 'delivered', status_label: '已签收', pickup_code: null }) : delivery()],
  }));
  const files = qrDownloads();
  const page = await openPage();
  expect(page.querySelector('.code')).not.toBeUndefined();

  signed = true;
  await page.instance.onPullDownRefresh();
  await settle();

  expect(requests).toHaveLength(2);
  expect(wx.stopPullDownRefresh).toHaveBeenCalled();
  expect(textOf(page.querySelector('.delivery__status'))).toBe('已签收');
  expect(page.querySelector('.code')).toBeUndefined();
  expect(files).toHaveLength(1);
});

test('a QR that cannot be downloaded leaves the digits and can be retried', async () => {
  loggedIn();
  server(() => ({ data: [delivery()] }));
  let broken = true;
  const files = qrDownloads(() => (broken ? { status: 404, tempFilePath: '' } : { tempFilePath: QR_PATH }));

  const page = await openPage();

  expect(textOf(page.querySelector('.code__digits'))).toBe('1234 5678');
  expect(page.querySelector('.code__qr')).toBeUndefined();
  expect(textOf(page.querySelector('.code__qr-error'))).toContain('二维码加载失败');

  broken = false;
  await tap(page, '.code__qr-error');

  expect(files).toHaveLength(2);
  expect(attr(page.querySelector('.code__qr'), 'src')).toBe(QR_PATH);
});

describe('the case detail offers 证书寄递 when the server allows track_delivery', () => {
  let detailId;

  beforeAll(() => {
    detailId = loadPage('pages/case-detail/index');
  });

  function caseDetail(status, statusLabel, allowedActions) {
    return {
      case_number: CASE_NUMBER,
      business_type: { code: 'transfer', name: '转移登记' },
      status,
      status_label: statusLabel,
      unit: null,
      created_at: '2026-11-20T01:00:00Z',
      updated_at: '2026-11-23T02:05:00Z',
      applicants: [],
      timeline: [],
      allowed_actions: allowedActions,
    };
  }

  async function openDetail(status, statusLabel, allowedActions = []) {
    fakeServer(() => ({ data: caseDetail(status, statusLabel, allowedActions) }));
    const page = renderPage(detailId);
    page.instance.onLoad({ case_number: CASE_NUMBER });
    await settle();
    return page;
  }

  test.each([
    ['certificate_issued', '已发证'],
    ['archived', '已归档'],
  ])('a %s case links to the delivery page', async (status, statusLabel) => {
    loggedIn();
    jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
    const page = await openDetail(status, statusLabel, ['view_certificate', 'track_delivery']);

    expect(textOf(page.querySelector('.actions__delivery'))).toBe('证书寄递');
    await tap(page, '.actions__delivery');
    expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/delivery/index?case_number=${CASE_NUMBER}` });
  });

  test.each([
    ['under_review', '审核中'],
    ['certificate_issued', '已发证'],
  ])('a case %s without track_delivery has no such button', async (status, statusLabel) => {
    loggedIn();
    const page = await openDetail(status, statusLabel, ['view_certificate']);

    expect(page.querySelector('.actions__delivery')).toBeUndefined();
  });
});
