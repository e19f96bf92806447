// Electronic certificates (电子证书): the owner's certificates, their content,
// the watermarked image and the signed PDF (both need the identity claim), the
// institutions allowed to look them up, who looked, and error reports.
const { request, downloadWithIdentityClaim } = require('./http');

const DOWNLOAD_MESSAGES = { notFound: '未找到该证书', failed: '证书文件下载失败，请稍后重试' };

function certificatePath(number, suffix = '') {
  return `/certificates/${encodeURIComponent(number)}${suffix}`;
}

// [{number, kind, kind_label, status ('valid'|'revoked'), status_label, issue_date,
// location, unit_number, revoked_at, revoked_reason, replaced_by}], newest first.
async function listCertificates() {
  const { data } = await request('/certificates');
  return Array.isArray(data) ? data : [];
}

// The summary plus `content` (holders, co_ownership, location, …) and
// `content_hash`. Needs the identity claim; every look is recorded.
async function getCertificate(number) {
  const { data } = await request(certificatePath(number), { identityClaim: true });
  return data;
}

// `what`: 'image' (PNG with the server's 仅供查看 watermark) or 'pdf' (signed).
// Resolves to the temporary file path. Sends the bearer token and the identity
// claim; a 401 renews the session once; a 403 is the claim the server wants.
function downloadCertificateFile(number, what) {
  return downloadWithIdentityClaim(certificatePath(number, `/${what}`), DOWNLOAD_MESSAGES);
}

// [{id, name, kind, kind_label}]: who may be allowed to look a certificate up.
async function listInstitutions() {
  const { data } = await request('/institutions');
  return Array.isArray(data) ? data : [];
}

// [{id, institution: {id, name, kind, kind_label}, purpose, granted_at,
// expires_at, revoked_at, status ('active'|'expired'|'revoked'), status_label,
// granted_by_me}], newest first.
async function listCertificateConsents(number) {
  const { data } = await request(certificatePath(number, '/consents'));
  return Array.isArray(data) ? data : [];
}

// Letting an institution see the content needs the identity claim.
async function grantCertificateConsent(number, { institutionId, purpose, days }) {
  const { data } = await request(certificatePath(number, '/consents'), {
    method: 'POST',
    data: { institution_id: institutionId, purpose, days },
    identityClaim: true,
  });
  return data;
}

// Takes effect at once. The claim goes along when there is one (harmless
// where the server does not ask for it).
async function revokeCertificateConsent(number, consentId) {
  const { data } = await request(certificatePath(number, `/consents/${encodeURIComponent(consentId)}`), {
    method: 'DELETE',
    identityClaim: true,
  });
  return data;
}

// [{at, who, accessor_type, action, outcome ('allowed'|'denied'), basis}], newest first.
async function listCertificateAccesses(number) {
  const { data } = await request(certificatePath(number, '/accesses'));
  return Array.isArray(data) ? data : [];
}

// [{id, item, description, status, status_label, created_at, due_at,
// clock_label, overdue, answered_at, outcome, outcome_label, answer, new_certificate}].
async function listCertificateCorrections(number) {
  const { data } = await request(certificatePath(number, '/corrections'));
  return Array.isArray(data) ? data : [];
}

// An error on the certificate, answered within one working day (`due_at`).
async function reportCertificateError(number, { item, description }) {
  const { data } = await request(certificatePath(number, '/corrections'), {
    method: 'POST',
    data: { item, description },
    identityClaim: true,
  });
  return data;
}

module.exports = {
  listCertificates,
  getCertificate,
  downloadCertificateFile,
  listInstitutions,
  listCertificateConsents,
  grantCertificateConsent,
  revokeCertificateConsent,
  listCertificateAccesses,
  listCertificateCorrections,
  reportCertificateError,
};
