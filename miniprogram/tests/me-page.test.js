const { loadPage, renderPage, textOf } = require('./helpers/page');
const { loggedIn, fakeServer, NETWORK_FAILURE, settle } = require('./helpers/fake-wx');

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/me/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'reLaunch').mockImplementation(() => {});
});

async function showPage() {
  const page = renderPage(pageId);
  page.instance.onShow();
  await settle();
  return page;
}

function confirmModal(confirm) {
  jest.spyOn(wx, 'showModal').mockImplementation((o) => o.success({ confirm, cancel: !confirm }));
}

test('shows the verified profile masked as the server sent it', async () => {
  loggedIn();
  fakeServer(() => ({
    data: {
      id: 7,
      channels: ['wechat', 'sms'],
      phone_masked: '138****0000',
      identity_verified: true,
      person: { name: '张三', id_number_masked: '4404**********123X' },
    },
  }));

  const page = await showPage();

  expect(textOf(page.querySelector('.me__name'))).toBe('张三');
  expect(textOf(page.querySelector('.me__id-number'))).toBe('4404**********123X');
  expect(textOf(page.querySelector('.me__phone'))).toBe('138****0000');
  expect(textOf(page.querySelector('.me__verified'))).toBe('已认证');
  expect(textOf(page.querySelector('.me__channels'))).toBe('微信、手机短信');
});

test('an unverified account without a phone says so', async () => {
  loggedIn();
  fakeServer(() => ({
    data: { id: 7, channels: ['wechat'], phone_masked: null, identity_verified: false, person: null },
  }));

  const page = await showPage();

  expect(textOf(page.querySelector('.me__phone'))).toBe('未绑定');
  expect(textOf(page.querySelector('.me__verified'))).toBe('未认证');
});

test('a failed load shows the Chinese error message', async () => {
  loggedIn();
  fakeServer(() => NETWORK_FAILURE);

  const page = await showPage();

  expect(textOf(page)).toContain('网络连接失败，请检查网络后重试');
});

test('退出登录, once confirmed, logs out on the server, forgets the tokens and returns to login', async () => {
  const storage = loggedIn('access-1');
  const requests = fakeServer((req) =>
    req.path === '/me' ? { data: { id: 7, channels: ['wechat'], identity_verified: false, person: null } } : { status: 204 },
  );
  confirmModal(true);
  const page = await showPage();

  expect(textOf(page.querySelector('.me__logout'))).toBe('退出登录');
  page.querySelector('.me__logout').dispatchEvent('tap');
  await settle();

  expect(requests.map((r) => `${r.method} ${r.path}`)).toContain('POST /auth/logout');
  expect(storage.size).toBe(0);
  expect(wx.reLaunch).toHaveBeenCalledWith({ url: '/pages/login/index' });
});

test('cancelling the confirmation keeps the citizen logged in', async () => {
  const storage = loggedIn('access-1');
  const requests = fakeServer(() => ({ data: { id: 7, channels: ['wechat'], identity_verified: false, person: null } }));
  confirmModal(false);
  const page = await showPage();

  page.querySelector('.me__logout').dispatchEvent('tap');
  await settle();

  expect(requests.map((r) => r.path)).not.toContain('/auth/logout');
  expect(storage.get('auth.access')).toBe('access-1');
  expect(wx.reLaunch).not.toHaveBeenCalled();
});

test('我的缴费凭证 opens the e-receipt list', async () => {
  loggedIn();
  fakeServer(() => ({ data: { id: 7, channels: ['wechat'], identity_verified: true, person: null } }));

  const page = await showPage();

  const link = page.querySelector('.me__receipts');
  expect(textOf(link)).toBe('我的缴费凭证');
  expect(link.toJSON().attrs.find((attr) => attr.name === 'url').value).toBe('/pages/receipts/index');
});

describe('实名认证 entry', () => {
  const ME = { id: 7, channels: ['wechat'], phone_masked: null, identity_verified: false, person: null };

  function kycStatus(overrides = {}) {
    return {
      identity_verified: false,
      provider: 'local',
      consent_version: null,
      claim_valid_until: null,
      locked_until: null,
      attempts_left: 5,
      ...overrides,
    };
  }

  function serve(status) {
    return fakeServer((req) => (req.path === '/kyc/status' ? status : { data: ME }));
  }

  function entryUrl(page) {
    return page.querySelector('.me__kyc').toJSON().attrs.find((attr) => attr.name === 'url').value;
  }

  beforeEach(() => {
    jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-11-23T02:05:00Z'));
  });

  test('an unverified citizen is invited to start with the real-name form', async () => {
    loggedIn();
    serve({ data: kycStatus() });

    const page = await showPage();

    expect(textOf(page.querySelector('.me__kyc-label'))).toBe('实名认证');
    expect(textOf(page.querySelector('.me__verified'))).toBe('未认证');
    expect(textOf(page.querySelector('.me__kyc-note'))).toBe('去认证');
    expect(entryUrl(page)).toBe('/packageKyc/pages/realname/index');
  });

  test('a verified citizen sees until when the face verification holds, in Beijing time', async () => {
    loggedIn();
    serve({
      data: kycStatus({
        identity_verified: true,
        consent_version: '2026-11-v1',
        claim_valid_until: '2026-11-23T02:35:00Z',
      }),
    });

    const page = await showPage();

    expect(textOf(page.querySelector('.me__verified'))).toBe('已认证');
    expect(textOf(page.querySelector('.me__kyc-note'))).toBe('核验有效至 10:35');
    expect(entryUrl(page)).toBe('/packageKyc/pages/camera/index');
  });

  test('a locked citizen sees until when, and the entry opens the explanation', async () => {
    loggedIn();
    serve({ data: kycStatus({ identity_verified: true, consent_version: '2026-11-v1', locked_until: '2026-11-23T16:00:00Z' }) });

    const page = await showPage();

    expect(textOf(page.querySelector('.me__kyc-note'))).toBe('人脸核验已暂停至 2026-11-24 00:00');
    expect(entryUrl(page)).toMatch(/^\/packageKyc\/pages\/result\/index\?outcome=failed&code=KYC_LOCKED/);
  });

  test('the profile still shows when the verification status cannot be loaded', async () => {
    loggedIn();
    serve({ status: 503, data: { code: 'SERVICE_UNAVAILABLE', message: '服务暂时不可用，请稍后再试', details: {} } });

    const page = await showPage();

    expect(textOf(page.querySelector('.me__channels'))).toBe('微信');
    expect(textOf(page.querySelector('.me__verified'))).toBe('未认证');
    expect(entryUrl(page)).toBe('/packageKyc/pages/realname/index');
  });
});

test('我的证书 leads to the certificates list', async () => {
  loggedIn();
  fakeServer(() => ({ data: { id: 7, channels: ['wechat'], identity_verified: true, person: null } }));

  const page = await showPage();

  const link = page.querySelector('.me__certificates');
  expect(textOf(link)).toBe('我的证书');
  expect(link.toJSON().attrs).toEqual(expect.arrayContaining([{ name: 'url', value: '/packageCertificate/pages/list/index' }]));
});
