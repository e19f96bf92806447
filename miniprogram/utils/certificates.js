// The electronic-certificate pages: their URLs, what is shown for a certificate,
// and the identity claim. The content, image, PDF, granting a consent and
// reporting an error need a recent face verification; without one the server
// answers 403 IDENTITY_CLAIM_REQUIRED (or _EXPIRED), the citizen is offered the
// verification journey, and the page resumes on onShow (takePendingClaimAction).
const { showError } = require('../services/http');
const { getKycStatus } = require('../services/kyc');
const { callWx } = require('./wx-async');
const { entryUrl } = require('./kyc');
const { formatDateTime } = require('./time');
const { needsIdentityClaim, takePendingClaimAction } = require('./case-actions');

const CERTIFICATE_PAGES = {
  list: '/packageCertificate/pages/list/index',
  viewer: '/pages/certificate/index',
  consents: '/packageCertificate/pages/consents/index',
  accesses: '/packageCertificate/pages/accesses/index',
  correction: '/packageCertificate/pages/correction/index',
};

function certificateUrl(page, number) {
  return `${page}?number=${encodeURIComponent(number)}`;
}

// The first page of the verification journey this citizen still needs.
async function openIdentityVerification() {
  const status = await getKycStatus();
  wx.navigateTo({ url: entryUrl(status) });
}

// Asks first; on 去核验 opens the journey and remembers `action` for onShow.
// Resolves to true when the journey was opened.
async function offerIdentityVerification(page, action, label, err) {
  const expired = Boolean(err) && err.code === 'IDENTITY_CLAIM_EXPIRED';
  const { confirm } = await callWx('showModal', {
    title: '需要身份核验',
    content: `${expired ? '您的身份核验已过期。' : ''}${label}前需要进行人脸核验，确认是您本人操作。核验通过后将继续${label}。`,
    confirmText: '去核验',
    cancelText: '取消',
  });
  if (!confirm) return false;
  return startIdentityVerification(page, action);
}

// Opens the journey at once (a 去核验 button on the page already asked).
async function startIdentityVerification(page, action) {
  try {
    await openIdentityVerification();
    page.pendingClaimAction = action;
    return true;
  } catch (statusError) {
    showError(statusError);
    return false;
  }
}

// Runs `call`; when the server wants a (fresh) identity claim, offers the
// journey and resolves to null. Any other error is thrown for the page.
async function runWithIdentityClaim(page, action, label, call) {
  try {
    return await call();
  } catch (err) {
    if (!needsIdentityClaim(err)) throw err;
    await offerIdentityVerification(page, action, label, err);
    return null;
  }
}

// What a list entry and the viewer's header show.
function presentSummary(certificate) {
  const revoked = certificate.status === 'revoked';
  return {
    number: certificate.number || '',
    kindLabel: certificate.kind_label || '不动产权证书',
    status: certificate.status || '',
    statusLabel: revoked ? '已作废' : certificate.status_label || '有效',
    revoked,
    issueDate: certificate.issue_date || '', // a calendar date, shown as is
    location: certificate.location || '',
    unitNumber: certificate.unit_number || '',
    revokedText: formatDateTime(certificate.revoked_at),
    revokedReason: certificate.revoked_reason || '',
    replacedBy: certificate.replaced_by || '',
  };
}

module.exports = {
  CERTIFICATE_PAGES,
  certificateUrl,
  needsIdentityClaim,
  takePendingClaimAction,
  runWithIdentityClaim,
  startIdentityVerification,
  presentSummary,
};
