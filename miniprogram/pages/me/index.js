const { isLoggedIn, LOGIN_PAGE } = require('../../services/session');
const { getMe, logout } = require('../../services/auth');
const { getKycStatus } = require('../../services/kyc');
const { callWx } = require('../../utils/wx-async');
const { formatDateTime, formatTime, parseIsoDateTime } = require('../../utils/time');
const { entryUrl, isLockedNow, KYC_PAGES } = require('../../utils/kyc');
const { pageLoader } = require('../../utils/page-loader');

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
    loading: false,
    loaded: false,
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

  // The profile is needed; the verification status only adds to it.
  ...pageLoader({
    async fetch() {
      const status = getKycStatus().catch(() => null);
      const me = await getMe();
      return { me, status: await status };
    },
    show({ me, status }) {
      return { profile: presentProfile(me), kyc: presentKyc(status, me) };
    },
    shown() {
      return Boolean(this.data.profile);
    },
  }),

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
