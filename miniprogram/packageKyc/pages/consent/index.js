// Face data is sensitive personal information: processing it needs a separate,
// explicit consent to a versioned text. Declining is a real choice that leads
// to verification at the counter.
const { showError } = require('../../../services/http');
const { getKycConsent, getKycStatus, answerKycConsent } = require('../../../services/kyc');
const { KYC_PAGES, verificationPage } = require('../../../utils/kyc');
const { pageLoader } = require('../../../utils/page-loader');

Page({
  data: {
    loading: true,
    loaded: false,
    errorMessage: '',
    consent: null,
    provider: 'local',
    answering: '',
    declined: false,
  },

  onLoad() {
    return this.load();
  },

  // Nothing can be agreed to without the text: a failure takes the page's place.
  ...pageLoader({
    fetch() {
      return Promise.all([getKycConsent(), getKycStatus()]);
    },
    show([consent, status]) {
      return { consent, provider: status.provider || 'local' };
    },
    shown() {
      return false;
    },
  }),

  async answer(accepted) {
    if (this.data.answering || !this.data.consent) return false;
    this.setData({ answering: accepted ? 'accept' : 'decline' });
    try {
      await answerKycConsent({ version: this.data.consent.version, accepted });
      return true;
    } catch (err) {
      showError(err);
      return false;
    } finally {
      this.setData({ answering: '' });
    }
  },

  async onAccept() {
    if (await this.answer(true)) wx.redirectTo({ url: verificationPage(this.data.provider) });
  },

  async onDecline() {
    if (await this.answer(false)) this.setData({ declined: true });
  },

  onReconsider() {
    this.setData({ declined: false });
  },

  onBookAppointment() {
    wx.navigateTo({ url: KYC_PAGES.appointment });
  },
});
