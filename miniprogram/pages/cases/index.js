const { listCases, isLoggedIn, showError, LOGIN_PAGE } = require('../../services/api');

const PAGE_SIZE = 20;

// X-Pagination omits next_page on the last page; without the header, a short
// page is the last one.
function hasNextPage(pagination, page, receivedCount) {
  if (pagination) {
    if (pagination.next_page !== undefined) return pagination.next_page !== null;
    if (pagination.total_pages !== undefined) return page < pagination.total_pages;
  }
  return receivedCount >= PAGE_SIZE;
}

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

  async onPullDownRefresh() {
    try {
      await this.loadPage(1);
    } finally {
      wx.stopPullDownRefresh();
    }
  },

  onReachBottom() {
    if (!this.data.hasMore || this.data.loading) return undefined;
    return this.loadPage(this.data.page + 1);
  },

  async loadPage(page) {
    // A reload started on show or pull-down supersedes a page still loading.
    this.loadSequence = (this.loadSequence || 0) + 1;
    const sequence = this.loadSequence;
    this.setData({ loading: true });
    try {
      const { items, pagination } = await listCases({ page, pageSize: PAGE_SIZE });
      if (sequence !== this.loadSequence) return;
      this.setData({
        items: page === 1 ? items : this.data.items.concat(items),
        page,
        hasMore: hasNextPage(pagination, page, items.length),
        loaded: true,
        loadFailed: false,
      });
    } catch (err) {
      if (sequence !== this.loadSequence) return;
      this.setData({ loaded: true, loadFailed: this.data.items.length === 0 });
      showError(err);
    } finally {
      if (sequence === this.loadSequence) this.setData({ loading: false });
    }
  },

  onCreate() {
    wx.navigateTo({ url: '/pages/case-new/index' });
  },

  onCaseSelect(event) {
    const { caseNumber } = event.detail;
    wx.navigateTo({ url: `/pages/case-detail/index?case_number=${encodeURIComponent(caseNumber)}` });
  },
});
