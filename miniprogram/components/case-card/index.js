const { formatDateTime } = require('../../utils/time');

Component({
  properties: {
    // One case as returned by GET /cases.
    item: { type: Object, value: null },
  },
  data: {
    businessTypeName: '',
    location: '',
    updatedText: '',
  },
  observers: {
    item(item) {
      this.present(item);
    },
  },
  lifetimes: {
    attached() {
      this.present(this.data.item);
    },
  },
  methods: {
    present(item) {
      if (!item) return;
      this.setData({
        businessTypeName: (item.business_type && item.business_type.name) || '',
        location: (item.unit && item.unit.location) || '',
        updatedText: formatDateTime(item.updated_at),
      });
    },
    onTap() {
      if (!this.data.item) return;
      this.triggerEvent('select', { caseNumber: this.data.item.case_number });
    },
  },
});
