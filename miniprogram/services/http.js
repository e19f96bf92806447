// The transport of every API module: `request` attaches the access token (and
// the identity claim when asked), renews an expired token once and turns every
// failure into an ApiError carrying a message a citizen can read; uploads and
// downloads do the same. Also the error helpers and how errors are shown.
const { getApiBaseUrl } = require('../config');
const {
  LOGIN_PAGE,
  getAccessToken,
  getRefreshToken,
  storeTokens,
  clearTokens,
  getIdentityClaim,
} = require('./session');

const IDENTITY_CLAIM_HEADER = 'X-Identity-Claim';
const REQUEST_TIMEOUT_MS = 15000;
const UPLOAD_TIMEOUT_MS = 60000;
const RENEWABLE_TOKEN_CODES = ['TOKEN_EXPIRED', 'TOKEN_INVALID'];
// A toast with icon "none" shows two short lines; longer texts go to a modal.
const TOAST_MAX_LENGTH = 20;

const MESSAGES = {
  network: '网络连接失败，请检查网络后重试',
  sessionExpired: '登录已过期，请重新登录',
  server: '服务暂时不可用，请稍后重试',
  request: '请求失败，请稍后重试',
  unknown: '操作失败，请稍后重试',
  fileTooLarge: '文件过大，请压缩后重新上传',
  claimRequired: '请先完成人脸核验',
};

class ApiError extends Error {
  constructor({ code, message, status = 0, details = {} }) {
    super(message);
    // Transpiled subclasses of Error lose their prototype; restore it so that
    // `instanceof ApiError` holds in WeChat DevTools builds too.
    Object.setPrototypeOf(this, ApiError.prototype);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    // The envelope's details: field errors under `fields` ({field: ["中文说明"]}),
    // or what the code is about (CASE_INCOMPLETE lists what is missing here).
    this.details = details || {};
  }
}

