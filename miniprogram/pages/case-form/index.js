// The combined application wizard (一窗受理): one step per section of the
// business type's form, in its order, then a summary with confirm and submit.
// Every step is saved as a whole (PUT /form/<section>) before the next one
// opens, so the draft survives at any point. The server validates; its field
// errors are shown under the fields and the step stays open.
const { hasErrorCode, fieldErrorsOf, errorMessageOf, showError } = require('../../services/http');
const {
  getCase,
  getCaseForm,
  getBusinessTypes,
  saveFormSection,
  addApplicant,
  removeApplicant,
} = require('../../services/cases');
const { listMaterials } = require('../../services/materials');
const { presentField, sectionPayload } = require('../../utils/form-fields');
const { presentIncomplete } = require('../../utils/case-incomplete');
const { callWx } = require('../../utils/wx-async');
const { decodeQueryValue } = require('../../utils/kyc');
const {
  CASE_PAGES,
  caseUrl,
  runClaimAction,
  takePendingClaimAction,
} = require('../../utils/case-actions');
const { pageLoader } = require('../../utils/page-loader');

const SUMMARY = 'summary';
const KIND_LABELS = { natural: '自然人', legal: '法人或非法人组织' };
const APPLICANT_FIELDS = [
  'role',
  'kind',
  'name',
  'id_number',
  'share',
  'representative_name',
  'representative_id_number',
];

function byCode(list) {
  const map = {};
  (list || []).forEach((entry) => {
    map[entry.code] = entry;
  });
  return map;
}

function reasonsFor(returnedItems, kind, code) {
  return (returnedItems || [])
    .filter((entry) => entry.kind === kind && entry.code === code)
    .map((entry) => (entry.department_label ? `${entry.department_label}：${entry.reason}` : entry.reason))
    .join('；');
}

function presentApplicant(applicant) {
  return {
    id: applicant.id,
    roleLabel: applicant.role_label,
    kindLabel: KIND_LABELS[applicant.kind] || '',
    nameMasked: applicant.name_masked,
    share: applicant.share || '',
    confirmed: Boolean(applicant.confirmed),
    isMe: Boolean(applicant.is_me),
  };
}

function emptyApplicantErrors() {
  const errors = { form: '' };
  APPLICANT_FIELDS.forEach((field) => {
    errors[field] = '';
  });
  return errors;
}

function emptyApplicantForm(roles) {
  const kinds = (roles[0] && roles[0].kinds) || ['natural'];
  return {
    roleLabels: roles.map((role) => role.label),
    roleIndex: roles.length === 1 ? 0 : -1,
    kinds,
    kindLabels: kinds.map((kind) => KIND_LABELS[kind] || kind),
    kindIndex: kinds.length === 1 ? 0 : kinds.indexOf('natural'),
    name: '',
    idNumber: '',
    share: '',
    representativeName: '',
    representativeIdNumber: '',
    errors: emptyApplicantErrors(),
  };
}

