// 授权机构查询: which institutions (a bank for a mortgage, an agency for a sale)
// may look this certificate's content up, for what and until when. Granting
// needs the identity claim; any consent can be revoked at once.
const { fieldErrorsOf, showError } = require('../../../services/http');
const {
  listInstitutions,
  listCertificateConsents,
  grantCertificateConsent,
  revokeCertificateConsent,
} = require('../../../services/certificates');
const { formatDateTime, parseIsoDateTime } = require('../../../utils/time');
const { callWx } = require('../../../utils/wx-async');
const { decodeQueryValue } = require('../../../utils/kyc');
const { takePendingClaimAction, runWithIdentityClaim } = require('../../../utils/certificates');
const { pageLoader } = require('../../../utils/page-loader');

const DAY_OPTIONS = [7, 30, 90, 180, 365];
const DEFAULT_DAYS = 30;
const PURPOSE_MIN = 2;
const PURPOSE_MAX = 100;
const PURPOSE_SUGGESTIONS = ['办理抵押贷款', '办理房屋交易', '办理公证'];
const STATUS_LABELS = { active: '有效', expired: '已过期', revoked: '已撤销' };

function institutionName(institution) {
  if (!institution) return '';
  return institution.kind_label ? `${institution.name}（${institution.kind_label}）` : institution.name || '';
}

// The server's status when it says one; else worked out from the times.
function consentStatus(consent) {
  if (consent.status) return consent.status;
  if (typeof consent.active === 'boolean' && consent.active) return 'active';
  if (consent.revoked_at) return 'revoked';
  const expires = parseIsoDateTime(consent.expires_at);
  return expires && expires.getTime() > Date.now() ? 'active' : 'expired';
}

function presentConsent(consent) {
  const status = consentStatus(consent);
  const institution = consent.institution || {};
  return {
    key: String(consent.id),
    id: consent.id,
    institutionName: consent.institution_name || institution.name || '',
    kindLabel: institution.kind_label || '',
    purpose: consent.purpose || '',
    grantedText: formatDateTime(consent.granted_at),
    expiresText: formatDateTime(consent.expires_at),
    revokedText: formatDateTime(consent.revoked_at),
    status,
    statusLabel: consent.status_label || STATUS_LABELS[status] || '',
    active: status === 'active',
    grantedByOther: consent.granted_by_me === false,
  };
}

function emptyForm() {
  return { institutionIndex: -1, purpose: '', dayIndex: DAY_OPTIONS.indexOf(DEFAULT_DAYS) };
}