function isPlainObject(value) {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

// The server's codes are UPPER_CASE (CASE_STATE_CONFLICT), compared exactly.
function hasErrorCode(err, ...codes) {
  return Boolean(err) && typeof err.code === 'string' && codes.includes(err.code);
}

// {field: "中文说明；中文说明"} from the envelope's details.fields.
function fieldErrorsOf(err) {
  const fields = err && err.details && isPlainObject(err.details.fields) ? err.details.fields : {};
  const result = {};
  Object.keys(fields).forEach((field) => {
    const messages = [].concat(fields[field] || []).filter((message) => typeof message === 'string' && message);
    if (messages.length) result[field] = messages.join('；');
  });
  return result;
}

// ---- transport -----------------------------------------------------------

function parseBody(data) {
  if (typeof data !== 'string') return data;
  if (!data) return null;
  try {
    return JSON.parse(data);
  } catch (err) {
    return data;
  }
}

// Header names arrive lower-cased on some platforms and as sent on others.
function getHeader(headers, name) {
  const wanted = name.toLowerCase();
  const key = Object.keys(headers || {}).find((candidate) => candidate.toLowerCase() === wanted);
  return key === undefined ? undefined : headers[key];
}

// X-Pagination of a list endpoint (page, total_pages, next_page, …), or null.
function parsePagination(headers) {
  const raw = getHeader(headers, 'X-Pagination');
  if (!raw) return null;
  if (typeof raw === 'object') return raw;
  try {
    return JSON.parse(raw);
  } catch (err) {
    return null;
  }
}

function send({ path, method, data, accessToken, identityClaim }) {
  const header = { Accept: 'application/json', 'Content-Type': 'application/json' };
  if (accessToken) header.Authorization = `Bearer ${accessToken}`;
  if (identityClaim) header[IDENTITY_CLAIM_HEADER] = identityClaim;
  return new Promise((resolve, reject) => {
    wx.request({
      url: `${getApiBaseUrl()}${path}`,
      method,
      data,
      header,
      dataType: 'json',
      timeout: REQUEST_TIMEOUT_MS,
      success: resolve,
      fail: (res) =>
        reject(
          new ApiError({
            code: 'NETWORK_ERROR',
            message: MESSAGES.network,
            details: { errMsg: res && res.errMsg },
          }),
        ),
    });
  });
}

function toApiError(statusCode, body) {
  // The envelope: {"code": "UPPER_CASE_CODE", "message": "中文", "details": {...}}.
  if (isPlainObject(body) && typeof body.code === 'string' && typeof body.message === 'string') {
    const details = isPlainObject(body.details) ? body.details : {};
    return new ApiError({ code: body.code, message: body.message, status: statusCode, details });
  }
  // Not our error envelope (a proxy page, a framework default): never show it raw.
  const serverSide = statusCode >= 500;
  let message = serverSide ? MESSAGES.server : MESSAGES.request;
  if (statusCode === 413) message = MESSAGES.fileTooLarge; // a proxy's own limit
  return new ApiError({ code: serverSide ? 'SERVER_ERROR' : `HTTP_${statusCode}`, message, status: statusCode });
}

function isRenewableTokenError(error) {
  return error.status === 401 && RENEWABLE_TOKEN_CODES.includes(error.code);
}

// ---- session renewal -----------------------------------------------------

// POST /auth/refresh with the stored refresh token; stores the new pair.
async function refresh() {
  const refreshToken = getRefreshToken();
  if (!refreshToken) {
    throw new ApiError({ code: 'REFRESH_TOKEN_INVALID', message: MESSAGES.sessionExpired, status: 401 });
  }
  const { data } = await request('/auth/refresh', {
    method: 'POST',
    data: { refresh_token: refreshToken },
    auth: false,
  });
  storeTokens(data);
  return data;
}

let pendingRenewal = null;

function sessionExpiredError() {
  return new ApiError({ code: 'SESSION_EXPIRED', message: MESSAGES.sessionExpired, status: 401 });
}

function endSession() {
  clearTokens();
  wx.reLaunch({ url: LOGIN_PAGE });
}

// Every request that meets an expired token waits for this same promise, so
// the (rotating, single-use) refresh token is spent exactly once.
function renewSessionOnce() {
  if (!pendingRenewal) {
    pendingRenewal = (async () => {
      try {
        await refresh();
      } catch (err) {
        // The server refused the refresh token: the session is over. A network
        // failure or server outage proves nothing, so the tokens are kept.
        if (err.status >= 400 && err.status < 500) {
          endSession();
          throw sessionExpiredError();
        }
        throw err;
      } finally {
        pendingRenewal = null;
      }
    })();
  }
  return pendingRenewal;
}

// `identityClaim: true` (submit, pay, certificate download) attaches the
// identity claim while it is valid; without one the server answers with its
// own error, which tells the citizen to verify again.
async function request(
  path,
  { method = 'GET', data, auth = true, renewExpiredToken = true, identityClaim = false } = {},
) {
  const accessToken = auth ? getAccessToken() : '';
  const claim = identityClaim ? getIdentityClaim() : null;
  const response = await send({ path, method, data, accessToken, identityClaim: claim && claim.token });
  const body = parseBody(response.data);
  if (response.statusCode >= 200 && response.statusCode < 300) {
    return { status: response.statusCode, data: body, headers: response.header || {} };
  }

  const error = toApiError(response.statusCode, body);
  if (!auth || !renewExpiredToken || !isRenewableTokenError(error)) throw error;

  await renewAfterExpiry(accessToken);
  return request(path, { method, data, auth, renewExpiredToken: false, identityClaim });
}

// After a 401 for an expired or invalid access token: renew the session once
// (shared with every other request that met the same token), so that the
// caller can retry with the new token.
async function renewAfterExpiry(usedAccessToken) {
  const current = getAccessToken();
  // The session ended while the request was in flight (failed renewal, logout).
  if (!current) throw sessionExpiredError();
  // Unless another request already renewed the token meanwhile, renew it now.
  if (current === usedAccessToken) await renewSessionOnce();
}

// ---- files -----------------------------------------------------------------

// The server names files by root-relative paths ("/api/cases/…/file").
// The bearer token only ever goes to the API's own origin.
function apiOrigin() {
  const match = /^(https?:\/\/[^/]+)/i.exec(getApiBaseUrl());
  return match ? match[1] : '';
}

function resolveFileUrl(url) {
  const text = String(url || '');
  if (/^https?:\/\//i.test(text)) return { url: text, ownOrigin: text.startsWith(`${apiOrigin()}/`) };
  return { url: `${apiOrigin()}${text.startsWith('/') ? '' : '/'}${text}`, ownOrigin: true };
}

function networkError(res) {
  return new ApiError({ code: 'NETWORK_ERROR', message: MESSAGES.network, details: { errMsg: res && res.errMsg } });
}

// wx.uploadFile: multipart with `file` and the form fields. Its answer is the
// raw body as a string, parsed here like any other answer.
function sendUpload({ path, filePath, formData, accessToken, onProgress }) {
  return new Promise((resolve, reject) => {
    const header = { Accept: 'application/json' };
    if (accessToken) header.Authorization = `Bearer ${accessToken}`;
    const task = wx.uploadFile({
      url: `${getApiBaseUrl()}${path}`,
      filePath,
      name: 'file',
      formData,
      header,
      timeout: UPLOAD_TIMEOUT_MS,
      success: resolve,
      fail: (res) => reject(networkError(res)),
    });
    if (onProgress && task && typeof task.onProgressUpdate === 'function') {
      task.onProgressUpdate((res) => onProgress(res.progress));
    }
  });
}

async function upload(path, { filePath, formData, onProgress }, renewExpiredToken = true) {
  const accessToken = getAccessToken();
  const response = await sendUpload({ path, filePath, formData, accessToken, onProgress });
  const body = parseBody(response.data);
  if (response.statusCode >= 200 && response.statusCode < 300) return body;
  const error = toApiError(response.statusCode, body);
  if (!renewExpiredToken || !isRenewableTokenError(error)) throw error;
  await renewAfterExpiry(accessToken);
  return upload(path, { filePath, formData, onProgress }, false);
}

// wx.downloadFile with the bearer token (material files, thumbnails, the
// application PDF): resolves to the temporary file path. The body of a failed
// download is a file, so any 401 counts as an expired token, retried once.
function sendDownload(url, accessToken) {
  return new Promise((resolve, reject) => {
    const header = {};
    if (accessToken) header.Authorization = `Bearer ${accessToken}`;
    wx.downloadFile({ url, header, timeout: UPLOAD_TIMEOUT_MS, success: resolve, fail: (res) => reject(networkError(res)) });
  });
}

async function downloadFile(fileUrl, renewExpiredToken = true) {
  const { url, ownOrigin } = resolveFileUrl(fileUrl);
  const accessToken = ownOrigin ? getAccessToken() : '';
  const response = await sendDownload(url, accessToken);
  if (response.statusCode >= 200 && response.statusCode < 300) return response.tempFilePath;
  if (response.statusCode === 401 && ownOrigin && renewExpiredToken) {
    await renewAfterExpiry(accessToken);
    return downloadFile(fileUrl, false);
  }
  throw new ApiError({
    code: response.statusCode === 404 ? 'NOT_FOUND' : `HTTP_${response.statusCode}`,
    message: response.statusCode === 404 ? '文件不存在或已被撤回' : '文件下载失败，请稍后重试',
    status: response.statusCode,
  });
}

// ---- files behind the identity claim ----------------------------------------

// The body of a failed download is in the temporary file: our error envelope
// when it can be read, else null.
function readDownloadedError(tempFilePath) {
  if (!tempFilePath || typeof wx.getFileSystemManager !== 'function') return null;
  try {
    const body = parseBody(wx.getFileSystemManager().readFileSync(tempFilePath, 'utf8'));
    return isPlainObject(body) && typeof body.code === 'string' ? body : null;
  } catch (err) {
    return null;
  }
}

function sendClaimDownload(url, accessToken, claimToken) {
  return new Promise((resolve, reject) => {
    const header = {};
    if (accessToken) header.Authorization = `Bearer ${accessToken}`;
    if (claimToken) header[IDENTITY_CLAIM_HEADER] = claimToken;
    wx.downloadFile({ url, header, timeout: UPLOAD_TIMEOUT_MS, success: resolve, fail: (res) => reject(networkError(res)) });
  });
}

// wx.downloadFile of an API path (the certificate's image and PDF) with the
// bearer token and the identity claim. Resolves to the temporary file path; a
// 401 renews the session once; a bare 403 is the claim the server wants;
// `messages.notFound` and `messages.failed` say what a 404 or anything else means.
async function downloadWithIdentityClaim(path, messages, renewExpiredToken = true) {
  const accessToken = getAccessToken();
  const claim = getIdentityClaim();
  const response = await sendClaimDownload(`${getApiBaseUrl()}${path}`, accessToken, claim && claim.token);
  if (response.statusCode >= 200 && response.statusCode < 300) return response.tempFilePath;
  const body = readDownloadedError(response.tempFilePath);
  const error = body ? toApiError(response.statusCode, body) : null;
  if (response.statusCode === 401 && renewExpiredToken && (!error || isRenewableTokenError(error))) {
    await renewAfterExpiry(accessToken);
    return downloadWithIdentityClaim(path, messages, false);
  }
  if (error) throw error;
  if (response.statusCode === 403) {
    // These files refuse only for want of a valid identity claim.
    throw new ApiError({ code: 'IDENTITY_CLAIM_REQUIRED', message: MESSAGES.claimRequired, status: 403 });
  }
  throw new ApiError({
    code: response.statusCode === 404 ? 'NOT_FOUND' : `HTTP_${response.statusCode}`,
    message: response.statusCode === 404 ? messages.notFound : messages.failed,
    status: response.statusCode,
  });
}

// ---- presenting errors ---------------------------------------------------

function errorMessageOf(err) {
  if (err && (err instanceof ApiError || err.name === 'ApiError') && err.message) return err.message;
  return MESSAGES.unknown;
}

function showError(err) {
  if (!(err instanceof ApiError)) console.error(err); // a bug, not a server answer
  const message = errorMessageOf(err);
  if (message.length > TOAST_MAX_LENGTH) {
    wx.showModal({ title: '提示', content: message, showCancel: false, confirmText: '知道了' });
  } else {
    wx.showToast({ title: message, icon: 'none', duration: 2500 });
  }
}

module.exports = {
  ApiError,
  MESSAGES,
  IDENTITY_CLAIM_HEADER,
  request,
  refresh,
  upload,
  downloadFile,
  downloadWithIdentityClaim,
  resolveFileUrl,
  parsePagination,
  hasErrorCode,
  fieldErrorsOf,
  errorMessageOf,
  showError,
};
