// 我的缴费凭证: every order I paid and the e-bills issued for it (财政电子票据,
// 完税证明, 维修资金收据), newest first. A tap opens the items (with what each
// department received and what was refunded) and the refunds, or a bill's code,
// number and check code; 下载 fetches a bill's PDF with the token and opens it.
// The server decides what counts as paid and issued; this page only shows it.
const { isLoggedIn, LOGIN_PAGE } = require('../../services/session');
const { errorMessageOf, showError } = require('../../services/http');
const { listReceipts } = require('../../services/receipts');
const { openPdf } = require('../../utils/files');
const { formatDateTime } = require('../../utils/time');
const { fenToYuan } = require('../../utils/money');
const { pagedList } = require('../../utils/paging');

const PAYMENT_RECEIPT = 'payment_receipt';


function yuanText(fen) {
  const yuan = fenToYuan(fen);
  return yuan ? `${yuan} 元` : '';
}

function presentReceipt(receipt) {
  const refundedFen = Number(receipt.refunded_fen) || 0;
  const number = receipt.number || receipt.out_trade_no || '';
  // An e-bill is any document of another kind that has a file to download.
  const isEbill = Boolean(receipt.kind && receipt.kind !== PAYMENT_RECEIPT && receipt.file_url);
  return {
    key: `${receipt.kind || 'receipt'}-${number}`,
    isEbill,
    fileUrl: receipt.file_url || '',
    number,
    billCode: receipt.bill_code || '',
    billNumber: receipt.bill_number || '',
    checkCode: receipt.check_code || '',
    issuerName: receipt.issuer_name || '',
    issuedText: formatDateTime(receipt.issued_at),
    note: receipt.note || '',
    kindLabel: receipt.kind_label || '',
    caseNumber: receipt.case_number || '',
    businessTypeName: (receipt.business_type && receipt.business_type.name) || '',
    paidText: formatDateTime(receipt.paid_at || receipt.issued_at),
    gatewayLabel: receipt.gateway_label || '',
    amountText: yuanText(receipt.amount_fen),
    refundedText: refundedFen > 0 ? yuanText(refundedFen) : '',
    status: receipt.status || '',
    statusLabel: receipt.status_label || '',
    outTradeNo: receipt.out_trade_no || number,
    transactionIdMasked: receipt.transaction_id_masked || '',
    items: (receipt.items || []).map((item, index) => ({
      key: `${item.department || 'item'}-${index}`,
      name: item.name || '',
      departmentLabel: item.department_label || '',
      amountText: yuanText(item.amount_fen),
      refundedText: Number(item.refunded_fen) > 0 ? yuanText(item.refunded_fen) : '',
    })),
    refunds: (receipt.refunds || []).map((refund, index) => ({
      key: `refund-${index}`,
      amountText: yuanText(refund.amount_fen),
      atText: formatDateTime(refund.refunded_at),
    })),
    expanded: false,
  };
}

Page({
  data: {
    items: [],
    page: 0,
    hasMore: false,
    loading: false,
    loaded: false,
    errorMessage: '',
  },

  onLoad() {
    if (!isLoggedIn()) {
      wx.reLaunch({ url: LOGIN_PAGE });
      return undefined;
    }
    return this.loadPage(1);
  },

  ...pagedList({ fetch: (query) => listReceipts(query), present: presentReceipt }),

  pageLoaded() {
    return { errorMessage: '' };
  },

  // Nothing shown yet: the message takes the page's place; otherwise the receipts
  // already shown stay and a toast tells what went wrong.
  onPageError(err) {
    if (this.data.items.length === 0) this.setData({ loaded: true, errorMessage: errorMessageOf(err) });
    else showError(err);
  },

  onToggle(event) {
    const index = Number(event.currentTarget.dataset.index);
    const item = this.data.items[index];
    if (!item) return;
    this.setData({ [`items[${index}].expanded`]: !item.expanded });
  },

  // 下载: the bill's PDF, fetched with the bearer token, opened by WeChat. One
  // download at a time; closing the document viewer is no error.
  async onDownload(event) {
    const index = Number(event.currentTarget.dataset.index);
    const item = this.data.items[index];
    if (!item || !item.fileUrl || this.downloading) return;
    this.downloading = true;
    wx.showLoading({ title: '正在下载', mask: true });
    try {
      await openPdf(item.fileUrl);
    } catch (err) {
      if (!/cancel/i.test(String((err && err.errMsg) || ''))) showError(err);
    } finally {
      wx.hideLoading();
      this.downloading = false;
    }
  },
});
