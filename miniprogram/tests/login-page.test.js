const simulate = require('miniprogram-simulate');
const { loadPage, renderPage, textOf } = require('./helpers/page');
const { useMemoryStorage, loggedIn, fakeServer, errorBody, tokenPair, settle } = require('./helpers/fake-wx');

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/login/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'reLaunch').mockImplementation(() => {});
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'login').mockImplementation((o) => o.success({ code: 'wx-code-1', errMsg: 'login:ok' }));
});

async function tapLogin(page) {
  page.querySelector('.login__button').dispatchEvent('tap');
  await settle();
}

test('shows the one-tap WeChat login button and a link to the privacy text', () => {
  useMemoryStorage();
  const page = renderPage(pageId);
  page.instance.onLoad({});

  expect(textOf(page.querySelector('.login__button'))).toBe('微信一键登录');
  expect(textOf(page)).toContain('个人信息');
  expect(page.querySelector('.login__link').toJSON().attrs).toContainEqual({ name: 'url', value: '/pages/privacy/index' });
  expect(wx.reLaunch).not.toHaveBeenCalled();
});

test('tapping login sends the wx.login code to /auth/wechat, stores the tokens and opens my cases', async () => {
  const storage = useMemoryStorage();
  const requests = fakeServer(() => ({ data: tokenPair('access-new', 'refresh-new') }));
  const page = renderPage(pageId);
  page.instance.onLoad({});

  await tapLogin(page);

  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({ method: 'POST', path: '/auth/wechat', data: { code: 'wx-code-1' } });
  expect(storage.get('auth.access')).toBe('access-new');
  expect(storage.get('auth.refresh')).toBe('refresh-new');
  expect(wx.reLaunch).toHaveBeenCalledWith({ url: '/pages/cases/index' });
});

test('a refused login shows the server’s message and stays on the page, ready to try again', async () => {
  const storage = useMemoryStorage();
  fakeServer(() => ({ status: 401, data: errorBody('WECHAT_CODE_INVALID', '微信授权已失效，请重试') }));
  const page = renderPage(pageId);
  page.instance.onLoad({});

  await tapLogin(page);

  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '微信授权已失效，请重试', icon: 'none' }));
  expect(wx.reLaunch).not.toHaveBeenCalled();
  expect(storage.size).toBe(0);
  expect(page.data.submitting).toBe(false);
});

test('a second tap while logging in does not log in twice', async () => {
  useMemoryStorage();
  const requests = fakeServer(() => new Promise(() => {})); // never answers
  const page = renderPage(pageId);

  page.querySelector('.login__button').dispatchEvent('tap');
  page.querySelector('.login__button').dispatchEvent('tap');
  await simulate.sleep(10);

  expect(requests).toHaveLength(1);
});

test('a citizen who is already logged in goes straight to my cases', () => {
  loggedIn();
  const page = renderPage(pageId);

  page.instance.onLoad({});

  expect(wx.reLaunch).toHaveBeenCalledWith({ url: '/pages/cases/index' });
});
