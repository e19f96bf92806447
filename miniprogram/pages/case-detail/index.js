const { hasErrorCode, showError } = require('../../services/http');
const { getCase, getBusinessTypes, withdrawCase, rateCase } = require('../../services/cases');
const { formatDateTime } = require('../../utils/time');
const { callWx } = require('../../utils/wx-async');
const { decodeQueryValue } = require('../../utils/kyc');
const { openPdf } = require('../../utils/files');
const { presentIncomplete } = require('../../utils/case-incomplete');
const { CASE_PAGES, caseUrl, runClaimAction, takePendingClaimAction } = require('../../utils/case-actions');
const { deliveryUrl } = require('../../utils/deliveries');
const { CERTIFICATE_PAGES } = require('../../utils/certificates');
const { pageLoader } = require('../../utils/page-loader');

const CHECK_TONES = { passed: 'success', failed: 'danger', waiting: 'warning', pending: 'muted' };

// The server decides what the citizen may do with the case: `allowed_actions`
// lists it, in the order to show. Nothing here is derived from the status.
// `name` gives the button its class (actions__<name>), `handler` the page method
// a tap runs, `busy` that the button waits while another action is under way.
const CASE_ACTIONS = {
  edit: { label: '修改申请', name: 'edit', type: 'default', handler: 'onEdit' },
  upload_materials: { label: '上传材料', name: 'materials', type: 'default', handler: 'onOpenMaterials' },
  confirm: { label: '确认申请内容', name: 'confirm', type: 'default', busy: true, handler: 'onConfirm' },
  submit: { label: '提交申请', name: 'submit', type: 'primary', busy: true, handler: 'onSubmit' },
  pay: { label: '缴纳税费', name: 'pay', type: 'primary', handler: 'onOpenPayment' },
  view_certificate: { label: '查看电子证书', name: 'certificates', type: 'primary', handler: 'onOpenCertificates' },
  // A correction is reported from the certificate itself: the list leads there.
  request_correction: { label: '申请更正', name: 'correction', type: 'default', handler: 'onOpenCertificates' },
  track_delivery: { label: '证书寄递', name: 'delivery', type: 'default', handler: 'onOpenDelivery' },
  rate: { label: '评价服务', name: 'rate', type: 'default', busy: true, handler: 'onRate' },
  withdraw: { label: '撤回申请', name: 'withdraw', type: 'warn', busy: true, handler: 'onWithdraw' },
};

// The five levels of the rating, best first, as the action sheet lists them.
const RATING_LEVELS = [
  { label: '非常满意', score: 5 },
  { label: '满意', score: 4 },
  { label: '基本满意', score: 3 },
  { label: '不满意', score: 2 },
  { label: '非常不满意', score: 1 },
];

// The buttons, in the server's order; an action this version does not know is left out.
function presentActions(allowedActions) {
  const seen = {};
  return (Array.isArray(allowedActions) ? allowedActions : [])
    .filter((action) => {
      const known = Object.prototype.hasOwnProperty.call(CASE_ACTIONS, action) && !seen[action];
      seen[action] = true;
      return known;
    })
    .map((action) => {
      const { label, name, type, busy } = CASE_ACTIONS[action];
      return { action, label, name, type, busy: Boolean(busy) };
    });
}

// The step and the actor: the step's label already names the department
// ("税务局退回补正 · 税务局审核员"), so the department is not repeated.
function timelineMeta(entry) {
  return [entry.step_label, entry.actor_role_label].filter(Boolean).join(' · ');
}

