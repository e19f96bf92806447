// A new application (一窗受理): the business type, the property unit, then
// the wizard. The server checks the unit number; this page only collects it.
const { isLoggedIn, LOGIN_PAGE } = require('../../services/session');
const { fieldErrorsOf, errorMessageOf } = require('../../services/http');
const { getBusinessTypes, createCase } = require('../../services/cases');
const { CASE_PAGES, caseUrl } = require('../../utils/case-actions');
const { pageLoader } = require('../../utils/page-loader');

const UNIT_NUMBER_LENGTH = 28;

function emptyErrors() {
  return { businessType: '', unitNumber: '', location: '', form: '' };
}

function presentType(type) {
  const days = Number(type.time_limit_working_days);
  return {
    code: type.code,
    name: type.name,
    timeLimitText: days > 0 ? `法定办结时限 ${days} 个工作日` : '',
  };
}

Page({
  data: {
    types: [],
    loading: true,
    loaded: false,
    loadError: '',
    selected: '',
    unitNumber: '',
    location: '',
    unitNumberLength: UNIT_NUMBER_LENGTH,
    errors: emptyErrors(),
    creating: false,
  },

  onLoad() {
    if (!isLoggedIn()) {
      wx.reLaunch({ url: LOGIN_PAGE });
      return undefined;
    }
    return this.load();
  },

  ...pageLoader({
    errorKey: 'loadError',
    fetch: getBusinessTypes,
    show(types) {
      return { types: types.map(presentType) };
    },
    shown() {
      return false;
    },
  }),

  onTypeSelect(event) {
    this.setData({ selected: event.currentTarget.dataset.code, 'errors.businessType': '', 'errors.form': '' });
  },

  onUnitNumberInput(event) {
    this.setData({ unitNumber: event.detail.value, 'errors.unitNumber': '', 'errors.form': '' });
  },

  onLocationInput(event) {
    this.setData({ location: event.detail.value, 'errors.location': '', 'errors.form': '' });
  },

  async onCreate() {
    if (this.data.creating) return;
    if (!this.data.selected) {
      this.setData({ 'errors.businessType': '请选择要办理的业务' });
      return;
    }
    this.setData({ creating: true, errors: emptyErrors() });
    try {
      const created = await createCase({
        businessType: this.data.selected,
        unitNumber: this.data.unitNumber.trim().toUpperCase(),
        location: this.data.location.trim(),
      });
      // The wizard replaces this page: going back leads to the list, not here.
      wx.redirectTo({ url: caseUrl(CASE_PAGES.form, created.case_number) });
    } catch (err) {
      const fields = fieldErrorsOf(err);
      const errors = {
        businessType: fields.business_type || '',
        unitNumber: fields.unit_number || '',
        location: fields.location || '',
        form: '',
      };
      if (!errors.businessType && !errors.unitNumber && !errors.location) errors.form = errorMessageOf(err);
      this.setData({ errors });
    } finally {
      this.setData({ creating: false });
    }
  },
});
