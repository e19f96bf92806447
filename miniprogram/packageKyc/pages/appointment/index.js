// The alternative to face recognition: the citizen asks for a date to have
// their identity checked at the counter (到窗口核验身份).
const { errorMessageOf } = require('../../../services/http');
const { requestKycAppointment } = require('../../../services/kyc');
const { shanghaiDate } = require('../../../utils/time');

const NOTE_MAX_LENGTH = 200;
const STATUS_LABELS = { requested: '已提交，待窗口确认' };

function emptyErrors() {
  return { date: '', note: '', form: '' };
}

function errorsOf(err) {
  const errors = emptyErrors();
  const fields = (err.status === 422 && err.details && err.details.fields) || {};
  const join = (value) => [].concat(value || []).filter(Boolean).join('；');
  errors.date = join(fields.preferred_date);
  errors.note = join(fields.note);
  if (!errors.date && !errors.note) errors.form = errorMessageOf(err);
  return errors;
}

Page({
  data: {
    minDate: '',
    date: '',
    note: '',
    noteMaxLength: NOTE_MAX_LENGTH,
    errors: emptyErrors(),
    submitting: false,
    appointment: null,
  },

  onLoad() {
    // The earliest date is tomorrow in Beijing, whatever the phone's time zone.
    this.setData({ minDate: shanghaiDate(1) });
  },

  onDateChange(event) {
    this.setData({ date: event.detail.value, 'errors.date': '', 'errors.form': '' });
  },

  onNoteInput(event) {
    this.setData({ note: event.detail.value, 'errors.note': '' });
  },

  async onSubmit() {
    if (this.data.submitting) return;
    const { date, minDate } = this.data;
    if (!date) {
      this.setData({ 'errors.date': '请选择预约日期' });
      return;
    }
    if (date < minDate) {
      this.setData({ 'errors.date': `最早可预约 ${minDate}` });
      return;
    }
    this.setData({ submitting: true, errors: emptyErrors() });
    try {
      const appointment = await requestKycAppointment({ preferredDate: date, note: this.data.note.trim() });
      this.setData({
        appointment: {
          id: appointment.id,
          preferredDate: appointment.preferred_date || date,
          statusLabel: STATUS_LABELS[appointment.status] || appointment.status,
        },
      });
    } catch (err) {
      this.setData({ errors: errorsOf(err) });
    } finally {
      this.setData({ submitting: false });
    }
  },

  onDone() {
    wx.switchTab({ url: '/pages/me/index' });
  },
});