function presentCase(item) {
  const actions = presentActions(item.allowed_actions);
  const allows = (action) => actions.some((entry) => entry.action === action);
  return {
    caseNumber: item.case_number,
    businessTypeName: (item.business_type && item.business_type.name) || '',
    businessTypeCode: (item.business_type && item.business_type.code) || '',
    status: item.status,
    statusLabel: item.status_label,
    unitNumber: (item.unit && item.unit.unit_number) || '',
    location: (item.unit && item.unit.location) || '',
    createdText: formatDateTime(item.created_at),
    updatedText: formatDateTime(item.updated_at),
    dueText: formatDateTime(item.due_at),
    clockLabel: item.clock_label || '',
    confirmationNeeded: Boolean(item.confirmation_needed),
    applicationPdfUrl: item.application_pdf_url || '',
    actions,
    applicants: (item.applicants || []).map((applicant, index) => ({
      key: `${applicant.role}-${index}`,
      roleLabel: applicant.role_label,
      nameMasked: applicant.name_masked,
      confirmed: Boolean(applicant.confirmed),
      isMe: Boolean(applicant.is_me),
    })),
    timeline: (item.timeline || []).map((entry, index) => ({
      key: `${entry.status}-${entry.at}-${index}`,
      status: entry.status,
      statusLabel: entry.status_label,
      atText: formatDateTime(entry.at),
      meta: timelineMeta(entry),
    })),
    review: (item.review || []).map((entry, index) => ({
      key: `${entry.department}-${index}`,
      departmentLabel: entry.department_label,
      status: entry.status,
      statusLabel: entry.status_label,
    })),
    checks: (item.checks || []).map((check, index) => ({
      key: `${check.kind}-${index}`,
      label: check.label,
      tone: CHECK_TONES[check.status] || 'muted',
      statusLabel: check.status_label,
      message: check.message || '',
    })),
    // A returned material can be fixed while the server allows uploading
    // materials, a returned section while it allows editing.
    returnedItems: (item.returned_items || []).map((entry, index) => {
      const name = entry.name || entry.code || '';
      const isMaterial = entry.kind === 'material';
      return {
        key: `${entry.kind}-${entry.code}-${entry.role || ''}-${index}`,
        target: isMaterial ? 'materials' : 'form',
        step: entry.kind === 'section' ? entry.code : '',
        fixable: allows(isMaterial ? 'upload_materials' : 'edit'),
        name: entry.role_label ? `${name}（${entry.role_label}）` : name,
        reason: entry.reason || '',
        departmentLabel: entry.department_label || '',
      };
    }),
  };
}

