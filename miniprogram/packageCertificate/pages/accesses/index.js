// 谁查看了我的证书: every look at the certificate (mine, institutions', a scan of
// its QR code), newest first, with refusals marked 已拒绝 and the basis shown.
const { listCertificateAccesses } = require('../../../services/certificates');
const { formatDateTime, parseIsoDateTime } = require('../../../utils/time');
const { decodeQueryValue } = require('../../../utils/kyc');
const { pageLoader } = require('../../../utils/page-loader');

const ACTION_LABELS = {
  view: '查看内容',
  view_image: '查看图片',
  download_pdf: '下载',
  lookup: '机构查询',
};

// A scan of the QR code by anyone is 扫码核验; an institution's check is 核验.
function actionLabel(entry) {
  if (entry.action === 'verify') return entry.accessor_type === 'public' ? '扫码核验' : '核验';
  return ACTION_LABELS[entry.action] || '查看';
}

function timeOf(entry) {
  const date = parseIsoDateTime(entry.at);
  return date ? date.getTime() : 0;
}

function presentAccesses(entries) {
  return entries
    .map((entry, index) => ({ entry, index }))
    // Newest first whatever order arrives; equal times keep the server's order.
    .sort((a, b) => timeOf(b.entry) - timeOf(a.entry) || a.index - b.index)
    .map(({ entry, index }) => ({
      key: `${entry.at}-${index}`,
      atText: formatDateTime(entry.at),
      who: entry.who || '',
      actionLabel: actionLabel(entry),
      denied: entry.outcome === 'denied',
      basis: entry.basis || '',
    }));
}

Page({
  data: {
    number: '',
    items: [],
    loaded: false,
    loading: false,
    errorMessage: '',
  },

  onLoad(query) {
    this.setData({ number: decodeQueryValue(query && query.number) });
    return this.load();
  },

  ...pageLoader({
    missing() {
      return this.data.number ? '' : '缺少证书编号';
    },
    fetch() {
      return listCertificateAccesses(this.data.number);
    },
    show(entries) {
      return { items: presentAccesses(entries) };
    },
    shown() {
      return this.data.items.length > 0;
    },
  }),
});
