// Taxes and fees (缴纳税费): the assessed items and the payment order.
const { request } = require('./http');
const { casePath } = require('./cases');

// {case_number, items: [{item, name, department, department_label, amount_fen,
// basis, exempt}], total_fen, assessed_at}: amounts are integer fen.
async function getCaseFees(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/fees'));
  return data;
}

// Creates the payment order, or returns the one already open: the same request
// twice gives the same order. Paying needs the identity claim.
async function createPayment(caseNumber, gateway = 'wechat') {
  const { data } = await request(casePath(caseNumber, '/payments'), {
    method: 'POST',
    data: { gateway },
    identityClaim: true,
  });
  return data;
}

// The order as the server knows it: `paid` only after the gateway's verified
// notification, whatever the phone was told.
async function getPayment(outTradeNo) {
  const { data } = await request(`/payments/${encodeURIComponent(outTradeNo)}`);
  return data;
}

module.exports = { getCaseFees, createPayment, getPayment };
