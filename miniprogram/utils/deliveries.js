// A case's paper certificate on its way (纸质证书寄递/领取): what the delivery page
// shows (the API calls are services/deliveries.js). The server decides everything
// (status, labels, masking, whether the pickup code is still usable and whether
// this citizen may see it); this file only arranges it for the page.

const DELIVERY_PAGE = '/pages/delivery/index';

// Statuses at which the parcel waits at the registration centre's window
// (a returned parcel is collected there with the same code).
const AT_WINDOW = ['ready', 'returned'];
const STATUS_TONES = {
  waiting: 'warning',
  shipped: 'progress',
  delivered: 'success',
  returned: 'danger',
  ready: 'progress',
  collected: 'success',
};

const HINTS = {
  mail: '签收或窗口领取时出示，请勿告诉他人',
  window: '请携带身份证件到登记中心窗口领取，领取时出示，请勿告诉他人',
};

// While the documents are still being gathered.
const WAITING_NOTES = {
  mail: '正在准备证书和票据，寄出后可在此查看物流信息',
  window: '正在准备证书和票据，可以领取时将通知您',
};

function deliveryUrl(caseNumber) {
  return `${DELIVERY_PAGE}?case_number=${encodeURIComponent(caseNumber)}`;
}

// "12345678" -> "1234 5678": groups of four are easier to read out and compare.
function groupCode(code) {
  const text = String(code || '').replace(/\s+/g, '');
  return (text.match(/.{1,4}/g) || []).join(' ');
}

// What a screen reader should say: the digits one by one, not one large number.
function spellCode(code) {
  return Array.from(String(code || '').replace(/\s+/g, '')).join(' ');
}

function presentDelivery(delivery, index = 0) {
  const method = delivery.method === 'window' ? 'window' : 'mail';
  const atWindow = method === 'window' || AT_WINDOW.includes(delivery.status);
  const code = delivery.pickup_code ? String(delivery.pickup_code) : '';
  const codeLabel = atWindow ? '取件码' : '签收码';
  return {
    key: delivery.number || `delivery-${index}`,
    number: delivery.number || '',
    method,
    isMail: method === 'mail',
    methodLabel: delivery.method_label || (method === 'window' ? '窗口领取' : '邮寄'),
    status: delivery.status || '',
    statusLabel: delivery.status_label || '',
    tone: STATUS_TONES[delivery.status] || 'progress',
    recipient: delivery.recipient_masked || '',
    phone: delivery.phone_masked || '',
    address: delivery.address_masked || '',
    courier: delivery.courier || '',
    trackingNumber: delivery.tracking_number || '',
    documents: (delivery.documents || []).map((document, position) => ({
      key: `${document.kind}-${document.number || position}`,
      title: document.title || '',
      number: document.number || '',
    })),
    documentsNote: method === 'window' ? '同一办件的证书和票据一并领取' : '同一办件的证书和票据一并寄递',
    events: (delivery.events || []).map((event, position) => ({
      key: `${event.at}-${event.op_code || ''}-${position}`,
      atText: event.at_local || '',
      remark: event.remark || '',
      place: event.place || '',
      latest: position === 0,
    })),
    hasCode: Boolean(code),
    code,
    codeText: groupCode(code),
    codeSpoken: spellCode(code),
    codeLabel,
    codeHint: atWindow ? HINTS.window : HINTS.mail,
    waitingNote: delivery.status === 'waiting' ? WAITING_NOTES[method] : '',
    // Only a code still usable is sent; its QR is downloaded separately.
    qrPath: '',
    qrLoading: Boolean(code),
    qrError: '',
  };
}

module.exports = {
  DELIVERY_PAGE,
  deliveryUrl,
  groupCode,
  spellCode,
  presentDelivery,
};
