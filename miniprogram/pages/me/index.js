const { getMe, logout, isLoggedIn, errorMessageOf, LOGIN_PAGE } = require('../../services/api');
const { callWx } = require('../../utils/wx-async');

const CHANNEL_NAMES = { wechat: '微信', sms: '手机短信' };

function presentProfile(me) {
  const person = me.person || null;
  return {
    name: person ? person.name : '',
    idNumberMasked: person ? person.id_number_masked : '',
    phoneMasked: me.phone_masked || '',
    identityVerified: Boolean(me.identity_verified),
    channelsText: (me.channels || []).map((channel) => CHANNEL_NAMES[channel] || channel).join('、'),
  };
}

Page({
  data: {
    profile: null,
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
    try {
      const me = await getMe();
      this.setData({ profile: presentProfile(me), errorMessage: '' });
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
