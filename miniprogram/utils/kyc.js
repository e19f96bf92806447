// The identity-verification journey: its pages and where a citizen enters it.
// realname -> consent -> camera (local provider) or wechat -> result; a
// citizen who declines face processing goes to the counter appointment instead.
const { parseIsoDateTime } = require('./time');

const KYC_PAGES = {
  realname: '/packageKyc/pages/realname/index',
  consent: '/packageKyc/pages/consent/index',
  appointment: '/packageKyc/pages/appointment/index',
  camera: '/packageKyc/pages/camera/index',
  wechat: '/packageKyc/pages/wechat/index',
  result: '/packageKyc/pages/result/index',
};

const LOCKED_CODE = 'KYC_LOCKED';
const FRAMES_PER_ACTION = 2;

function verificationPage(provider) {
  return provider === 'wechat' ? KYC_PAGES.wechat : KYC_PAGES.camera;
}

// Local provider: how many photos to take for each action of a challenge,
// about FRAMES_PER_ACTION each, within frames_min..frames_max for the burst.
function planFrames(actionCount, framesMin, framesMax) {
  const count = Math.max(Number(actionCount) || 0, 1);
  const min = Math.max(Number(framesMin) || 1, 1);
  const max = Math.max(Number(framesMax) || count * FRAMES_PER_ACTION, min);
  const total = Math.min(Math.max(count * FRAMES_PER_ACTION, min), max);
  const plan = [];
  for (let i = 0; i < count; i += 1) {
    plan.push(Math.floor(total / count) + (i < total % count ? 1 : 0));
  }
  return plan;
}

function isLockedNow(lockedUntil, now = Date.now()) {
  if (!lockedUntil) return false;
  const until = parseIsoDateTime(lockedUntil);
  return Boolean(until) && until.getTime() > now;
}

function withQuery(page, params) {
  const query = Object.keys(params)
    .filter((key) => params[key] !== undefined && params[key] !== null && params[key] !== '')
    .map((key) => `${key}=${encodeURIComponent(params[key])}`)
    .join('&');
  return query ? `${page}?${query}` : page;
}

function passedResultUrl() {
  return withQuery(KYC_PAGES.result, { outcome: 'passed' });
}

// A failure that leaves nothing to retry today: locked, or no attempts left.
function failedResultUrl({ code, message, lockedUntil }) {
  return withQuery(KYC_PAGES.result, { outcome: 'failed', code, message, locked_until: lockedUntil });
}

// The first page a citizen needs, from GET /kyc/status.
function entryUrl(status) {
  if (isLockedNow(status.locked_until)) {
    return failedResultUrl({ code: LOCKED_CODE, lockedUntil: status.locked_until });
  }
  if (!status.identity_verified) return KYC_PAGES.realname;
  // current_consent_version is not in the contract; when a server sends it, an
  // outdated consent is asked again.
  const current = status.current_consent_version;
  if (!status.consent_version || (current && status.consent_version !== current)) return KYC_PAGES.consent;
  return verificationPage(status.provider);
}

// WeChat hands query values to onLoad still percent-encoded on some versions.
function decodeQueryValue(value) {
  try {
    return decodeURIComponent(value || '');
  } catch (err) {
    return value || '';
  }
}

module.exports = {
  KYC_PAGES,
  LOCKED_CODE,
  verificationPage,
  planFrames,
  isLockedNow,
  passedResultUrl,
  failedResultUrl,
  entryUrl,
  decodeQueryValue,
};
