const session = require('../services/session');
const http = require('../services/http');
const authApi = require('../services/auth');
const casesApi = require('../services/cases');
const {
  NETWORK_FAILURE,
  useMemoryStorage,
  loggedIn,
  fakeServer,
  errorBody,
  tokenPair,
  deferred,
  settle,
} = require('./helpers/fake-wx');

const CASE = {
  case_number: 'ZH2026112300001',
  business_type: { code: 'first_registration', name: '首次登记' },
  status: 'draft',
  status_label: '草稿',
  unit: null,
  created_at: '2026-11-23T02:00:00Z',
  updated_at: '2026-11-23T02:00:00Z',
};

function expired() {
  return { status: 401, data: errorBody('TOKEN_EXPIRED', '登录已过期') };
}

beforeEach(() => {
  jest.spyOn(wx, 'reLaunch').mockImplementation(() => {});
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showModal').mockImplementation(() => {});
});

describe('requests', () => {
  test('sends the stored access token as a bearer token to the develop server', async () => {
    loggedIn('access-abc');
    const requests = fakeServer(() => ({ data: { id: 7, channels: ['wechat'] } }));

    const me = await authApi.getMe();

    expect(me.id).toBe(7);
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe('http://127.0.0.1:8000/api/me');
    expect(requests[0].method).toBe('GET');
    expect(requests[0].header.Authorization).toBe('Bearer access-abc');
  });

  test('sends no Authorization header when nobody is logged in', async () => {
    useMemoryStorage();
    const requests = fakeServer(() => ({ data: tokenPair('a', 'r') }));
    jest.spyOn(wx, 'login').mockImplementation((o) => o.success({ code: 'c' }));

    await authApi.loginWithWechat();

    expect(requests[0].header).not.toHaveProperty('Authorization');
  });

  test('lists cases with page and page_size and reads X-Pagination whatever its header case', async () => {
    loggedIn();
    const pagination = { total: 41, total_pages: 3, first_page: 1, last_page: 3, page: 2, previous_page: 1, next_page: 3 };
    const requests = fakeServer(() => ({ data: [CASE], header: { 'x-pagination': JSON.stringify(pagination) } }));

    const result = await casesApi.listCases({ page: 2, pageSize: 20 });

    expect(requests[0].path).toBe('/cases');
    expect(requests[0].query).toEqual({ page: '2', page_size: '20' });
    expect(result.items).toEqual([CASE]);
    expect(result.pagination).toEqual(pagination);
  });

  test('fetches one case by its number', async () => {
    loggedIn();
    const requests = fakeServer(() => ({ data: { ...CASE, applicants: [], timeline: [] } }));

    const item = await casesApi.getCase('ZH2026112300001');

    expect(requests[0].path).toBe('/cases/ZH2026112300001');
    expect(item.case_number).toBe('ZH2026112300001');
  });
});

