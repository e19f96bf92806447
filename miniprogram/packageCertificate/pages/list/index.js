// 我的证书: the electronic certificates issued to me, newest first. A revoked one
// says 已作废 and names the certificate that replaced it. Tap one to view it.
const { listCertificates } = require('../../../services/certificates');
const { CERTIFICATE_PAGES, certificateUrl, presentSummary } = require('../../../utils/certificates');
const { pageLoader } = require('../../../utils/page-loader');

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

  ...pageLoader({
    fetch: listCertificates,
    show(certificates) {
      return { items: certificates.map((certificate) => Object.assign(presentSummary(certificate), { key: certificate.number })) };
    },
    shown() {
      return this.data.items.length > 0;
    },
  }),

  onOpen(event) {
    const { number } = event.currentTarget.dataset;
    if (number) wx.navigateTo({ url: certificateUrl(CERTIFICATE_PAGES.viewer, number) });
  },
});