Page({
  data: {
    caseNumber: '',
    detail: null,
    loading: true,
    loaded: false,
    errorMessage: '',
    acting: '',
    incomplete: [],
  },

  onLoad(query) {
    this.shown = false;
    this.setData({ caseNumber: decodeQueryValue(query && query.case_number) });
    return this.load();
  },

  // Back from the wizard, the materials or the verification journey.
  onShow() {
    if (!this.shown) {
      this.shown = true;
      return undefined;
    }
    const action = takePendingClaimAction(this);
    if (action) return this.runAction(action);
    return this.load();
  },

  // The message is shown in the page itself; a toast is only for a reload that
  // fails while an earlier copy of the case is still on screen.
  ...pageLoader({
    missing() {
      return this.data.caseNumber ? '' : '缺少办件编号';
    },
    fetch() {
      return getCase(this.data.caseNumber);
    },
    show(item) {
      return { detail: presentCase(item) };
    },
    shown() {
      return Boolean(this.data.detail);
    },
  }),

  // ---- links -----------------------------------------------------------------

  onEdit() {
    wx.navigateTo({ url: caseUrl(CASE_PAGES.form, this.data.caseNumber) });
  },

  onOpenPayment() {
    wx.navigateTo({ url: caseUrl(CASE_PAGES.payment, this.data.caseNumber) });
  },

  onOpenCertificates() {
    wx.navigateTo({ url: CERTIFICATE_PAGES.list });
  },

  // Paper certificate by mail or at the window; the detail does not say whether
  // the form chose paper, so the delivery page answers (an empty list: electronic only).
  onOpenDelivery() {
    wx.navigateTo({ url: deliveryUrl(this.data.caseNumber) });
  },

  onOpenMaterials() {
    wx.navigateTo({ url: caseUrl(CASE_PAGES.materials, this.data.caseNumber) });
  },

  // A returned item or a missing one: the wizard's step, or the materials.
  onFix(event) {
    const { target, step } = event.currentTarget.dataset;
    if (target === 'materials') this.onOpenMaterials();
    else wx.navigateTo({ url: caseUrl(CASE_PAGES.form, this.data.caseNumber, { step }) });
  },

  async onOpenPdf() {
    const url = this.data.detail && this.data.detail.applicationPdfUrl;
    if (!url) return;
    wx.showLoading({ title: '正在打开', mask: true });
    try {
      await openPdf(url);
    } catch (err) {
      if (!/cancel/i.test(String((err && err.errMsg) || ''))) showError(err);
    } finally {
      wx.hideLoading();
    }
  },

  // ---- actions ---------------------------------------------------------------

  // Every action button: runs what its data-action names, if the case (as last
  // loaded) still offers it.
  onAction(event) {
    const { action } = event.currentTarget.dataset;
    const detail = this.data.detail;
    if (!detail || !detail.actions.some((entry) => entry.action === action)) return undefined;
    return this[CASE_ACTIONS[action].handler]();
  },

  onConfirm() {
    return this.runAction('confirm');
  },

  async onSubmit() {
    if (this.data.acting) return undefined;
    const { confirm } = await callWx('showModal', {
      title: '提交申请',
      content: '提交后申请内容和材料将交由登记机构审核，审核期间不能修改。确定提交吗？',
      confirmText: '提交',
      cancelText: '再看看',
    });
    if (!confirm) return undefined;
    return this.runAction('submit');
  },

  async onWithdraw() {
    if (this.data.acting) return;
    const { confirm } = await callWx('showModal', {
      title: '撤回申请',
      content: '撤回后本办件将终止办理，如需办理请重新申请。确定撤回吗？',
      confirmText: '撤回',
      confirmColor: '#c62828',
      cancelText: '取消',
    });
    if (!confirm) return;
    this.setData({ acting: 'withdraw' });
    try {
      const item = await withdrawCase(this.data.caseNumber);
      if (item && item.case_number) this.setData({ detail: presentCase(item) });
      else await this.load();
      wx.showToast({ title: '已撤回', icon: 'success' });
    } catch (err) {
      showError(err);
      if (err.status === 409) await this.load();
    } finally {
      this.setData({ acting: '' });
    }
  },

  async onRate() {
    if (this.data.acting) return;
    let tapIndex;
    try {
      ({ tapIndex } = await callWx('showActionSheet', { itemList: RATING_LEVELS.map((level) => level.label) }));
    } catch (err) {
      return; // closed without choosing
    }
    const level = RATING_LEVELS[tapIndex];
    if (!level) return;
    this.setData({ acting: 'rate' });
    try {
      await rateCase(this.data.caseNumber, level.score);
      wx.showToast({ title: '感谢您的评价', icon: 'success' });
      await this.load();
    } catch (err) {
      showError(err);
      if (err.status === 409) await this.load();
    } finally {
      this.setData({ acting: '' });
    }
  },

  async runAction(action) {
    if (this.data.acting) return;
    this.setData({ acting: action, incomplete: [] });
    try {
      const item = await runClaimAction(this, action, this.data.caseNumber);
      if (!item) return; // sent to identity verification first
      this.setData({ detail: presentCase(item) });
      wx.showToast({ title: action === 'submit' ? '申请已提交' : '已确认申请内容', icon: 'success' });
    } catch (err) {
      await this.onActionFailed(err);
    } finally {
      this.setData({ acting: '' });
    }
  },

  async onActionFailed(err) {
    if (hasErrorCode(err, 'CASE_INCOMPLETE')) {
      let businessType = null;
      try {
        const types = await getBusinessTypes();
        businessType = types.find((type) => type.code === this.data.detail.businessTypeCode) || null;
      } catch (typesError) {
        // The lines then name sections and materials by their codes.
      }
      this.setData({ incomplete: presentIncomplete(err.details, businessType) });
      return;
    }
    showError(err);
    if (err.status === 409) await this.load();
  },
});