describe('expired access token', () => {
  test('is refreshed once and the original request retried with the new token', async () => {
    const storage = loggedIn('old-access', 'old-refresh');
    const requests = fakeServer((req) => {
      if (req.path === '/auth/refresh') return { data: tokenPair('new-access', 'new-refresh') };
      if (req.header.Authorization === 'Bearer old-access') return expired();
      return { data: { id: 7 } };
    });

    const me = await authApi.getMe();

    expect(me).toEqual({ id: 7 });
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /me', 'POST /auth/refresh', 'GET /me']);
    expect(requests[1].data).toEqual({ refresh_token: 'old-refresh' });
    expect(requests[1].header).not.toHaveProperty('Authorization');
    expect(requests[2].header.Authorization).toBe('Bearer new-access');
    // Rotation: the new refresh token replaces the spent one.
    expect(storage.get('auth.access')).toBe('new-access');
    expect(storage.get('auth.refresh')).toBe('new-refresh');
    expect(wx.reLaunch).not.toHaveBeenCalled();
  });

  test('TOKEN_INVALID is renewed the same way', async () => {
    loggedIn('old-access', 'old-refresh');
    const requests = fakeServer((req) => {
      if (req.path === '/auth/refresh') return { data: tokenPair('new-access', 'new-refresh') };
      if (req.header.Authorization === 'Bearer old-access') {
        return { status: 401, data: errorBody('TOKEN_INVALID', '登录信息无效') };
      }
      return { data: [] };
    });

    await casesApi.listCases();

    expect(requests.filter((r) => r.path === '/auth/refresh')).toHaveLength(1);
  });

  test('is retried only once: a second 401 reaches the caller', async () => {
    loggedIn('old-access', 'old-refresh');
    const requests = fakeServer((req) =>
      req.path === '/auth/refresh' ? { data: tokenPair('new-access', 'new-refresh') } : expired(),
    );

    await expect(authApi.getMe()).rejects.toMatchObject({ code: 'TOKEN_EXPIRED', status: 401 });
    expect(requests.map((r) => r.path)).toEqual(['/me', '/auth/refresh', '/me']);
  });

  test('other 401 codes are not refreshed', async () => {
    loggedIn();
    const requests = fakeServer(() => ({ status: 401, data: errorBody('IDENTITY_REQUIRED', '请先完成实名认证') }));

    await expect(authApi.getMe()).rejects.toMatchObject({ code: 'IDENTITY_REQUIRED', message: '请先完成实名认证' });
    expect(requests).toHaveLength(1);
  });

  test('three concurrent 401s share one refresh and all three succeed', async () => {
    loggedIn('old-access', 'old-refresh');
    const refreshAnswer = deferred();
    const requests = fakeServer((req) => {
      if (req.path === '/auth/refresh') return refreshAnswer.promise;
      if (req.header.Authorization === 'Bearer old-access') return expired();
      return { data: { path: req.path } };
    });

    const calls = Promise.all([authApi.getMe(), casesApi.getCase('A1'), casesApi.listCases({ page: 1 })]);
    await settle();
    refreshAnswer.resolve({ data: tokenPair('new-access', 'new-refresh') });
    const [me, item, list] = await calls;

    expect(me).toEqual({ path: '/me' });
    expect(item).toEqual({ path: '/cases/A1' });
    expect(list.items).toEqual([]);
    const refreshes = requests.filter((r) => r.path === '/auth/refresh');
    expect(refreshes).toHaveLength(1);
    const retries = requests.filter((r) => r.header.Authorization === 'Bearer new-access');
    expect(retries.map((r) => r.path).sort()).toEqual(['/cases', '/cases/A1', '/me']);
  });

  test('a 401 that arrives after another request already refreshed is retried without a second refresh', async () => {
    loggedIn('old-access', 'old-refresh');
    const lateAnswer = deferred();
    const requests = fakeServer((req) => {
      if (req.path === '/auth/refresh') return { data: tokenPair('new-access', 'new-refresh') };
      if (req.path === '/cases/LATE' && req.header.Authorization === 'Bearer old-access') return lateAnswer.promise;
      if (req.header.Authorization === 'Bearer old-access') return expired();
      return { data: { ok: req.path } };
    });

    const late = casesApi.getCase('LATE');
    await authApi.getMe(); // refreshes while LATE is still in flight
    lateAnswer.resolve(expired());

    await expect(late).resolves.toEqual({ ok: '/cases/LATE' });
    expect(requests.filter((r) => r.path === '/auth/refresh')).toHaveLength(1);
  });

  test('a rejected refresh token clears the tokens and sends the citizen to the login page once', async () => {
    const storage = loggedIn('old-access', 'old-refresh');
    fakeServer((req) =>
      req.path === '/auth/refresh'
        ? { status: 401, data: errorBody('REFRESH_TOKEN_INVALID', '登录已失效') }
        : expired(),
    );

    const results = await Promise.allSettled([authApi.getMe(), casesApi.listCases()]);

    results.forEach((result) => {
      expect(result.status).toBe('rejected');
      expect(result.reason).toMatchObject({ code: 'SESSION_EXPIRED', message: '登录已过期，请重新登录' });
    });
    expect(storage.has('auth.access')).toBe(false);
    expect(storage.has('auth.refresh')).toBe(false);
    expect(session.isLoggedIn()).toBe(false);
    expect(wx.reLaunch).toHaveBeenCalledTimes(1);
    expect(wx.reLaunch).toHaveBeenCalledWith({ url: '/pages/login/index' });
  });

  test('a refresh lost to the network keeps the session: the phone may just be offline', async () => {
    const storage = loggedIn('old-access', 'old-refresh');
    fakeServer((req) => (req.path === '/auth/refresh' ? NETWORK_FAILURE : expired()));

    await expect(authApi.getMe()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(storage.get('auth.refresh')).toBe('old-refresh');
    expect(wx.reLaunch).not.toHaveBeenCalled();
  });
});

describe('errors', () => {
  test('the error envelope becomes an ApiError with the server’s Chinese message', async () => {
    loggedIn();
    fakeServer(() => ({
      status: 404,
      data: errorBody('NOT_FOUND', '办件不存在或无权查看', { case_number: 'ZH2026112300009' }),
    }));

    const error = await casesApi.getCase('ZH2026112300009').catch((err) => err);

    expect(error).toBeInstanceOf(http.ApiError);
    expect(error).toMatchObject({
      code: 'NOT_FOUND',
      message: '办件不存在或无权查看',
      status: 404,
      details: { case_number: 'ZH2026112300009' },
    });
  });

  test('a network failure becomes NETWORK_ERROR with a Chinese message', async () => {
    loggedIn();
    fakeServer(() => NETWORK_FAILURE);

    await expect(authApi.getMe()).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      message: '网络连接失败，请检查网络后重试',
      status: 0,
    });
  });

  test('a server error without our envelope never shows its raw body', async () => {
    loggedIn();
    fakeServer(() => ({ status: 502, data: '<html>Bad Gateway</html>' }));

    await expect(authApi.getMe()).rejects.toMatchObject({
      code: 'SERVER_ERROR',
      message: '服务暂时不可用，请稍后重试',
      status: 502,
    });
  });

  test('showError shows a short message as a toast', () => {
    http.showError(new http.ApiError({ code: 'NOT_FOUND', message: '办件不存在', status: 404 }));

    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '办件不存在', icon: 'none' }));
    expect(wx.showModal).not.toHaveBeenCalled();
  });

  test('showError shows a long message in a modal so that it is not cut off', () => {
    const message = '您提交的申请材料不完整，请补充不动产权属来源证明材料后重新提交申请';
    http.showError(new http.ApiError({ code: 'VALIDATION_ERROR', message, status: 422 }));

    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ content: message, showCancel: false }));
    expect(wx.showToast).not.toHaveBeenCalled();
  });

  test('showError never shows a programming error’s English text', () => {
    jest.spyOn(console, 'error').mockImplementation(() => {});

    http.showError(new TypeError("Cannot read properties of undefined (reading 'x')"));

    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '操作失败，请稍后重试' }));
  });
});

