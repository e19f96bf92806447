// 纸质证书寄递/领取: where a case's paper certificate is (mail: the courier, the
// tracking number and its route; window: ready or collected), the documents that
// travel with it, and the holder's pickup code with its QR while it is usable.
// Opened from the case detail and from the shipped / at-window notifications
// (pages/delivery/index?case_number=…).
const { callWx } = require('../../utils/wx-async');
const { decodeQueryValue } = require('../../utils/kyc');
const { listDeliveries, downloadPickupQr } = require('../../services/deliveries');
const { presentDelivery } = require('../../utils/deliveries');
const { pageLoader } = require('../../utils/page-loader');

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
    this.setData({ caseNumber: decodeQueryValue(query && query.case_number) });
    return this.load();
  },

  // A refresh started while an earlier load is under way wins; the QR codes of
  // the pickup codes are part of the load.
  ...pageLoader({
    missing() {
      return this.data.caseNumber ? '' : '缺少办件编号';
    },
    fetch() {
      return listDeliveries(this.data.caseNumber);
    },
    show(items) {
      return { deliveries: items.map(presentDelivery) };
    },
    afterShow(items, sequence) {
      return Promise.all(this.data.deliveries.map((delivery, index) => (delivery.hasCode ? this.loadQr(index, sequence) : null)));
    },
  }),

  async loadQr(index, seq = this.loadSequence) {
    const delivery = this.data.deliveries[index];
    if (!delivery || !delivery.hasCode) return;
    const at = `deliveries[${index}]`;
    this.setData({ [`${at}.qrLoading`]: true, [`${at}.qrError`]: '' });
    try {
      const path = await downloadPickupQr(this.data.caseNumber, delivery.number);
      if (!this.isCurrentLoad(seq)) return;
      this.setData({ [`${at}.qrPath`]: path });
    } catch (err) {
      if (!this.isCurrentLoad(seq)) return;
      this.setData({ [`${at}.qrPath`]: '', [`${at}.qrError`]: QR_ERROR });
    } finally {
      if (this.isCurrentLoad(seq)) this.setData({ [`${at}.qrLoading`]: false });
    }
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
