// Logging in with WeChat, logging out, and who is logged in.
const { callWx } = require('../utils/wx-async');
const { ApiError, request } = require('./http');
const { getAccessToken, storeTokens, clearTokens } = require('./session');

const WECHAT_LOGIN_MESSAGE = '微信登录失败，请稍后重试';

// Sends the wx.login() code to POST /auth/wechat and keeps the tokens.
async function loginWithWechat() {
  let code;
  try {
    ({ code } = await callWx('login'));
  } catch (err) {
    throw new ApiError({
      code: 'WECHAT_LOGIN_FAILED',
      message: WECHAT_LOGIN_MESSAGE,
      details: { errMsg: err && err.errMsg },
    });
  }
  const { data } = await request('/auth/wechat', { method: 'POST', data: { code }, auth: false });
  storeTokens(data);
  return data.account;
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

module.exports = { loginWithWechat, logout, getMe };
