// The server owns the status vocabulary and its Chinese labels; the badge only
// picks a colour. Unknown statuses fall back to the neutral "progress" tone.
const TONE_BY_STATUS = {
  draft: 'muted',
  withdrawn: 'muted',
  cancelled: 'muted',
  returned: 'warning',
  awaiting_payment: 'warning',
  fees_assessed: 'warning',
  supplement_required: 'warning',
  rejected: 'danger',
  completed: 'success',
  certificate_issued: 'success',
};
const DEFAULT_TONE = 'progress';

function toneOf(status) {
  return TONE_BY_STATUS[status] || DEFAULT_TONE;
}

Component({
  properties: {
    status: { type: String, value: '' },
    label: { type: String, value: '' },
  },
  data: {
    tone: DEFAULT_TONE,
  },
  observers: {
    status(status) {
      this.setData({ tone: toneOf(status) });
    },
  },
  lifetimes: {
    attached() {
      this.setData({ tone: toneOf(this.data.status) });
    },
  },
});
