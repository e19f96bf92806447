const {
  getCase,
  getBusinessTypes,
  withdrawCase,
  hasErrorCode,
  errorMessageOf,
  showError,
} = require('../../services/api');
const { formatDateTime } = require('../../utils/time');
const { callWx } = require('../../utils/wx-async');
const { decodeQueryValue } = require('../../utils/kyc');
const { openPdf } = require('../../utils/files');
const { presentIncomplete } = require('../../utils/case-incomplete');
const { CASE_PAGES, caseUrl, runClaimAction, takePendingClaimAction } = require('../../utils/case-actions');
const { deliveryUrl } = require('../../utils/deliveries');

const CHECK_TONES = { passed: 'success', failed: 'danger', waiting: 'warning', pending: 'muted' };
const CERTIFICATE_STATUSES = ['certificate_issued', 'archived'];
const CERTIFICATES_PAGE = '/pages/certificates/index';

// The step and the actor: the step's label already names the department
// ("税务局退回补正 · 税务局审核员"), so the department is not repeated.
function timelineMeta(entry) {
  return [entry.step_label, entry.actor_role_label].filter(Boolean).join(' · ');
}

function presentCase(item) {
  const actions = item.allowed_actions || [];
  const materialsEditable = Boolean(item.materials_editable);
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
    canEdit: actions.includes('edit'),
    canConfirm: actions.includes('confirm'),
    canSubmit: actions.includes('submit'),
    canWithdraw: actions.includes('withdraw'),
    // Taxes and fees are due once assessed (fees_assessed), or when the server offers it.
    canPay: item.status === 'fees_assessed' || actions.includes('pay'),
    // The electronic certificate exists once issued (and stays after archiving).
    hasCertificate: CERTIFICATE_STATUSES.includes(item.status),
    materialsEditable,
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
    // A returned material can be fixed while the server says materials may
    // change (materials_editable); a returned section while editing is allowed.
    returnedItems: (item.returned_items || []).map((entry, index) => {
      const name = entry.name || entry.code || '';
      const isMaterial = entry.kind === 'material';
      return {
        key: `${entry.kind}-${entry.code}-${entry.role || ''}-${index}`,
        target: isMaterial ? 'materials' : 'form',
        step: entry.kind === 'section' ? entry.code : '',
        fixable: isMaterial ? materialsEditable : actions.includes('edit'),
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

  async onPullDownRefresh() {
    try {
      await this.load();
    } finally {
      wx.stopPullDownRefresh();
    }
  },

  async load() {
    if (!this.data.caseNumber) {
      this.setData({ loading: false, errorMessage: '缺少办件编号' });
      return;
    }
    this.setData({ loading: true });
    try {
      const item = await getCase(this.data.caseNumber);
      this.setData({ detail: presentCase(item), errorMessage: '' });
    } catch (err) {
      // The message is shown in the page itself; a toast is only for a reload
      // that fails while an earlier copy of the case is still on screen.
      if (this.data.detail) showError(err);
      else this.setData({ errorMessage: errorMessageOf(err) });
    } finally {
      this.setData({ loading: false });
    }
  },

  // ---- links -----------------------------------------------------------------

  onEdit() {
    wx.navigateTo({ url: caseUrl(CASE_PAGES.form, this.data.caseNumber) });
  },

  onOpenPayment() {
    wx.navigateTo({ url: caseUrl(CASE_PAGES.payment, this.data.caseNumber) });
  },

  onOpenCertificates() {
    wx.navigateTo({ url: CERTIFICATES_PAGE });
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
