// E-receipts (电子缴费凭证): what I paid and the e-bills issued for it.
const { request, parsePagination } = require('./http');

// My receipts and e-bills, newest first: [{kind, kind_label, number, issued_at,
// file_url, case_number, business_type, paid_at, amount_fen, status,
// status_label, items, ...}]. Amounts are integer fen. `kind` says what document
// it is: "payment_receipt" (with gateway_label, refunded_fen,
// transaction_id_masked, refunds; file_url null) or an e-bill, "fiscal_ebill",
// "tax_certificate", "fund_receipt" (with bill_code, bill_number, check_code,
// issuer_name, verify_url, note; file_url the PDF, see downloadFile).
async function listReceipts({ page = 1, pageSize = 20 } = {}) {
  const query = `page=${encodeURIComponent(page)}&page_size=${encodeURIComponent(pageSize)}`;
  const { data, headers } = await request(`/me/receipts?${query}`);
  return {
    items: Array.isArray(data) ? data : [],
    pagination: parsePagination(headers),
  };
}

async function getReceipt(outTradeNo) {
  const { data } = await request(`/me/receipts/${encodeURIComponent(outTradeNo)}`);
  return data;
}

module.exports = { listReceipts, getReceipt };
