const { isLoggedIn, LOGIN_PAGE } = require('../../services/session');
const { showError } = require('../../services/http');
const { listCases } = require('../../services/cases');
const { pagedList } = require('../../utils/paging');

Page({
  data: {
    items: [],
    page: 0,
    hasMore: false,
    loading: false,
    loaded: false,
    loadFailed: false,
  },

  onShow() {
    if (!isLoggedIn()) {
      wx.reLaunch({ url: LOGIN_PAGE });
      return undefined;
    }
    return this.loadPage(1);
  },

  ...pagedList({ fetch: (query) => listCases(query) }),

  pageLoaded() {
    return { loadFailed: false };
  },

  onPageError(err) {
    this.setData({ loaded: true, loadFailed: this.data.items.length === 0 });
    showError(err);
  },

  onCreate() {
    wx.navigateTo({ url: '/pages/case-new/index' });
  },

  onCaseSelect(event) {
    const { caseNumber } = event.detail;
    wx.navigateTo({ url: `/pages/case-detail/index?case_number=${encodeURIComponent(caseNumber)}` });
  },
});
