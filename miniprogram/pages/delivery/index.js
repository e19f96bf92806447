// 纸质证书寄递/领取: where a case's paper certificate is (mail: the courier, the
// tracking number and its route; window: ready or collected), the documents that
// travel with it, and the holder's pickup code with its QR while it is usable.
// Opened from the case detail and from the shipped / at-window notifications
// (pages/delivery/index?case_number=…).
const { errorMessageOf, showError } = require('../../services/http');
const { callWx } = require('../../utils/wx-async');
const { decodeQueryValue } = require('../../utils/kyc');
const { listDeliveries, downloadPickupQr } = require('../../services/deliveries');
const { presentDelivery } = require('../../utils/deliveries');

const QR_ERROR = '二维码加载失败，点此重试；也可直接出示上方数字';

Page({
  data: {
    caseNumber: '',
    deliveries: [],
    loaded: false,
    loading: true,
    errorMessage: '',
  },

  onLoad(query) {
    this.loadSeq = 0;
    this.setData({ caseNumber: decodeQueryValue(query && query.case_number) });
    return this.load();
  },

  async onPullDownRefresh() {
    try {
      await this.load();
    } finally {
      wx.stopPullDownRefresh();
    }
  },

  async load() {
    if (!this.data.caseNumber) {
      this.setData({ loading: false, loaded: true, errorMessage: '缺少办件编号' });
      return;
    }
    // A refresh started while an earlier load is under way wins.
    this.loadSeq = (this.loadSeq || 0) + 1;
    const seq = this.loadSeq;
    this.setData({ loading: true });
    try {
      const items = await listDeliveries(this.data.caseNumber);
      if (seq !== this.loadSeq) return;
      this.setData({ deliveries: items.map(presentDelivery), loaded: true, errorMessage: '' });
      await Promise.all(this.data.deliveries.map((delivery, index) => (delivery.hasCode ? this.loadQr(index, seq) : null)));
    } catch (err) {
      if (seq !== this.loadSeq) return;
      // In the page when nothing is shown yet; a toast over what is still on screen.
      if (this.data.loaded && !this.data.errorMessage) showError(err);
      else this.setData({ loaded: true, errorMessage: errorMessageOf(err) });
    } finally {
      if (seq === this.loadSeq) this.setData({ loading: false });
    }
  },

  async loadQr(index, seq = this.loadSeq) {
    const delivery = this.data.deliveries[index];
    if (!delivery || !delivery.hasCode) return;
    const at = `deliveries[${index}]`;
    this.setData({ [`${at}.qrLoading`]: true, [`${at}.qrError`]: '' });
    try {
      const path = await downloadPickupQr(this.data.caseNumber, delivery.number);
      if (seq !== this.loadSeq) return;
      this.setData({ [`${at}.qrPath`]: path });
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.setData({ [`${at}.qrPath`]: '', [`${at}.qrError`]: QR_ERROR });
    } finally {
      if (seq === this.loadSeq) this.setData({ [`${at}.qrLoading`]: false });
    }
  },

  onRetry() {
    return this.load();
  },

  onRetryQr(event) {
    return this.loadQr(Number(event.currentTarget.dataset.index));
  },

  async onCopyTracking(event) {
    const trackingNumber = event.currentTarget.dataset.tracking;
    if (!trackingNumber) return;
    try {
      // WeChat itself confirms with 内容已复制.
      await callWx('setClipboardData', { data: String(trackingNumber) });
    } catch (err) {
      wx.showToast({ title: '复制失败，请长按单号复制', icon: 'none' });
    }
  },
});
