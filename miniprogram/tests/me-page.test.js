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
