// 缴纳税费: the assessed items and one button. The phone's payment callback is
// never believed: after it (success, cancel or failure) the order is read back
// from the server, and 支付成功 appears only once the server says `paid` (it
// does after the gateway's verified notification).
const { showError } = require('../../services/http');
const { getCaseFees, getPayment } = require('../../services/payments');
const { formatDateTime } = require('../../utils/time');
const { fenToYuan } = require('../../utils/money');
const { callWx } = require('../../utils/wx-async');
const { decodeQueryValue } = require('../../utils/kyc');
const { runClaimAction, takePendingClaimAction } = require('../../utils/case-actions');
const { pageLoader } = require('../../utils/page-loader');

const POLL_INTERVAL_MS = 2000;
const POLL_ATTEMPTS = 15; // about 30 seconds

const RESULT_TEXTS = {
  paid: '支付成功',
  cancelled: '已取消支付',
  failed: '支付未完成，请重试',
  checking: '正在确认支付结果…',
  pending: '支付结果确认中，请稍后在办件详情查看',
};

function yuanText(fen) {
  const yuan = fenToYuan(fen);
  return yuan ? `${yuan} 元` : '';
}

function presentFees(fees) {
  return {
    items: (fees.items || []).map((entry, index) => ({
      key: `${entry.item}-${index}`,
      name: entry.name || entry.item || '',
      departmentLabel: entry.department_label || '',
      amountText: entry.exempt ? '免收' : yuanText(entry.amount_fen),
      basis: entry.basis || '',
      exempt: Boolean(entry.exempt),
    })),
    totalText: yuanText(fees.total_fen),
    assessedText: formatDateTime(fees.assessed_at),
  };
}

function wait(ms) {
  return new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
}

// 'ok', 'cancel' or 'fail': what the phone says, which proves nothing.
async function requestPayment(clientParams) {
  try {
    await callWx('requestPayment', Object.assign({}, clientParams));
    return 'ok';
  } catch (err) {
    return /cancel/i.test(String((err && err.errMsg) || '')) ? 'cancel' : 'fail';
  }
}

Page({
  data: {
    caseNumber: '',
    fees: null,
    loading: true,
    loaded: false,
    errorMessage: '',
    paying: false,
    result: '',
    resultText: '',
  },

  onLoad(query) {
    this.shown = false;
    this.unloaded = false;
    this.setData({ caseNumber: decodeQueryValue(query && query.case_number) });
    return this.load();
  },

  // Back from the verification journey: pay as the citizen asked.
  onShow() {
    if (!this.shown) {
      this.shown = true;
      return undefined;
    }
    return takePendingClaimAction(this) ? this.onPay() : undefined;
  },

  onUnload() {
    this.unloaded = true;
  },

  // Without the fees nothing can be paid: a failure always takes the page's place.
  ...pageLoader({
    missing() {
      return this.data.caseNumber ? '' : '缺少办件编号';
    },
    fetch() {
      return getCaseFees(this.data.caseNumber);
    },
    show(fees) {
      return { fees: presentFees(fees) };
    },
    shown() {
      return false;
    },
  }),

  showResult(result) {
    this.setData({ result, resultText: RESULT_TEXTS[result] || '' });
  },

  async onPay() {
    if (this.data.paying || this.data.result === 'paid' || this.data.result === 'pending') return;
    this.setData({ paying: true, result: '', resultText: '' });
    try {
      // The same request twice returns the same order: a retry after a cancel
      // pays the order already open.
      const order = await runClaimAction(this, 'pay', this.data.caseNumber);
      if (!order) return; // sent to identity verification first
      if (order.status === 'paid') {
        this.showResult('paid');
        return;
      }
      const outcome = await requestPayment(order.client_params);
      if (this.unloaded) return;
      this.showResult('checking');
      // After a cancel or a failure one look is enough to catch a payment that
      // went through after all; after "success" the notification may take a while.
      const paid = await this.waitForPaid(order.out_trade_no, outcome === 'ok' ? POLL_ATTEMPTS : 1);
      if (paid) this.showResult('paid');
      else if (outcome === 'cancel') this.showResult('cancelled');
      else if (outcome === 'fail') this.showResult('failed');
      else this.showResult('pending');
    } catch (err) {
      showError(err);
    } finally {
      this.setData({ paying: false });
    }
  },

  // Reads the order every 2 seconds until the server says `paid` or the
  // attempts run out. A failed read counts as "not yet".
  async waitForPaid(outTradeNo, attempts) {
    for (let attempt = 0; attempt < attempts && !this.unloaded; attempt += 1) {
      if (attempt > 0) await wait(POLL_INTERVAL_MS);
      try {
        const order = await getPayment(outTradeNo);
        if (order && order.status === 'paid') return true;
      } catch (err) {
        // Not known yet; ask again.
      }
    }
    return false;
  },

  onBackToCase() {
    wx.navigateBack({ delta: 1 });
  },
});
