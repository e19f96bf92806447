const { getCase, errorMessageOf, showError } = require('../../services/api');
const { formatDateTime } = require('../../utils/time');

function decodeQueryValue(value) {
  try {
    return decodeURIComponent(value || '');
  } catch (err) {
    return value || '';
  }
}

function presentCase(item) {
  return {
    caseNumber: item.case_number,
    businessTypeName: (item.business_type && item.business_type.name) || '',
    status: item.status,
    statusLabel: item.status_label,
    unitNumber: (item.unit && item.unit.unit_number) || '',
    location: (item.unit && item.unit.location) || '',
    createdText: formatDateTime(item.created_at),
    updatedText: formatDateTime(item.updated_at),
    applicants: (item.applicants || []).map((applicant, index) => ({
      key: `${applicant.role}-${index}`,
      roleLabel: applicant.role_label,
      nameMasked: applicant.name_masked,
    })),
    timeline: (item.timeline || []).map((entry, index) => ({
      key: `${entry.status}-${entry.at}-${index}`,
      status: entry.status,
      statusLabel: entry.status_label,
      atText: formatDateTime(entry.at),
    })),
  };
}

Page({
  data: {
    caseNumber: '',
    detail: null,
    loading: true,
    errorMessage: '',
  },

  onLoad(query) {
    this.setData({ caseNumber: decodeQueryValue(query && query.case_number) });
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
});