Page({
  data: {
    number: '',
    institutions: [],
    institutionNames: [],
    dayLabels: DAY_OPTIONS.map((days) => `${days} 天`),
    purposeSuggestions: PURPOSE_SUGGESTIONS,
    consents: [],
    loaded: false,
    loading: false,
    errorMessage: '',
    form: emptyForm(),
    fieldErrors: {},
    granting: false,
    revokingId: null,
  },

  onLoad(query) {
    this.shown = false;
    this.setData({ number: decodeQueryValue(query && query.number) });
    return this.load();
  },

  // Back from the verification journey: grant (or revoke) as the citizen asked.
  onShow() {
    if (!this.shown) {
      this.shown = true;
      return undefined;
    }
    const action = takePendingClaimAction(this);
    if (action === 'grant') return this.grant();
    if (action === 'revoke' && this.pendingRevoke) return this.revoke(this.pendingRevoke);
    return undefined;
  },

  // A copy is on screen once a load succeeded (the default of pageLoader).
  ...pageLoader({
    missing() {
      return this.data.number ? '' : '缺少证书编号';
    },
    fetch() {
      return Promise.all([listInstitutions(), listCertificateConsents(this.data.number)]);
    },
    show([institutions, consents]) {
      return {
        institutions,
        institutionNames: institutions.map(institutionName),
        consents: consents.map(presentConsent),
      };
    },
  }),

  async reloadConsents() {
    try {
      const consents = await listCertificateConsents(this.data.number);
      this.setData({ consents: consents.map(presentConsent) });
    } catch (err) {
      showError(err);
    }
  },

  // ---- the grant form ---------------------------------------------------------

  onInstitutionChange(event) {
    this.setData({ 'form.institutionIndex': Number(event.detail.value), 'fieldErrors.institution_id': '' });
  },

  onPurposeInput(event) {
    this.setData({ 'form.purpose': event.detail.value, 'fieldErrors.purpose': '' });
  },

  onPickPurpose(event) {
    this.setData({ 'form.purpose': event.currentTarget.dataset.purpose, 'fieldErrors.purpose': '' });
  },

  onDaysChange(event) {
    this.setData({ 'form.dayIndex': Number(event.detail.value), 'fieldErrors.days': '' });
  },

  // What the server would refuse anyway, said before asking it.
  validate() {
    const { form, institutions } = this.data;
    const errors = {};
    if (!institutions[form.institutionIndex]) errors.institution_id = '请选择要授权的机构';
    const purpose = form.purpose.trim();
    if (purpose.length < PURPOSE_MIN || purpose.length > PURPOSE_MAX) {
      errors.purpose = `请填写用途（${PURPOSE_MIN}到${PURPOSE_MAX}个字），如“办理抵押贷款”`;
    }
    this.setData({ fieldErrors: errors });
    return Object.keys(errors).length === 0;
  },

  async onGrant() {
    if (this.data.granting || !this.validate()) return;
    const { form, institutions } = this.data;
    const institution = institutions[form.institutionIndex];
    const days = DAY_OPTIONS[form.dayIndex] || DEFAULT_DAYS;
    const { confirm } = await callWx('showModal', {
      title: '授权机构查询',
      content: `授权后，${institution.name}可在 ${days} 天内查询本证书的内容（用途：${form.purpose.trim()}）。您可随时撤销授权。确定授权吗？`,
      confirmText: '授权',
      cancelText: '取消',
    });
    if (!confirm) return;
    await this.grant();
  },

  async grant() {
    if (this.data.granting) return;
    const { form, institutions, number } = this.data;
    const institution = institutions[form.institutionIndex];
    if (!institution) return;
    this.setData({ granting: true });
    try {
      const body = { institutionId: institution.id, purpose: form.purpose.trim(), days: DAY_OPTIONS[form.dayIndex] || DEFAULT_DAYS };
      const consent = await runWithIdentityClaim(this, 'grant', '授权机构查询', () => grantCertificateConsent(number, body));
      if (!consent) return; // sent to identity verification first
      this.setData({ form: emptyForm(), fieldErrors: {} });
      wx.showToast({ title: '已授权', icon: 'success' });
      await this.reloadConsents();
    } catch (err) {
      const fields = fieldErrorsOf(err);
      if (Object.keys(fields).length) this.setData({ fieldErrors: fields });
      else showError(err);
    } finally {
      this.setData({ granting: false });
    }
  },

  // ---- revoking ----------------------------------------------------------------

  async onRevoke(event) {
    const id = event.currentTarget.dataset.id;
    const consent = this.data.consents.find((entry) => String(entry.id) === String(id));
    if (!consent || this.data.revokingId !== null) return;
    const { confirm } = await callWx('showModal', {
      title: '撤销授权',
      content: `撤销后，${consent.institutionName}将不能再查询本证书的内容，立即生效。确定撤销吗？`,
      confirmText: '撤销',
      confirmColor: '#c62828',
      cancelText: '取消',
    });
    if (!confirm) return;
    await this.revoke(consent);
  },

  async revoke(consent) {
    this.pendingRevoke = null;
    this.setData({ revokingId: consent.id });
    try {
      const done = await runWithIdentityClaim(this, 'revoke', '撤销授权', async () => {
        await revokeCertificateConsent(this.data.number, consent.id);
        return true;
      });
      if (!done) {
        this.pendingRevoke = consent;
        return;
      }
      wx.showToast({ title: '已撤销', icon: 'success' });
      await this.reloadConsents();
    } catch (err) {
      showError(err);
    } finally {
      this.setData({ revokingId: null });
    }
  },
});
