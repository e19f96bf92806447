// The one API client of the mini-program. Every server call goes through
// `request`, which attaches the access token, renews it once on expiry and turns
// every failure into an ApiError carrying a message a citizen can read.
const { getApiBaseUrl } = require('../config');
const { callWx } = require('../utils/wx-async');

const ACCESS_TOKEN_KEY = 'auth.access';
const REFRESH_TOKEN_KEY = 'auth.refresh';
const IDENTITY_CLAIM_KEY = 'kyc.claim';
const IDENTITY_CLAIM_HEADER = 'X-Identity-Claim';
const LOGIN_PAGE = '/pages/login/index';
const REQUEST_TIMEOUT_MS = 15000;
const UPLOAD_TIMEOUT_MS = 60000;
const FILENAME_MAX_LENGTH = 200; // POST /cases/<n>/materials: filename
const RENEWABLE_TOKEN_CODES = ['TOKEN_EXPIRED', 'TOKEN_INVALID'];
// A toast with icon "none" shows two short lines; longer texts go to a modal.
const TOAST_MAX_LENGTH = 20;

const MESSAGES = {
  network: '网络连接失败，请检查网络后重试',
  sessionExpired: '登录已过期，请重新登录',
  server: '服务暂时不可用，请稍后重试',
  request: '请求失败，请稍后重试',
  wechatLogin: '微信登录失败，请稍后重试',
  unknown: '操作失败，请稍后重试',
  fileTooLarge: '文件过大，请压缩后重新上传',
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

// ---- token storage -------------------------------------------------------

function getAccessToken() {
  return wx.getStorageSync(ACCESS_TOKEN_KEY) || '';
}

function getRefreshToken() {
  return wx.getStorageSync(REFRESH_TOKEN_KEY) || '';
}

function storeTokens({ access_token: accessToken, refresh_token: refreshToken }) {
  wx.setStorageSync(ACCESS_TOKEN_KEY, accessToken);
  wx.setStorageSync(REFRESH_TOKEN_KEY, refreshToken);
}

// The identity claim vouches for the person behind this login: it must not
// outlive the session.
function clearTokens() {
  wx.removeStorageSync(ACCESS_TOKEN_KEY);
  wx.removeStorageSync(REFRESH_TOKEN_KEY);
  wx.removeStorageSync(IDENTITY_CLAIM_KEY);
}

function isLoggedIn() {
  return Boolean(getAccessToken() || getRefreshToken());
}

// ---- identity claim --------------------------------------------------------

// A passed face verification yields a signed claim, valid for
// `claim_expires_in` seconds, that submit, pay and certificate calls send as
// the X-Identity-Claim header. Its expiry is kept in this phone's clock, counted
// from the moment the answer arrived, so a wrong device clock cannot matter.
function storeIdentityClaim({ claim, claim_expires_in: expiresIn }) {
  const value = { token: claim, expiresAt: Date.now() + Number(expiresIn) * 1000 };
  wx.setStorageSync(IDENTITY_CLAIM_KEY, value);
  return value;
}

// {token, expiresAt (epoch ms)} while the claim is valid, else null.
function getIdentityClaim() {
  const stored = wx.getStorageSync(IDENTITY_CLAIM_KEY);
  if (!stored || typeof stored.token !== 'string' || !stored.token) return null;
  if (!(Number(stored.expiresAt) > Date.now())) {
    wx.removeStorageSync(IDENTITY_CLAIM_KEY);
    return null;
  }
  return { token: stored.token, expiresAt: Number(stored.expiresAt) };
}

function clearIdentityClaim() {
  wx.removeStorageSync(IDENTITY_CLAIM_KEY);
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

// ---- endpoints -----------------------------------------------------------

async function loginWithWechat() {
  let code;
  try {
    ({ code } = await callWx('login'));
  } catch (err) {
    throw new ApiError({
      code: 'WECHAT_LOGIN_FAILED',
      message: MESSAGES.wechatLogin,
      details: { errMsg: err && err.errMsg },
    });
  }
  const { data } = await request('/auth/wechat', { method: 'POST', data: { code }, auth: false });
  storeTokens(data);
  return data.account;
}

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

// Logging out always succeeds locally: the tokens are dropped even when the
// server cannot be told.
async function logout() {
  try {
    if (getAccessToken()) await request('/auth/logout', { method: 'POST', renewExpiredToken: false });
  } catch (err) {
    // Nothing to tell the citizen: the session ends on this phone either way.
  } finally {
    clearTokens();
  }
}

async function getMe() {
  const { data } = await request('/me');
  return data;
}

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

async function listCases({ page = 1, pageSize = 20 } = {}) {
  const query = `page=${encodeURIComponent(page)}&page_size=${encodeURIComponent(pageSize)}`;
  const { data, headers } = await request(`/cases?${query}`);
  return {
    items: Array.isArray(data) ? data : [],
    pagination: parsePagination(headers),
  };
}

async function getCase(caseNumber) {
  const { data } = await request(`/cases/${encodeURIComponent(caseNumber)}`);
  return data;
}

function casePath(caseNumber, suffix = '') {
  return `/cases/${encodeURIComponent(caseNumber)}${suffix}`;
}

async function withdrawCase(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/withdraw'), { method: 'POST' });
  return data;
}

// The citizen's rating of the service, 5 (非常满意) to 1 (非常不满意).
async function rateCase(caseNumber, score) {
  const { data } = await request(casePath(caseNumber, '/rating'), { method: 'POST', data: { score } });
  return data;
}

// ---- the combined application (一窗受理) -----------------------------------

async function getBusinessTypes() {
  const { data } = await request('/business-types');
  return Array.isArray(data) ? data : [];
}

// Empty unit number and location are left out: the draft may get them later.
async function createCase({ businessType, unitNumber, location }) {
  const body = { business_type: businessType };
  if (unitNumber) body.unit_number = unitNumber;
  if (location) body.location = location;
  const { data } = await request('/cases', { method: 'POST', data: body });
  return data;
}

async function getCaseForm(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/form'));
  return data;
}

// The whole section at once; the answer is the form view again.
async function saveFormSection(caseNumber, section, values) {
  const { data } = await request(casePath(caseNumber, `/form/${encodeURIComponent(section)}`), {
    method: 'PUT',
    data: values,
  });
  return data;
}

// `applicant` uses the server's field names (role, kind, name, id_number,
// share, representative_name, representative_id_number).
async function addApplicant(caseNumber, applicant) {
  const { data } = await request(casePath(caseNumber, '/applicants'), { method: 'POST', data: applicant });
  return data;
}

async function removeApplicant(caseNumber, applicantId) {
  const { data } = await request(casePath(caseNumber, `/applicants/${encodeURIComponent(applicantId)}`), {
    method: 'DELETE',
  });
  return data;
}

async function listMaterials(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/materials'));
  return data;
}

// The server takes at most 200 characters (code points) of the original file
// name. A longer one loses the end of its stem but keeps its extension (the
// server compares the extension with the content); a blank one is not sent.
function fitFilename(name) {
  const chars = Array.from(String(name || '').trim());
  if (chars.length <= FILENAME_MAX_LENGTH) return chars.join('');
  const dot = chars.lastIndexOf('.');
  const extension = dot > 0 && chars.length - dot <= 16 ? chars.slice(dot) : [];
  return chars.slice(0, FILENAME_MAX_LENGTH - extension.length).concat(extension).join('');
}

// `replaces`: the id of the material the new file takes the place of.
// `filename`: the file's original name when WeChat tells it (a file picked from
// a chat); photos have only temporary names, so nothing is sent for them.
async function uploadMaterial(caseNumber, { filePath, item, role, replaces, filename, onProgress }) {
  const formData = { item, role };
  if (replaces !== undefined && replaces !== null && replaces !== '') formData.replaces = String(replaces);
  const name = fitFilename(filename);
  if (name) formData.filename = name;
  return upload(casePath(caseNumber, '/materials'), { filePath, formData, onProgress });
}

async function withdrawMaterial(caseNumber, materialId) {
  const { data } = await request(casePath(caseNumber, `/materials/${encodeURIComponent(materialId)}`), {
    method: 'DELETE',
  });
  return data;
}

// Confirming and submitting need a recent face verification (X-Identity-Claim).
async function confirmCase(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/confirm'), { method: 'POST', identityClaim: true });
  return data;
}

async function submitCase(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/submit'), { method: 'POST', identityClaim: true });
  return data;
}

// ---- fees and payment (缴纳税费) ---------------------------------------------

// {case_number, items: [{item, name, department, department_label, amount_fen,
// basis, exempt}], total_fen, assessed_at}: amounts are integer fen.
async function getCaseFees(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/fees'));
  return data;
}

// Creates the payment order, or returns the one already open: the same request
// twice gives the same order. Paying needs the identity claim.
async function createPayment(caseNumber, gateway = 'wechat') {
  const { data } = await request(casePath(caseNumber, '/payments'), {
    method: 'POST',
    data: { gateway },
    identityClaim: true,
  });
  return data;
}

// The order as the server knows it: `paid` only after the gateway's verified
// notification, whatever the phone was told.
async function getPayment(outTradeNo) {
  const { data } = await request(`/payments/${encodeURIComponent(outTradeNo)}`);
  return data;
}

// ---- e-receipts (电子缴费凭证) -----------------------------------------------

// My receipts and e-bills, newest first: [{kind, kind_label, number, issued_at,
// file_url, case_number, business_type, paid_at, amount_fen, status,
// status_label, items, ...}]. Amounts are integer fen. `kind` says what document
// it is: "payment_receipt" (with gateway_label, refunded_fen,
// transaction_id_masked, refunds; file_url null) or an e-bill, "fiscal_ebill",
// "tax_certificate", "fund_receipt" (with bill_code, bill_number, check_code,
// issuer_name, verify_url, note; file_url the PDF, see downloadFile).
async function listReceipts({ page = 1, pageSize = 20 } = {}) {
  const query = `page=${encodeURIComponent(page)}&page_size=${encodeURIComponent(pageSize)}`;
  const { data, headers } = await request(`/me/receipts?${query}`);
  return {
    items: Array.isArray(data) ? data : [],
    pagination: parsePagination(headers),
  };
}

async function getReceipt(outTradeNo) {
  const { data } = await request(`/me/receipts/${encodeURIComponent(outTradeNo)}`);
  return data;
}

// ---- identity verification (kyc) ------------------------------------------

async function getKycStatus() {
  const { data } = await request('/kyc/status');
  return data;
}

async function getKycConsent() {
  const { data } = await request('/kyc/consent');
  return data;
}

async function checkRealName({ name, idNumber }) {
  const { data } = await request('/kyc/realname', { method: 'POST', data: { name, id_number: idNumber } });
  return data;
}

async function answerKycConsent({ version, accepted }) {
  const { data } = await request('/kyc/consent', { method: 'POST', data: { version, accepted: Boolean(accepted) } });
  return data;
}

async function requestKycAppointment({ preferredDate, note = '' }) {
  const { data } = await request('/kyc/appointments', {
    method: 'POST',
    data: { preferred_date: preferredDate, note },
  });
  return data;
}

async function createKycChallenge() {
  const { data } = await request('/kyc/challenges', { method: 'POST' });
  return data;
}

// Keeps the claim of a passed verification and returns the server's answer.
function keepClaim(data) {
  if (data && data.passed && data.claim) storeIdentityClaim(data);
  return data;
}

async function verifyKycChallenge(nonce, frames) {
  const { data } = await request(`/kyc/challenges/${encodeURIComponent(nonce)}/verify`, {
    method: 'POST',
    data: { frames },
  });
  return keepClaim(data);
}

async function createWechatVerifyId() {
  const { data } = await request('/kyc/wechat/verify-id', { method: 'POST' });
  return data;
}

async function confirmWechatVerify(verifyId) {
  const { data } = await request('/kyc/wechat/result', { method: 'POST', data: { verify_id: verifyId } });
  return keepClaim(data);
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
  ACCESS_TOKEN_KEY,
  REFRESH_TOKEN_KEY,
  IDENTITY_CLAIM_KEY,
  IDENTITY_CLAIM_HEADER,
  LOGIN_PAGE,
  request,
  loginWithWechat,
  refresh,
  logout,
  getMe,
  listCases,
  getCase,
  withdrawCase,
  rateCase,
  getBusinessTypes,
  createCase,
  getCaseForm,
  saveFormSection,
  addApplicant,
  removeApplicant,
  listMaterials,
  uploadMaterial,
  withdrawMaterial,
  confirmCase,
  submitCase,
  getCaseFees,
  createPayment,
  getPayment,
  listReceipts,
  getReceipt,
  downloadFile,
  resolveFileUrl,
  hasErrorCode,
  fieldErrorsOf,
  isLoggedIn,
  clearTokens,
  storeIdentityClaim,
  getIdentityClaim,
  clearIdentityClaim,
  getKycStatus,
  getKycConsent,
  checkRealName,
  answerKycConsent,
  requestKycAppointment,
  createKycChallenge,
  verifyKycChallenge,
  createWechatVerifyId,
  confirmWechatVerify,
  errorMessageOf,
  showError,
};

// ---- electronic certificates (电子证书) -------------------------------------
// The owner's certificates, their content, the watermarked image and the signed
// PDF (both need the identity claim), the institutions allowed to look them up,
// who looked, and error reports. Kept in one block; exported below.

const CLAIM_REQUIRED_MESSAGE = '请先完成人脸核验';

function certificatePath(number, suffix = '') {
  return `/certificates/${encodeURIComponent(number)}${suffix}`;
}

// [{number, kind, kind_label, status ('valid'|'revoked'), status_label, issue_date,
// location, unit_number, revoked_at, revoked_reason, replaced_by}], newest first.
async function listCertificates() {
  const { data } = await request('/certificates');
  return Array.isArray(data) ? data : [];
}

// The summary plus `content` (holders, co_ownership, location, …) and
// `content_hash`. Needs the identity claim; every look is recorded.
async function getCertificate(number) {
  const { data } = await request(certificatePath(number), { identityClaim: true });
  return data;
}

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

function sendCertificateDownload(url, accessToken, claimToken) {
  return new Promise((resolve, reject) => {
    const header = {};
    if (accessToken) header.Authorization = `Bearer ${accessToken}`;
    if (claimToken) header[IDENTITY_CLAIM_HEADER] = claimToken;
    wx.downloadFile({ url, header, timeout: UPLOAD_TIMEOUT_MS, success: resolve, fail: (res) => reject(networkError(res)) });
  });
}

// `what`: 'image' (PNG with the server's 仅供查看 watermark) or 'pdf' (signed).
// Resolves to the temporary file path. Sends the bearer token and the identity
// claim; a 401 renews the session once; a 403 is the claim the server wants.
async function downloadCertificateFile(number, what, renewExpiredToken = true) {
  const accessToken = getAccessToken();
  const claim = getIdentityClaim();
  const url = `${getApiBaseUrl()}${certificatePath(number, `/${what}`)}`;
  const response = await sendCertificateDownload(url, accessToken, claim && claim.token);
  if (response.statusCode >= 200 && response.statusCode < 300) return response.tempFilePath;
  const body = readDownloadedError(response.tempFilePath);
  const error = body ? toApiError(response.statusCode, body) : null;
  if (response.statusCode === 401 && renewExpiredToken && (!error || isRenewableTokenError(error))) {
    await renewAfterExpiry(accessToken);
    return downloadCertificateFile(number, what, false);
  }
  if (error) throw error;
  if (response.statusCode === 403) {
    // These files refuse only for want of a valid identity claim.
    throw new ApiError({ code: 'IDENTITY_CLAIM_REQUIRED', message: CLAIM_REQUIRED_MESSAGE, status: 403 });
  }
  throw new ApiError({
    code: response.statusCode === 404 ? 'NOT_FOUND' : `HTTP_${response.statusCode}`,
    message: response.statusCode === 404 ? '未找到该证书' : '证书文件下载失败，请稍后重试',
    status: response.statusCode,
  });
}

// [{id, name, kind, kind_label}]: who may be allowed to look a certificate up.
async function listInstitutions() {
  const { data } = await request('/institutions');
  return Array.isArray(data) ? data : [];
}

// [{id, institution: {id, name, kind, kind_label}, purpose, granted_at,
// expires_at, revoked_at, status ('active'|'expired'|'revoked'), status_label,
// granted_by_me}], newest first.
async function listCertificateConsents(number) {
  const { data } = await request(certificatePath(number, '/consents'));
  return Array.isArray(data) ? data : [];
}

// Letting an institution see the content needs the identity claim.
async function grantCertificateConsent(number, { institutionId, purpose, days }) {
  const { data } = await request(certificatePath(number, '/consents'), {
    method: 'POST',
    data: { institution_id: institutionId, purpose, days },
    identityClaim: true,
  });
  return data;
}

// Takes effect at once. The claim goes along when there is one (harmless
// where the server does not ask for it).
async function revokeCertificateConsent(number, consentId) {
  const { data } = await request(certificatePath(number, `/consents/${encodeURIComponent(consentId)}`), {
    method: 'DELETE',
    identityClaim: true,
  });
  return data;
}

// [{at, who, accessor_type, action, outcome ('allowed'|'denied'), basis}], newest first.
async function listCertificateAccesses(number) {
  const { data } = await request(certificatePath(number, '/accesses'));
  return Array.isArray(data) ? data : [];
}

// [{id, item, description, status, status_label, created_at, due_at,
// clock_label, overdue, answered_at, outcome, outcome_label, answer, new_certificate}].
async function listCertificateCorrections(number) {
  const { data } = await request(certificatePath(number, '/corrections'));
  return Array.isArray(data) ? data : [];
}

// An error on the certificate, answered within one working day (`due_at`).
async function reportCertificateError(number, { item, description }) {
  const { data } = await request(certificatePath(number, '/corrections'), {
    method: 'POST',
    data: { item, description },
    identityClaim: true,
  });
  return data;
}

Object.assign(module.exports, {
  listCertificates,
  getCertificate,
  downloadCertificateFile,
  listInstitutions,
  listCertificateConsents,
  grantCertificateConsent,
  revokeCertificateConsent,
  listCertificateAccesses,
  listCertificateCorrections,
  reportCertificateError,
});
