// A case's paper certificate on its way (纸质证书寄递/领取): the deliveries and the
// QR of the pickup code. What is shown of them is utils/deliveries.js.
const { request, downloadFile } = require('./http');
const { getApiBaseUrl } = require('../config');
const { casePath } = require('./cases');

function deliveriesPath(caseNumber, suffix = '') {
  return casePath(caseNumber, `/deliveries${suffix}`);
}

// [{number, method, status, …}] as GET /cases/<n>/deliveries answers (usually 0 or 1).
async function listDeliveries(caseNumber) {
  const { data } = await request(deliveriesPath(caseNumber));
  return Array.isArray(data) ? data : [];
}

// The QR of the pickup code is a PNG behind the bearer token, which <image>
// cannot send: it is downloaded to a temporary file first.
function downloadPickupQr(caseNumber, deliveryNumber) {
  return downloadFile(`${getApiBaseUrl()}${deliveriesPath(caseNumber, `/${encodeURIComponent(deliveryNumber)}/pickup-qr`)}`);
}

module.exports = { listDeliveries, downloadPickupQr };
