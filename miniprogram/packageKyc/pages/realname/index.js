const { errorMessageOf } = require('../../../services/http');
const { checkRealName } = require('../../../services/kyc');
const { KYC_PAGES } = require('../../../utils/kyc');

// Format only: the check digit and the registry are the server's business.
const ID_NUMBER_PATTERN = /^\d{17}[\dX]$/;
const FIELD_KEYS = { name: 'name', id_number: 'idNumber' };

function emptyErrors() {
  return { name: '', idNumber: '', form: '' };
}

function validate({ name, idNumber }) {
  const errors = emptyErrors();
  if (!name) errors.name = '请输入姓名';
  if (!idNumber) errors.idNumber = '请输入身份证号码';
  else if (!ID_NUMBER_PATTERN.test(idNumber)) errors.idNumber = '身份证号码应为18位，最后一位可以是数字或X';
  return errors.name || errors.idNumber ? errors : null;
}

// details.fields is {"field": ["中文说明", ...]}; one line per field is enough.
function fieldErrorsOf(err) {
  const fields = (err.details && err.details.fields) || {};
  const errors = emptyErrors();
  let found = false;
  Object.keys(fields).forEach((field) => {
    const key = FIELD_KEYS[field];
    const messages = [].concat(fields[field]).filter(Boolean);
    if (key && messages.length) {
      errors[key] = messages.join('；');
      found = true;
    }
  });
  if (!found) errors.form = errorMessageOf(err);
  return errors;
}

Page({
  data: {
    name: '',
    idNumber: '',
    errors: emptyErrors(),
    submitting: false,
  },

  onNameInput(event) {
    this.setData({ name: event.detail.value, 'errors.name': '', 'errors.form': '' });
  },

  onIdNumberInput(event) {
    this.setData({ idNumber: event.detail.value, 'errors.idNumber': '', 'errors.form': '' });
  },

  async onSubmit() {
    if (this.data.submitting) return;
    const name = this.data.name.trim();
    const idNumber = this.data.idNumber.trim().toUpperCase();
    const invalid = validate({ name, idNumber });
    if (invalid) {
      this.setData({ errors: invalid });
      return;
    }
    this.setData({ submitting: true, errors: emptyErrors() });
    try {
      await checkRealName({ name, idNumber });
      wx.redirectTo({ url: KYC_PAGES.consent });
    } catch (err) {
      const isFieldError = err.status === 422 && err.code === 'VALIDATION_FAILED';
      this.setData({ errors: isFieldError ? fieldErrorsOf(err) : { ...emptyErrors(), form: errorMessageOf(err) } });
    } finally {
      this.setData({ submitting: false });
    }
  },
});
