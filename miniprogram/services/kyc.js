// Identity verification (实名认证): the real name, the consent to face
// processing, the counter appointment, and the face verification of either
// provider. A pass keeps the identity claim (services/session.js).
const { request } = require('./http');
const { storeIdentityClaim } = require('./session');

async function getKycStatus() {
  const { data } = await request('/kyc/status');
  return data;
}

async function getKycConsent() {
  const { data } = await request('/kyc/consent');
  return data;
}

async function checkRealName({ name, idNumber }) {
  const { data } = await request('/kyc/realname', { method: 'POST', data: { name, id_number: idNumber } });
  return data;
}

async function answerKycConsent({ version, accepted }) {
  const { data } = await request('/kyc/consent', { method: 'POST', data: { version, accepted: Boolean(accepted) } });
  return data;
}

async function requestKycAppointment({ preferredDate, note = '' }) {
  const { data } = await request('/kyc/appointments', {
    method: 'POST',
    data: { preferred_date: preferredDate, note },
  });
  return data;
}

async function createKycChallenge() {
  const { data } = await request('/kyc/challenges', { method: 'POST' });
  return data;
}

// Keeps the claim of a passed verification and returns the server's answer.
function keepClaim(data) {
  if (data && data.passed && data.claim) storeIdentityClaim(data);
  return data;
}

async function verifyKycChallenge(nonce, frames) {
  const { data } = await request(`/kyc/challenges/${encodeURIComponent(nonce)}/verify`, {
    method: 'POST',
    data: { frames },
  });
  return keepClaim(data);
}

async function createWechatVerifyId() {
  const { data } = await request('/kyc/wechat/verify-id', { method: 'POST' });
  return data;
}

async function confirmWechatVerify(verifyId) {
  const { data } = await request('/kyc/wechat/result', { method: 'POST', data: { verify_id: verifyId } });
  return keepClaim(data);
}

module.exports = {
  getKycStatus,
  getKycConsent,
  checkRealName,
  answerKycConsent,
  requestKycAppointment,
  createKycChallenge,
  verifyKycChallenge,
  createWechatVerifyId,
  confirmWechatVerify,
};
