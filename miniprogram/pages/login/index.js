const { isLoggedIn } = require('../../services/session');
const { showError } = require('../../services/http');
const { loginWithWechat } = require('../../services/auth');

const HOME_PAGE = '/pages/cases/index';

Page({
  data: {
    submitting: false,
  },

  onLoad() {
    if (isLoggedIn()) wx.reLaunch({ url: HOME_PAGE });
  },

  async onLogin() {
    if (this.data.submitting) return;
    this.setData({ submitting: true });
    try {
      await loginWithWechat();
      wx.reLaunch({ url: HOME_PAGE });
    } catch (err) {
      showError(err);
    } finally {
      this.setData({ submitting: false });
    }
  },
});
