const { loadPage, renderPage, textOf } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, NETWORK_FAILURE, settle } = require('./helpers/fake-wx');

const CONSENT = {
  version: '2026-11-v1',
  title: '人脸识别信息处理单独同意书',
  purpose: '核验办理不动产登记的申请人是否为本人。',
  method: '拍摄数张面部照片，与人口信息库中的照片比对，并检测指定动作。',
  retention: '照片在核验结论作出后立即删除；核验记录保存三年。',
  text: '本人同意不动产登记机构为核验身份处理本人的人脸信息……',
};

function status(provider = 'local') {
  return {
    identity_verified: false,
    provider,
    consent_version: null,
    claim_valid_until: null,
    locked_until: null,
    attempts_left: 5,
  };
}

function server({ provider = 'local', answer } = {}) {
  return fakeServer((req) => {
    if (req.path === '/kyc/status') return { data: status(provider) };
    if (req.path === '/kyc/consent' && req.method === 'GET') return { data: CONSENT };
    if (answer) return answer(req);
    return { status: 201, data: { accepted: req.data.accepted, version: req.data.version } };
  });
}

let pageId;

beforeAll(() => {
  pageId = loadPage('packageKyc/pages/consent/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'redirectTo').mockImplementation(() => {});
  jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showModal').mockImplementation(() => {});
});

async function openConsent() {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await settle();
  return page;
}

async function tap(page, selector) {
  page.querySelector(selector).dispatchEvent('tap');
  await settle();
}

test('shows the server’s consent text with its version, purpose, method and retention', async () => {
  loggedIn();
  server();

  const page = await openConsent();

  expect(textOf(page.querySelector('.consent__title'))).toBe('人脸识别信息处理单独同意书');
  expect(textOf(page.querySelector('.consent__version'))).toBe('版本：2026-11-v1');
  expect(textOf(page.querySelector('.consent__purpose'))).toBe(CONSENT.purpose);
  expect(textOf(page.querySelector('.consent__method'))).toBe(CONSENT.method);
  expect(textOf(page.querySelector('.consent__retention'))).toBe(CONSENT.retention);
  expect(textOf(page)).toContain(CONSENT.text);
  expect(textOf(page.querySelector('.consent__accept'))).toBe('同意并继续');
  expect(textOf(page.querySelector('.consent__decline'))).toBe('不同意');
});

test('同意并继续 records the consent to this version and opens the camera page', async () => {
  loggedIn();
  const requests = server();
  const page = await openConsent();

  await tap(page, '.consent__accept');

  const answer = requests.find((r) => r.method === 'POST');
  expect(answer).toMatchObject({ path: '/kyc/consent', data: { version: '2026-11-v1', accepted: true } });
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/camera/index' });
});

test('with the WeChat provider, consenting opens the WeChat face verification page', async () => {
  loggedIn();
  server({ provider: 'wechat' });
  const page = await openConsent();

  await tap(page, '.consent__accept');

  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/wechat/index' });
});

test('不同意 records the refusal, explains the counter alternative and leads to the appointment page', async () => {
  loggedIn();
  const requests = server();
  const page = await openConsent();

  await tap(page, '.consent__decline');

  const answer = requests.find((r) => r.method === 'POST');
  expect(answer).toMatchObject({ path: '/kyc/consent', data: { version: '2026-11-v1', accepted: false } });
  expect(wx.redirectTo).not.toHaveBeenCalled();
  expect(textOf(page.querySelector('.consent__alternative'))).toContain('窗口');
  expect(page.querySelector('.consent__accept')).toBeUndefined();

  await tap(page, '.consent__appointment');

  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/appointment/index' });
});

test('after declining, the citizen may change their mind', async () => {
  loggedIn();
  server();
  const page = await openConsent();
  await tap(page, '.consent__decline');

  await tap(page, '.consent__reconsider');

  expect(textOf(page.querySelector('.consent__accept'))).toBe('同意并继续');
});

test('a consent that the server does not record does not move on', async () => {
  loggedIn();
  server({ answer: () => ({ status: 409, data: errorBody('CONSENT_VERSION_OUTDATED', '同意书已更新，请重新阅读') }) });
  const page = await openConsent();

  await tap(page, '.consent__accept');

  expect(wx.redirectTo).not.toHaveBeenCalled();
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '同意书已更新，请重新阅读' }));
});

test('a failed load says so and can be retried', async () => {
  loggedIn();
  let online = false;
  fakeServer((req) => {
    if (!online) return NETWORK_FAILURE;
    return req.path === '/kyc/status' ? { data: status() } : { data: CONSENT };
  });
  const page = await openConsent();

  expect(textOf(page)).toContain('网络连接失败，请检查网络后重试');
  expect(page.querySelector('.consent__accept')).toBeUndefined();

  online = true;
  await tap(page, '.consent__reload');

  expect(textOf(page.querySelector('.consent__title'))).toBe('人脸识别信息处理单独同意书');
});
