// 报告证书错误: which item is wrong and what it should say; the registration
// centre answers within one working day (due_at). Below, the earlier reports and
// their answers; a re-issued certificate is linked. Reporting needs the claim.
const { fieldErrorsOf, errorMessageOf, showError } = require('../../../services/http');
const { listCertificateCorrections, reportCertificateError } = require('../../../services/certificates');
const { formatDateTime } = require('../../../utils/time');
const { decodeQueryValue } = require('../../../utils/kyc');
const {
  CERTIFICATE_PAGES,
  certificateUrl,
  takePendingClaimAction,
  runWithIdentityClaim,
} = require('../../../utils/certificates');
const { pageLoader } = require('../../../utils/page-loader');

const ITEMS = ['权利人', '共有情况', '坐落', '不动产单元号', '权利类型', '权利性质', '用途', '面积', '使用期限', '权利其他状况', '附记', '其他'];
const DESCRIPTION_MIN = 4;
const DESCRIPTION_MAX = 500;
const MESSAGES = {
  item: '请选择有误的记载事项',
  description: `请说明哪里有误、正确应为什么（${DESCRIPTION_MIN} 至 ${DESCRIPTION_MAX} 字）`,
};

// Characters as the server counts them (code points, not UTF-16 units).
function lengthOf(text) {
  return Array.from(String(text || '')).length;
}

function presentCorrection(entry) {
  const open = entry.status === 'open';
  return {
    key: String(entry.id),
    id: entry.id,
    item: entry.item || '',
    description: entry.description || '',
    status: entry.status || '',
    statusLabel: entry.status_label || (open ? '处理中' : '已答复'),
    open,
    createdText: formatDateTime(entry.created_at),
    dueText: formatDateTime(entry.due_at),
    clockLabel: entry.clock_label || '',
    overdue: Boolean(entry.overdue) && open,
    answeredText: formatDateTime(entry.answered_at),
    outcomeLabel: entry.outcome_label || '',
    answer: entry.answer || '',
    newCertificate: entry.new_certificate || '',
  };
}

Page({
  data: {
    number: '',
    items: ITEMS,
    itemIndex: -1,
    description: '',
    descriptionLength: 0,
    descriptionMax: DESCRIPTION_MAX,
    fieldErrors: {},
    formError: '',
    submitting: false,
    submittedText: '',
    history: [],
    hasOpen: false,
    loading: false,
    loaded: false,
    errorMessage: '',
  },

  onLoad(query) {
    this.shown = false;
    this.setData({ number: decodeQueryValue(query && query.number) });
    return this.load();
  },

  // Back from the verification journey: send the report as the citizen asked.
  onShow() {
    if (!this.shown) {
      this.shown = true;
      return undefined;
    }
    return takePendingClaimAction(this) === 'report' ? this.submit() : undefined;
  },

  // The earlier reports and their answers.
  ...pageLoader({
    missing() {
      return this.data.number ? '' : '缺少证书编号';
    },
    fetch() {
      return listCertificateCorrections(this.data.number);
    },
    show(entries) {
      const history = entries.map(presentCorrection).reverse(); // newest first
      return { history, hasOpen: history.some((entry) => entry.open) };
    },
  }),

  onItemChange(event) {
    this.setData({ itemIndex: Number(event.detail.value), 'fieldErrors.item': '', formError: '' });
  },

  onDescriptionInput(event) {
    const description = event.detail.value;
    this.setData({ description, descriptionLength: lengthOf(description), 'fieldErrors.description': '', formError: '' });
  },

  // The same rules as the server's, so that nothing it would refuse is sent.
  validate() {
    const errors = {};
    if (!ITEMS[this.data.itemIndex]) errors.item = MESSAGES.item;
    const length = lengthOf(this.data.description.trim());
    if (length < DESCRIPTION_MIN || length > DESCRIPTION_MAX) errors.description = MESSAGES.description;
    this.setData({ fieldErrors: errors, formError: '' });
    return Object.keys(errors).length === 0;
  },

  onSubmit() {
    if (this.data.submitting || !this.validate()) return undefined;
    return this.submit();
  },

  async submit() {
    if (this.data.submitting) return;
    const item = ITEMS[this.data.itemIndex];
    const description = this.data.description.trim();
    if (!item) return;
    this.setData({ submitting: true, formError: '', submittedText: '' });
    try {
      const created = await runWithIdentityClaim(this, 'report', '报告证书错误', () =>
        reportCertificateError(this.data.number, { item, description }),
      );
      if (!created) return; // sent to identity verification first
      const due = formatDateTime(created.due_at);
      this.setData({
        itemIndex: -1,
        description: '',
        descriptionLength: 0,
        fieldErrors: {},
        submittedText: due ? `已提交，将于 ${due} 前答复` : '已提交，登记机构将尽快答复',
      });
      await this.load();
    } catch (err) {
      this.onSubmitFailed(err);
    } finally {
      this.setData({ submitting: false });
    }
  },

  // 409: one request already open (or the certificate revoked); 422: the fields.
  onSubmitFailed(err) {
    if (err.status === 409) {
      this.setData({ formError: errorMessageOf(err) });
      this.load();
      return;
    }
    if (err.status === 422) {
      // Under the field it concerns; anything else above the button.
      const fields = fieldErrorsOf(err);
      const fieldErrors = {};
      const others = [];
      Object.keys(fields).forEach((field) => {
        if (field === 'item' || field === 'description') fieldErrors[field] = fields[field];
        else others.push(fields[field]);
      });
      const shown = Object.keys(fieldErrors).length > 0;
      this.setData({ fieldErrors, formError: others.join('；') || (shown ? '' : errorMessageOf(err)) });
      return;
    }
    showError(err);
  },

  onOpenCertificate(event) {
    const { number } = event.currentTarget.dataset;
    if (number) wx.navigateTo({ url: certificateUrl(CERTIFICATE_PAGES.viewer, number) });
  },
});