Page({
  data: {
    caseNumber: '',
    loading: true,
    loaded: false,
    loadError: '',
    notice: '',
    steps: [],
    current: 0,
    step: null,
    fields: [],
    formError: '',
    saving: false,
    applicants: [],
    adding: false,
    applicantForm: null,
    addingApplicant: false,
    summary: null,
    incomplete: [],
    acting: '',
  },

  onLoad(query) {
    const params = query || {};
    this.caseNumber = decodeQueryValue(params.case_number);
    this.initialStep = decodeQueryValue(params.step);
    this.stash = {};
    this.shown = false;
    this.setData({ caseNumber: this.caseNumber });
    return this.load();
  },

  // Back from the verification journey, the materials page or a detail page.
  onShow() {
    if (!this.shown) {
      this.shown = true;
      return undefined;
    }
    const action = takePendingClaimAction(this);
    if (action) return this.runAction(action);
    if (this.data.step && this.data.step.kind === SUMMARY) return this.refreshSummary();
    return undefined;
  },

  // ---- loading -------------------------------------------------------------

  // The wizard cannot work from half an answer: a failure takes the page's place.
  ...pageLoader({
    errorKey: 'loadError',
    missing() {
      return this.caseNumber ? '' : '缺少办件编号';
    },
    fetch() {
      return Promise.all([getCase(this.caseNumber), getCaseForm(this.caseNumber), getBusinessTypes()]);
    },
    show([detail, form, types]) {
      const code = detail.business_type && detail.business_type.code;
      const businessType = types.find((type) => type.code === code);
      if (!businessType) throw new Error(`unknown business type ${code}`);
      this.businessType = businessType;
      this.detail = detail;
      this.form = form;
      this.buildSteps();
      const start = this.data.steps.findIndex((step) => step.code === this.initialStep);
      this.openStep(start >= 0 ? start : 0);
    },
    shown() {
      return false;
    },
  }),

  buildSteps() {
    const form = this.form || {};
    const detail = this.detail || {};
    const views = byCode(form.sections);
    const editableCodes = Array.isArray(form.editable_sections) ? form.editable_sections : null;
    const steps = (this.businessType.form_sections || []).map((section, index) => {
      const view = views[section.code] || {};
      return {
        index,
        number: index + 1,
        code: section.code,
        title: section.title,
        kind: section.kind === 'applicants' ? 'applicants' : 'fields',
        complete: Boolean(view.complete),
        editable: Boolean(form.editable) && (!editableCodes || editableCodes.includes(section.code)),
        problems: view.problems || [],
        returnedReason: reasonsFor(detail.returned_items, 'section', section.code),
      };
    });
    steps.push({
      index: steps.length,
      number: steps.length + 1,
      code: SUMMARY,
      title: '确认提交',
      kind: SUMMARY,
      complete: false,
      editable: false,
      problems: [],
      returnedReason: '',
    });
    // Why (part of) the form cannot change is the server's to say.
    const notice = form.notice || '';
    this.setData({
      steps,
      notice,
      applicants: (detail.applicants || []).map(presentApplicant),
    });
  },

  // ---- moving between steps ------------------------------------------------

  // Unsaved edits stay in memory when the citizen moves to another step.
  keepUnsaved() {
    const step = this.data.step;
    if (step && step.kind === 'fields' && step.editable) this.stash[step.code] = this.data.fields;
  },

  openStep(index) {
    const step = this.data.steps[index];
    if (!step) return undefined;
    let fields = [];
    if (step.kind === 'fields') {
      const section = byCode(this.businessType.form_sections)[step.code];
      const view = byCode(this.form.sections)[step.code] || {};
      const data = view.data || {};
      fields = this.stash[step.code] || (section.fields || []).map((field) => presentField(field, data[field.name]));
    }
    this.setData({
      current: index,
      step,
      fields,
      formError: '',
      adding: false,
      applicantForm: null,
      incomplete: step.kind === SUMMARY ? this.data.incomplete : [],
    });
    if (step.kind === SUMMARY) return this.refreshSummary();
    return undefined;
  },

  goTo(index) {
    this.keepUnsaved();
    return this.openStep(index);
  },

  onStepTap(event) {
    return this.goTo(Number(event.currentTarget.dataset.index));
  },

  onPrevious() {
    if (this.data.current > 0) return this.goTo(this.data.current - 1);
    return undefined;
  },

  // The form view changed (a section saved, an applicant added): new ticks.
  applyForm(form) {
    this.form = form;
    this.buildSteps();
    this.setData({ step: this.data.steps[this.data.current] });
  },

  async refreshForm() {
    try {
      this.applyForm(await getCaseForm(this.caseNumber));
    } catch (err) {
      // The ticks stay as they were; the next save or reload brings them up to date.
    }
  },

  // ---- a step of fields ------------------------------------------------------

  setField(index, changes) {
    const update = {};
    Object.keys(changes).forEach((key) => {
      update[`fields[${index}].${key}`] = changes[key];
    });
    update[`fields[${index}].error`] = '';
    update.formError = '';
    this.setData(update);
  },

  onFieldInput(event) {
    this.setField(Number(event.currentTarget.dataset.index), { text: event.detail.value });
  },

  onDateChange(event) {
    this.setField(Number(event.currentTarget.dataset.index), { text: event.detail.value });
  },

  onChoiceChange(event) {
    const index = Number(event.currentTarget.dataset.index);
    const choiceIndex = Number(event.detail.value);
    const label = this.data.fields[index].choiceLabels[choiceIndex] || '';
    this.setField(index, { choiceIndex, choiceLabel: label });
  },

  onSwitchChange(event) {
    this.setField(Number(event.currentTarget.dataset.index), { checked: Boolean(event.detail.value) });
  },

  showFieldErrors(errors, otherMessage) {
    const known = {};
    const fields = this.data.fields.map((field) => {
      known[field.name] = true;
      return Object.assign({}, field, { error: errors[field.name] || '' });
    });
    const others = Object.keys(errors)
      .filter((name) => !known[name])
      .map((name) => errors[name]);
    const formError = others.length ? others.join('；') : otherMessage;
    this.setData({ fields, formError });
  },

  async onSaveAndNext() {
    const step = this.data.step;
    if (!step || this.data.saving) return;
    if (step.kind !== 'fields' || !step.editable) {
      await this.goTo(this.data.current + 1);
      return;
    }
    const section = byCode(this.businessType.form_sections)[step.code];
    const { values, errors } = sectionPayload(section.fields || [], this.data.fields);
    if (Object.keys(errors).length) {
      this.showFieldErrors(errors, '请修改标红的内容');
      return;
    }
    this.setData({ saving: true, formError: '' });
    try {
      const form = await saveFormSection(this.caseNumber, step.code, values);
      delete this.stash[step.code];
      this.applyForm(form);
      await this.openStep(this.data.current + 1);
    } catch (err) {
      this.onSaveFailed(err);
    } finally {
      this.setData({ saving: false });
    }
  },

  onSaveFailed(err) {
    const errors = fieldErrorsOf(err);
    if (err.status === 422 && Object.keys(errors).length) {
      this.showFieldErrors(errors, err.message || '请修改标红的内容');
      return;
    }
    this.setData({ formError: errorMessageOf(err) });
    // No longer editable (submitted elsewhere, taken into review): reload.
    if (err.status === 409) this.reloadAfterConflict(err);
  },

  async reloadAfterConflict(err) {
    showError(err);
    const current = this.data.step && this.data.step.code;
    this.initialStep = current;
    this.stash = {};
    await this.load();
  },

  // ---- the applicants step ---------------------------------------------------

  applyDetail(detail) {
    this.detail = detail;
    this.setData({ applicants: (detail.applicants || []).map(presentApplicant) });
  },

  onAddApplicant() {
    this.setData({ adding: true, applicantForm: emptyApplicantForm(this.businessType.roles || []) });
  },

  onCancelApplicant() {
    this.setData({ adding: false, applicantForm: null });
  },

  onApplicantRoleChange(event) {
    const roleIndex = Number(event.detail.value);
    const role = (this.businessType.roles || [])[roleIndex];
    const kinds = (role && role.kinds) || ['natural'];
    const previous = this.data.applicantForm.kinds[this.data.applicantForm.kindIndex];
    let kindIndex = kinds.indexOf(previous);
    if (kindIndex < 0) kindIndex = kinds.length === 1 ? 0 : kinds.indexOf('natural');
    this.setData({
      'applicantForm.roleIndex': roleIndex,
      'applicantForm.kinds': kinds,
      'applicantForm.kindLabels': kinds.map((kind) => KIND_LABELS[kind] || kind),
      'applicantForm.kindIndex': kindIndex,
      'applicantForm.errors.role': '',
      'applicantForm.errors.kind': '',
      'applicantForm.errors.form': '',
    });
  },

  onApplicantKindChange(event) {
    this.setData({
      'applicantForm.kindIndex': Number(event.detail.value),
      'applicantForm.errors.kind': '',
      'applicantForm.errors.form': '',
    });
  },

  onApplicantInput(event) {
    const { key, error } = event.currentTarget.dataset;
    this.setData({
      [`applicantForm.${key}`]: event.detail.value,
      [`applicantForm.errors.${error}`]: '',
      'applicantForm.errors.form': '',
    });
  },

  async onSaveApplicant() {
    const draft = this.data.applicantForm;
    if (!draft || this.data.addingApplicant) return;
    const role = (this.businessType.roles || [])[draft.roleIndex];
    const kind = draft.kinds[draft.kindIndex];
    const body = {
      role: role ? role.code : null,
      kind: kind || null,
      name: draft.name.trim(),
      id_number: draft.idNumber.trim().toUpperCase(),
      share: draft.share.trim() || null,
    };
    if (kind === 'legal') {
      body.representative_name = draft.representativeName.trim();
      body.representative_id_number = draft.representativeIdNumber.trim().toUpperCase();
    }
    this.setData({ addingApplicant: true, 'applicantForm.errors': emptyApplicantErrors() });
    try {
      this.applyDetail(await addApplicant(this.caseNumber, body));
      this.setData({ adding: false, applicantForm: null });
      wx.showToast({ title: '已添加申请人', icon: 'success' });
      await this.refreshForm();
    } catch (err) {
      const fields = fieldErrorsOf(err);
      const errors = emptyApplicantErrors();
      const others = [];
      Object.keys(fields).forEach((field) => {
        if (APPLICANT_FIELDS.includes(field)) errors[field] = fields[field];
        else others.push(fields[field]);
      });
      const matched = APPLICANT_FIELDS.some((field) => errors[field]);
      errors.form = others.join('；') || (matched ? '' : errorMessageOf(err));
      this.setData({ 'applicantForm.errors': errors });
    } finally {
      this.setData({ addingApplicant: false });
    }
  },

  async onRemoveApplicant(event) {
    const { id, name } = event.currentTarget.dataset;
    const { confirm } = await callWx('showModal', {
      title: '删除申请人',
      content: `确定从本申请中删除 ${name} 吗？`,
      confirmText: '删除',
      cancelText: '取消',
    });
    if (!confirm) return;
    try {
      this.applyDetail(await removeApplicant(this.caseNumber, id));
      await this.refreshForm();
    } catch (err) {
      showError(err);
    }
  },

  // ---- the summary -----------------------------------------------------------

  async refreshSummary() {
    const sections = this.data.steps
      .filter((step) => step.kind !== SUMMARY)
      .map((step) => ({
        index: step.index,
        code: step.code,
        title: step.title,
        complete: step.complete,
        problemsText: step.problems.join('；'),
      }));
    const actions = (this.detail && this.detail.allowed_actions) || [];
    this.setData({
      summary: {
        sections,
        materialsText: (this.data.summary && this.data.summary.materialsText) || '',
        materialsComplete: Boolean(this.data.summary && this.data.summary.materialsComplete),
        confirmationNeeded: Boolean(this.detail && this.detail.confirmation_needed),
        canConfirm: actions.includes('confirm'),
        canSubmit: actions.includes('submit'),
      },
    });
    try {
      const [materials, detail] = await Promise.all([listMaterials(this.caseNumber), getCase(this.caseNumber)]);
      this.applyDetail(detail);
      const missing = (materials.missing || []).length;
      const freshActions = detail.allowed_actions || [];
      this.setData({
        'summary.materialsText': materials.complete ? '必需材料已齐全' : `尚缺 ${missing} 项必需材料`,
        'summary.materialsComplete': Boolean(materials.complete),
        'summary.confirmationNeeded': Boolean(detail.confirmation_needed),
        'summary.canConfirm': freshActions.includes('confirm'),
        'summary.canSubmit': freshActions.includes('submit'),
      });
    } catch (err) {
      // The summary still shows the sections; the buttons keep the last known state.
    }
  },

  onOpenMaterials() {
    wx.navigateTo({ url: caseUrl(CASE_PAGES.materials, this.caseNumber) });
  },

  onIncompleteTap(event) {
    const { target, step } = event.currentTarget.dataset;
    if (target === 'materials') {
      this.onOpenMaterials();
      return undefined;
    }
    const index = this.data.steps.findIndex((entry) => entry.code === step);
    if (index >= 0) return this.goTo(index);
    return undefined;
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

  async runAction(action) {
    if (this.data.acting) return;
    this.setData({ acting: action, incomplete: [] });
    try {
      const detail = await runClaimAction(this, action, this.caseNumber);
      if (!detail) return; // sent to identity verification first
      this.applyDetail(detail);
      if (action === 'submit') {
        wx.showToast({ title: '申请已提交', icon: 'success' });
        wx.redirectTo({ url: caseUrl(CASE_PAGES.detail, this.caseNumber) });
        return;
      }
      wx.showToast({ title: '已确认申请内容', icon: 'success' });
      await this.refreshSummary();
    } catch (err) {
      this.onActionFailed(err);
    } finally {
      this.setData({ acting: '' });
    }
  },

  onActionFailed(err) {
    if (hasErrorCode(err, 'CASE_INCOMPLETE')) {
      this.setData({ incomplete: presentIncomplete(err.details, this.businessType) });
      wx.pageScrollTo({ selector: '.incomplete', duration: 200 });
      return;
    }
    if (hasErrorCode(err, 'CASE_STATE_CONFLICT') || err.status === 409) {
      this.reloadAfterConflict(err);
      return;
    }
    showError(err);
  },
});
