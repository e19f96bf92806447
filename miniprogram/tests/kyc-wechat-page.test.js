const { loadPage, renderPage, textOf } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, settle } = require('./helpers/fake-wx');

const NOW = Date.parse('2026-11-23T02:00:00Z');
let pageId;

beforeAll(() => {
  pageId = loadPage('packageKyc/pages/wechat/index');
});

beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
  jest.spyOn(wx, 'redirectTo').mockImplementation(() => {});
});

afterEach(() => {
  delete wx.requestFacialVerify;
});

// miniprogram-simulate has no wx.requestFacialVerify (base library 3.8.12+).
function facialVerify(outcome) {
  wx.requestFacialVerify = jest.fn((options) => {
    if (outcome.ok) options.success({ errMsg: 'requestFacialVerify:ok', errCode: 0 });
    else options.fail(outcome);
  });
  return wx.requestFacialVerify;
}

function server({ result = () => ({ data: { passed: true, claim: 'claim-wx', claim_expires_in: 1800 } }) } = {}) {
  let verifyIds = 0;
  return fakeServer((req) => {
    if (req.path === '/kyc/wechat/verify-id') {
      verifyIds += 1;
      return { status: 201, data: { verify_id: `verify-${verifyIds}`, expires_in: 3600 } };
    }
    return result(req);
  });
}

async function openAndStart() {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await settle();
  page.querySelector('.wechat__start').dispatchEvent('tap');
  await settle();
  return page;
}

function text(page, selector) {
  const node = page.querySelector(selector);
  return node ? textOf(node) : '';
}

test('success: verify-id, WeChat’s face check with it, the server’s confirmation, claim stored, result page', async () => {
  const storage = loggedIn();
  const requestFacialVerify = facialVerify({ ok: true });
  const requests = server();

  await openAndStart();

  expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /kyc/wechat/verify-id', 'POST /kyc/wechat/result']);
  expect(requestFacialVerify).toHaveBeenCalledWith(expect.objectContaining({ verifyId: 'verify-1' }));
  expect(requests[1].data).toEqual({ verify_id: 'verify-1' });
  expect(storage.get('kyc.claim')).toEqual({ token: 'claim-wx', expiresAt: NOW + 1800 * 1000 });
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/result/index?outcome=passed' });
});

test('a cancelled face check asks nothing of the server and offers a retry with a new verify_id', async () => {
  loggedIn();
  facialVerify({ errMsg: 'requestFacialVerify:fail cancel', errCode: 90003 });
  const requests = server();

  const page = await openAndStart();

  expect(text(page, '.wechat__message')).toBe('您已取消人脸核身');
  expect(requests.map((r) => r.path)).toEqual(['/kyc/wechat/verify-id']);
  expect(wx.redirectTo).not.toHaveBeenCalled();

  facialVerify({ ok: true });
  page.querySelector('.wechat__retry').dispatchEvent('tap');
  await settle();

  expect(wx.requestFacialVerify).toHaveBeenCalledWith(expect.objectContaining({ verifyId: 'verify-2' }));
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/result/index?outcome=passed' });
});

test('a face check that WeChat did not pass shows the server’s message and attempts left', async () => {
  const storage = loggedIn();
  facialVerify({ ok: true });
  server({
    result: () => ({
      status: 422,
      data: errorBody('KYC_WECHAT_FAILED', '微信人脸核身未通过', { verify_ret: 90011, attempts_left: 2 }),
    }),
  });

  const page = await openAndStart();

  expect(text(page, '.wechat__message')).toBe('微信人脸核身未通过');
  expect(text(page, '.wechat__attempts')).toBe('今日还可尝试 2 次');
  expect(text(page, '.wechat__retry')).toBe('重试');
  expect(storage.has('kyc.claim')).toBe(false);
});

test('a locked verification goes to the result page', async () => {
  loggedIn();
  facialVerify({ ok: true });
  fakeServer(() => ({
    status: 429,
    data: errorBody('KYC_LOCKED', '今日人脸核验失败次数过多，请明日再试', { locked_until: '2026-11-23T16:00:00Z' }),
  }));

  await openAndStart();

  expect(wx.requestFacialVerify).not.toHaveBeenCalled();
  expect(wx.redirectTo.mock.calls[0][0].url).toMatch(/^\/packageKyc\/pages\/result\/index\?outcome=failed&code=KYC_LOCKED&/);
});

test('an old WeChat without requestFacialVerify is told to upgrade, with the counter as the alternative', async () => {
  loggedIn();
  const requests = server();
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await settle();

  expect(text(page, '.wechat__message')).toContain('请升级微信');
  expect(page.querySelector('.wechat__start')).toBeUndefined();
  expect(text(page, '.wechat__alternative')).toContain('预约到窗口核验');
  expect(requests).toHaveLength(0);
});