describe('session', () => {
  test('loginWithWechat exchanges the wx.login code for tokens', async () => {
    const storage = useMemoryStorage();
    jest.spyOn(wx, 'login').mockImplementation((o) => o.success({ code: 'wx-code-42', errMsg: 'login:ok' }));
    const requests = fakeServer(() => ({ data: tokenPair('access-9', 'refresh-9') }));

    const account = await authApi.loginWithWechat();

    expect(requests[0]).toMatchObject({ method: 'POST', path: '/auth/wechat', data: { code: 'wx-code-42' } });
    expect(account).toEqual({ id: 7, channels: ['wechat'], identity_verified: false });
    expect(storage.get('auth.access')).toBe('access-9');
    expect(storage.get('auth.refresh')).toBe('refresh-9');
    expect(session.isLoggedIn()).toBe(true);
  });

  test('loginWithWechat reports a failed wx.login in Chinese without calling the server', async () => {
    useMemoryStorage();
    jest.spyOn(wx, 'login').mockImplementation((o) => o.fail({ errMsg: 'login:fail' }));
    const requests = fakeServer(() => ({ data: {} }));

    await expect(authApi.loginWithWechat()).rejects.toMatchObject({
      code: 'WECHAT_LOGIN_FAILED',
      message: '微信登录失败，请稍后重试',
    });
    expect(requests).toHaveLength(0);
  });

  test('logout tells the server and clears the tokens', async () => {
    const storage = loggedIn('access-1');
    const requests = fakeServer(() => ({ status: 204, data: '' }));

    await authApi.logout();

    expect(requests[0]).toMatchObject({ method: 'POST', path: '/auth/logout' });
    expect(requests[0].header.Authorization).toBe('Bearer access-1');
    expect(storage.size).toBe(0);
  });

  test('logout clears the tokens even when the server cannot be reached', async () => {
    const storage = loggedIn();
    fakeServer(() => NETWORK_FAILURE);

    await expect(authApi.logout()).resolves.toBeUndefined();
    expect(storage.size).toBe(0);
    expect(session.isLoggedIn()).toBe(false);
  });
});
