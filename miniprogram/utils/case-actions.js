// Confirming, submitting and paying for a case need a recent face verification (the
// identity claim). Without one the server answers 403; the citizen is then
// offered the verification journey, and the page resumes the action when the
// journey ends with a valid claim (back on the page's onShow).
const { getIdentityClaim } = require('../services/session');
const { hasErrorCode, showError } = require('../services/http');
const { confirmCase, submitCase } = require('../services/cases');
const { createPayment } = require('../services/payments');
const { getKycStatus } = require('../services/kyc');
const { callWx } = require('./wx-async');
const { entryUrl } = require('./kyc');

const CLAIM_ERROR_CODES = ['IDENTITY_CLAIM_REQUIRED', 'IDENTITY_CLAIM_EXPIRED'];
const CLAIM_ACTIONS = { confirm: confirmCase, submit: submitCase, pay: (caseNumber) => createPayment(caseNumber, 'wechat') };
const ACTION_LABELS = { confirm: '确认申请内容', submit: '提交申请', pay: '缴纳税费' };

const CASE_PAGES = {
  detail: '/pages/case-detail/index',
  form: '/pages/case-form/index',
  materials: '/pages/case-materials/index',
  payment: '/pages/case-payment/index',
  create: '/pages/case-new/index',
};

function caseUrl(page, caseNumber, extra = {}) {
  const params = Object.assign({ case_number: caseNumber }, extra);
  const query = Object.keys(params)
    .filter((key) => params[key] !== undefined && params[key] !== null && params[key] !== '')
    .map((key) => `${key}=${encodeURIComponent(params[key])}`)
    .join('&');
  return `${page}?${query}`;
}

function needsIdentityClaim(err) {
  return Boolean(err) && err.status === 403 && hasErrorCode(err, ...CLAIM_ERROR_CODES);
}

// The first page of the verification journey this citizen still needs.
async function openIdentityVerification() {
  const status = await getKycStatus();
  wx.navigateTo({ url: entryUrl(status) });
}

async function offerIdentityVerification(page, action, err) {
  const expired = hasErrorCode(err, 'IDENTITY_CLAIM_EXPIRED');
  const { confirm } = await callWx('showModal', {
    title: '需要身份核验',
    content: `${expired ? '您的身份核验已过期。' : ''}${ACTION_LABELS[action]}前需要进行人脸核验，确认是您本人操作。核验通过后将继续${ACTION_LABELS[action]}。`,
    confirmText: '去核验',
    cancelText: '取消',
  });
  if (!confirm) return;
  try {
    await openIdentityVerification();
    page.pendingClaimAction = action;
  } catch (statusError) {
    showError(statusError);
  }
}

// Runs `action` ('confirm', 'submit' or 'pay') for the case. Resolves to the
// server's answer (the case detail; for 'pay' the payment order), or null when the citizen was sent to verify their identity first.
// Any other error is thrown for the page to show.
async function runClaimAction(page, action, caseNumber) {
  try {
    return await CLAIM_ACTIONS[action](caseNumber);
  } catch (err) {
    if (!needsIdentityClaim(err)) throw err;
    await offerIdentityVerification(page, action, err);
    return null;
  }
}

// On the page's onShow: the action to resume after a passed verification, or
// null (none waiting, or the journey ended without a claim).
function takePendingClaimAction(page) {
  const action = page.pendingClaimAction || null;
  page.pendingClaimAction = null;
  return action && getIdentityClaim() ? action : null;
}

module.exports = {
  CASE_PAGES,
  ACTION_LABELS,
  caseUrl,
  needsIdentityClaim,
  runClaimAction,
  takePendingClaimAction,
};
