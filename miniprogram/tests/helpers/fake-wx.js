// Test doubles for the wx APIs the mini-program uses: an in-memory storage and
// a fake server answering wx.request.
const API_BASE = 'http://127.0.0.1:8000/api';
const NETWORK_FAILURE = Symbol('network failure');

function useMemoryStorage(initial = {}) {
  const store = new Map(Object.entries(initial));
  jest.spyOn(wx, 'getStorageSync').mockImplementation((key) => (store.has(key) ? store.get(key) : ''));
  jest.spyOn(wx, 'setStorageSync').mockImplementation((key, value) => store.set(key, value));
  jest.spyOn(wx, 'removeStorageSync').mockImplementation((key) => store.delete(key));
  return store;
}

function loggedIn(access = 'access-1', refresh = 'refresh-1') {
  return useMemoryStorage({ 'auth.access': access, 'auth.refresh': refresh });
}

// `handler(request)` returns {status, data, header}, NETWORK_FAILURE, or a
// promise of either (to hold a response back). Every request is recorded.
function fakeServer(handler) {
  const requests = [];
  jest.spyOn(wx, 'request').mockImplementation((options) => {
    const [path, query = ''] = options.url.slice(API_BASE.length).split('?');
    const request = {
      url: options.url,
      path,
      query: Object.fromEntries(new URLSearchParams(query)),
      method: options.method || 'GET',
      data: options.data,
      header: options.header || {},
    };
    requests.push(request);
    Promise.resolve(handler(request)).then((answer) => {
      if (answer === NETWORK_FAILURE) {
        options.fail({ errMsg: 'request:fail timeout' });
        return;
      }
      const { status = 200, data = '', header = {} } = answer || {};
      options.success({ statusCode: status, data, header, errMsg: 'request:ok' });
    });
    return { abort() {} };
  });
  return requests;
}

// wx.uploadFile: `handler(upload)` returns {status, data} (data a string, as
// WeChat hands it over; objects are serialised) or NETWORK_FAILURE.
function fakeUploads(handler) {
  const uploads = [];
  jest.spyOn(wx, 'uploadFile').mockImplementation((options) => {
    const upload = {
      url: options.url,
      path: options.url.slice(API_BASE.length),
      filePath: options.filePath,
      name: options.name,
      formData: options.formData,
      header: options.header || {},
    };
    uploads.push(upload);
    const progressListeners = [];
    Promise.resolve(handler(upload)).then((answer) => {
      if (answer === NETWORK_FAILURE) {
        options.fail({ errMsg: 'uploadFile:fail timeout' });
        return;
      }
      const { status = 201, data = '' } = answer || {};
      progressListeners.forEach((listener) => listener({ progress: 100 }));
      options.success({ statusCode: status, data: typeof data === 'string' ? data : JSON.stringify(data), errMsg: 'uploadFile:ok' });
    });
    return { onProgressUpdate: (listener) => progressListeners.push(listener), abort() {} };
  });
  return uploads;
}

// wx.downloadFile: `handler(download)` returns {status, tempFilePath} or NETWORK_FAILURE.
function fakeDownloads(handler = (download) => ({ tempFilePath: `wxfile://tmp/${download.url.split('/').slice(-2).join('-')}` })) {
  const downloads = [];
  jest.spyOn(wx, 'downloadFile').mockImplementation((options) => {
    const download = { url: options.url, header: options.header || {} };
    downloads.push(download);
    Promise.resolve(handler(download)).then((answer) => {
      if (answer === NETWORK_FAILURE) {
        options.fail({ errMsg: 'downloadFile:fail timeout' });
        return;
      }
      const { status = 200, tempFilePath = '' } = answer || {};
      options.success({ statusCode: status, tempFilePath, errMsg: 'downloadFile:ok' });
    });
    return { abort() {} };
  });
  return downloads;
}

function errorBody(code, message, details = {}) {
  return { code, message, details };
}

function tokenPair(access, refresh) {
  return {
    access_token: access,
    refresh_token: refresh,
    token_type: 'Bearer',
    expires_in: 900,
    refresh_expires_in: 2592000,
    account: { id: 7, channels: ['wechat'], identity_verified: false },
  };
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// Lets pending promise chains and zero-delay timers run.
async function settle() {
  for (let i = 0; i < 5; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

module.exports = {
  API_BASE,
  NETWORK_FAILURE,
  useMemoryStorage,
  loggedIn,
  fakeServer,
  fakeUploads,
  fakeDownloads,
  errorBody,
  tokenPair,
  deferred,
  settle,
};
