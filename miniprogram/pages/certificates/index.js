// 我的证书: the electronic certificates issued to me, newest first. A revoked one
// says 已作废 and names the certificate that replaced it. Tap one to view it.
const { errorMessageOf, showError } = require('../../services/http');
const { listCertificates } = require('../../services/certificates');
const { CERTIFICATE_PAGES, certificateUrl, presentSummary } = require('../../utils/certificates');

Page({
  data: {
    items: [],
    loaded: false,
    loading: false,
    errorMessage: '',
  },

  onLoad() {
    this.shown = false;
    return this.load();
  },

  // Back from a certificate: a correction may have replaced it meanwhile.
  onShow() {
    if (!this.shown) {
      this.shown = true;
      return undefined;
    }
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
    if (this.data.loading) return;
    this.setData({ loading: true });
    try {
      const certificates = await listCertificates();
      this.setData({
        items: certificates.map((certificate) => Object.assign(presentSummary(certificate), { key: certificate.number })),
        errorMessage: '',
      });
    } catch (err) {
      if (this.data.items.length) showError(err);
      else this.setData({ errorMessage: errorMessageOf(err) });
    } finally {
      this.setData({ loading: false, loaded: true });
    }
  },

  onOpen(event) {
    const { number } = event.currentTarget.dataset;
    if (number) wx.navigateTo({ url: certificateUrl(CERTIFICATE_PAGES.viewer, number) });
  },
});
