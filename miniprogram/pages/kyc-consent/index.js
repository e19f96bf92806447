// Face data is sensitive personal information: processing it needs a separate,
// explicit consent to a versioned text. Declining is a real choice that leads
// to verification at the counter.
const { errorMessageOf, showError } = require('../../services/http');
const { getKycConsent, getKycStatus, answerKycConsent } = require('../../services/kyc');
const { KYC_PAGES, verificationPage } = require('../../utils/kyc');

Page({
  data: {
    loading: true,
    errorMessage: '',
    consent: null,
    provider: 'local',
    answering: '',
    declined: false,
  },

  onLoad() {
    return this.load();
  },

  async load() {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const [consent, status] = await Promise.all([getKycConsent(), getKycStatus()]);
      this.setData({ consent, provider: status.provider || 'local' });
    } catch (err) {
      this.setData({ errorMessage: errorMessageOf(err) });
    } finally {
      this.setData({ loading: false });
    }
  },

  onReload() {
    return this.load();
  },

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
