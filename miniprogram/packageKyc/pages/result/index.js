const { getIdentityClaim } = require('../../../services/session');
const { formatDateTime, formatTime } = require('../../../utils/time');
const { KYC_PAGES, LOCKED_CODE, decodeQueryValue } = require('../../../utils/kyc');

const ME_PAGE = '/pages/me/index';

function presentPassed() {
  const claim = getIdentityClaim();
  return {
    outcome: 'passed',
    validUntil: claim ? formatTime(claim.expiresAt) : '',
  };
}

function presentFailed(query) {
  const code = decodeQueryValue(query.code);
  const locked = code === LOCKED_CODE;
  const lockedUntil = formatDateTime(decodeQueryValue(query.locked_until));
  const reason =
    decodeQueryValue(query.message) ||
    (locked ? '今日人脸核验失败次数过多，已暂停人脸核验' : '人脸核验未通过');
  return { outcome: 'failed', locked, lockedUntil, reason };
}

Page({
  data: {
    outcome: '',
    validUntil: '',
    locked: false,
    lockedUntil: '',
    reason: '',
  },

  onLoad(query) {
    const params = query || {};
    this.setData(params.outcome === 'passed' ? presentPassed() : presentFailed(params));
  },

  // Back to where the journey began (the journey's pages replace each other).
  onDone() {
    wx.navigateBack({ delta: 1, fail: () => wx.switchTab({ url: ME_PAGE }) });
  },

  onBookAppointment() {
    wx.redirectTo({ url: KYC_PAGES.appointment });
  },
});
