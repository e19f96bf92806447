// The load / pull-to-refresh / error pattern of a page that shows one thing (a
// case, its materials, a certificate, a list read in one go). Spread into Page():
//
//   Page({
//     data: { caseNumber: '', detail: null, loading: true, loaded: false, errorMessage: '' },
//     ...pageLoader({
//       missing() { return this.data.caseNumber ? '' : '缺少办件编号'; },
//       fetch() { return getCase(this.data.caseNumber); },
//       show(item) { return { detail: presentCase(item) }; },
//       shown() { return Boolean(this.data.detail); },
//     }),
//   });
//
// Every hook runs with `this` the page. It gives the page load(), onReload()
// (a 重新加载 button) and onPullDownRefresh() (stops the animation when done),
// and keeps `loading`, `loaded` and the error text (`errorKey`, 'errorMessage'
// unless told) in the page's data:
// - missing(): a message when there is nothing to load (no case number); shown
//   in the page, nothing is asked.
// - fetch(): the server's answer (a promise). The latest load wins: the answer
//   of a load that another one has overtaken is dropped.
// - show(result): the data to set (an object, or nothing when it sets its own).
// - afterShow(result, sequence): optional, awaited before `loading` ends (QR codes,
//   thumbnails); isCurrentLoad(sequence) tells whether a newer load began meanwhile.
// - shown(): whether a copy is on screen. A failure then keeps it and shows a
//   toast (showError); otherwise the message takes the page's place. By default:
//   a load has succeeded and no error replaced it.
const { errorMessageOf, showError } = require('../services/http');

function pageLoader({ fetch, show = () => undefined, missing, afterShow, shown, errorKey = 'errorMessage' }) {
  function isShown(page) {
    if (shown) return Boolean(shown.call(page));
    return Boolean(page.data.loaded) && !page.data[errorKey];
  }

  return {
    async load() {
      const reason = missing ? missing.call(this) : '';
      if (reason) {
        this.loadSequence = (this.loadSequence || 0) + 1; // drops a load under way
        this.setData({ loading: false, loaded: true, [errorKey]: reason });
        return;
      }
      this.loadSequence = (this.loadSequence || 0) + 1;
      const sequence = this.loadSequence;
      // What is on screen when the load begins decides where a failure is told.
      const onScreen = isShown(this);
      // An error in the page's place gives way to 加载中 while it is tried again.
      this.setData(onScreen ? { loading: true } : { loading: true, [errorKey]: '' });
      try {
        const result = await fetch.call(this);
        if (!this.isCurrentLoad(sequence)) return;
        const update = show.call(this, result) || {};
        this.setData(Object.assign({}, update, { loaded: true, [errorKey]: '' }));
        if (afterShow) await afterShow.call(this, result, sequence);
      } catch (err) {
        if (!this.isCurrentLoad(sequence)) return;
        if (onScreen) showError(err);
        else this.setData({ [errorKey]: errorMessageOf(err) });
      } finally {
        if (this.isCurrentLoad(sequence)) this.setData({ loading: false, loaded: true });
      }
    },

    isCurrentLoad(sequence) {
      return sequence === this.loadSequence;
    },

    onReload() {
      return this.load();
    },

    async onPullDownRefresh() {
      try {
        await this.load();
      } finally {
        wx.stopPullDownRefresh();
      }
    },
  };
}

module.exports = { pageLoader };
