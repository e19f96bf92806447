// What this phone keeps of the session: the access and refresh tokens, and the
// identity claim of a recent face verification. Storage only; services/http.js
// sends them and renews the tokens.
const ACCESS_TOKEN_KEY = 'auth.access';
const REFRESH_TOKEN_KEY = 'auth.refresh';
const IDENTITY_CLAIM_KEY = 'kyc.claim';
const LOGIN_PAGE = '/pages/login/index';

// ---- tokens ----------------------------------------------------------------

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

module.exports = {
  ACCESS_TOKEN_KEY,
  REFRESH_TOKEN_KEY,
  IDENTITY_CLAIM_KEY,
  LOGIN_PAGE,
  getAccessToken,
  getRefreshToken,
  storeTokens,
  clearTokens,
  isLoggedIn,
  storeIdentityClaim,
  getIdentityClaim,
  clearIdentityClaim,
};
