// A list page that loads 20 items at a time: pull down reloads, reaching the bottom
// loads the next page, and a reload supersedes a page still loading.
// The page supplies pageLoaded() (extra data after a successful load) and
// onPageError(err) (what a failed load shows).

const PAGE_SIZE = 20;

// X-Pagination omits next_page on the last page; without the header, a short
// page is the last one.
function hasNextPage(pagination, page, receivedCount, pageSize = PAGE_SIZE) {
  if (pagination) {
    if (pagination.next_page !== undefined) return pagination.next_page !== null;
    if (pagination.total_pages !== undefined) return page < pagination.total_pages;
  }
  return receivedCount >= pageSize;
}

function pagedList({ fetch, present = (item) => item, pageSize = PAGE_SIZE }) {
  return {
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
      this.loadSequence = (this.loadSequence || 0) + 1;
      const sequence = this.loadSequence;
      this.setData({ loading: true });
      try {
        const { items, pagination } = await fetch({ page, pageSize });
        if (sequence !== this.loadSequence) return;
        const shown = items.map(present);
        this.setData({
          items: page === 1 ? shown : this.data.items.concat(shown),
          page,
          hasMore: hasNextPage(pagination, page, items.length, pageSize),
          loaded: true,
          ...this.pageLoaded(),
        });
      } catch (err) {
        if (sequence !== this.loadSequence) return;
        this.onPageError(err);
      } finally {
        if (sequence === this.loadSequence) this.setData({ loading: false });
      }
    },
  };
}

module.exports = { PAGE_SIZE, hasNextPage, pagedList };
