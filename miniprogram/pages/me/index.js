const { isLoggedIn, LOGIN_PAGE } = require('../../services/session');
const { errorMessageOf } = require('../../services/http');
const { getMe, logout } = require('../../services/auth');
const { getKycStatus } = require('../../services/kyc');
const { callWx } = require('../../utils/wx-async');
const { formatDateTime, formatTime, parseIsoDateTime } = require('../../utils/time');
const { entryUrl, isLockedNow, KYC_PAGES } = require('../../utils/kyc');

const CHANNEL_NAMES = { wechat: '微信', sms: '手机短信' };

function presentProfile(me) {
  const person = me.person || null;
  return {
    name: person ? person.name : '',
    idNumberMasked: person ? person.id_number_masked : '',
    phoneMasked: me.phone_masked || '',
    channelsText: (me.channels || []).map((channel) => CHANNEL_NAMES[channel] || channel).join('、'),
  };
}

function isFuture(iso) {
  const date = parseIsoDateTime(iso);
  return Boolean(date) && date.getTime() > Date.now();
}

// The 实名认证 entry: the status, a line on what applies now, and where a tap
// leads. Without /kyc/status (an older server, a failed call) the profile's
// flag still tells verified from not.
function presentKyc(status, me) {
  if (!status) {
    const verified = Boolean(me.identity_verified);
    return { verified, note: verified ? '' : '去认证', url: KYC_PAGES.realname };
  }
  const verified = Boolean(status.identity_verified);
  let note = verified ? '' : '去认证';
  if (isLockedNow(status.locked_until)) note = `人脸核验已暂停至 ${formatDateTime(status.locked_until)}`;
  else if (isFuture(status.claim_valid_until)) note = `核验有效至 ${formatTime(status.claim_valid_until)}`;
  return { verified, note, url: entryUrl(status) };
}

Page({
  data: {
    profile: null,
    kyc: null,
    errorMessage: '',
    loggingOut: false,
  },

  onShow() {
    if (!isLoggedIn()) {
      wx.reLaunch({ url: LOGIN_PAGE });
      return undefined;
    }
    return this.load();
  },

  async load() {
    const status = getKycStatus().catch(() => null);
    try {
      const me = await getMe();
      this.setData({ profile: presentProfile(me), kyc: presentKyc(await status, me), errorMessage: '' });
    } catch (err) {
      this.setData({ errorMessage: errorMessageOf(err) });
    }
  },

  async onLogout() {
    if (this.data.loggingOut) return;
    const { confirm } = await callWx('showModal', {
      title: '退出登录',
      content: '退出后需要重新登录才能查看办件，确定退出吗？',
      confirmText: '退出',
      cancelText: '取消',
    });
    if (!confirm) return;
    this.setData({ loggingOut: true });
    await logout();
    wx.reLaunch({ url: LOGIN_PAGE });
  },
});
