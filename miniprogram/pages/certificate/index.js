// 电子证书: the certificate's image (with the server's 仅供查看 watermark), what it
// records, the signed PDF, and the links to consents, accesses and error reports.
// The content, the image and the PDF need the identity claim: without one the
// citizen is offered face verification, and the page loads again on return.
const { errorMessageOf, showError } = require('../../services/http');
const { getCertificate, downloadCertificateFile } = require('../../services/certificates');
const { callWx } = require('../../utils/wx-async');
const { decodeQueryValue } = require('../../utils/kyc');
const {
  CERTIFICATE_PAGES,
  certificateUrl,
  needsIdentityClaim,
  takePendingClaimAction,
  runWithIdentityClaim,
  startIdentityVerification,
  presentSummary,
} = require('../../utils/certificates');
const { pageLoader } = require('../../utils/page-loader');

const VIEW_LABEL = '查看证书';
const PDF_LABEL = '下载证书';

// The certificate's items in the order printed on it; empty ones are left out.
const CONTENT_ROWS = [
  ['co_ownership', '共有情况'],
  ['location', '坐落'],
  ['unit_number', '不动产单元号'],
  ['right_type', '权利类型'],
  ['right_nature', '权利性质'],
  ['use', '用途'],
  ['area', '面积'],
  ['term', '使用期限'],
  ['other', '权利其他状况'],
  ['matter', '证明权利或事项'],
  ['notes', '附记'],
  ['authority', '登记机构'],
  ['issue_date', '发证日期'],
];

function presentPeople(people) {
  return (people || []).map((person, index) => ({
    key: `${person.id_number || person.name}-${index}`,
    name: person.name || '',
    idNumber: person.id_number || '',
    share: person.share || '',
  }));
}

function presentDetail(certificate) {
  const content = certificate.content || {};
  return Object.assign(presentSummary(certificate), {
    holders: presentPeople(content.holders),
    obligors: presentPeople(content.obligors),
    rows: CONTENT_ROWS.filter(([field]) => content[field])
      .map(([field, label]) => ({ key: field, label, value: String(content[field]) })),
  });
}

function isCancel(err) {
  return /cancel/i.test(String((err && err.errMsg) || ''));
}

Page({
  data: {
    number: '',
    detail: null,
    loading: true,
    loaded: false,
    errorMessage: '',
    needsVerification: false,
    imagePath: '',
    imageLoading: false,
    imageError: '',
    imageNeedsClaim: false,
    downloading: false,
  },

  onLoad(query) {
    this.shown = false;
    this.setData({ number: decodeQueryValue(query && query.number) });
    return this.load();
  },

  // Back from the verification journey: do what the citizen asked.
  onShow() {
    if (!this.shown) {
      this.shown = true;
      return undefined;
    }
    const action = takePendingClaimAction(this);
    if (action === 'pdf') return this.onDownloadPdf();
    if (action === 'view') return this.load();
    return undefined;
  },

  // No certificate (null) when the citizen was offered verification first.
  ...pageLoader({
    missing() {
      return this.data.number ? '' : '缺少证书编号';
    },
    fetch() {
      return runWithIdentityClaim(this, 'view', VIEW_LABEL, () => getCertificate(this.data.number));
    },
    show(certificate) {
      if (!certificate) return { needsVerification: !this.data.detail };
      return { detail: presentDetail(certificate), needsVerification: false };
    },
    afterShow(certificate) {
      return certificate ? this.loadImage() : undefined;
    },
    shown() {
      return Boolean(this.data.detail);
    },
  }),

  // The PNG carries the token and the claim, which <image> cannot send: it is
  // downloaded to a temporary file first.
  async loadImage() {
    this.setData({ imageLoading: true, imageError: '', imageNeedsClaim: false });
    try {
      const imagePath = await downloadCertificateFile(this.data.number, 'image');
      this.setData({ imagePath });
    } catch (err) {
      const claimNeeded = needsIdentityClaim(err);
      this.setData({
        imagePath: '',
        imageNeedsClaim: claimNeeded,
        imageError: claimNeeded ? '人脸核验已过期，请重新核验后查看证书图片' : errorMessageOf(err),
      });
    } finally {
      this.setData({ imageLoading: false });
    }
  },

  onVerify() {
    return startIdentityVerification(this, 'view');
  },

  onRetryImage() {
    if (this.data.imageNeedsClaim) return startIdentityVerification(this, 'view');
    return this.loadImage();
  },

  async onPreviewImage() {
    const path = this.data.imagePath;
    if (!path) return;
    try {
      await callWx('previewImage', { urls: [path], current: path });
    } catch (err) {
      // Closing the preview is not an error worth telling.
    }
  },

  async onDownloadPdf() {
    if (this.data.downloading || !this.data.number) return;
    this.setData({ downloading: true });
    wx.showLoading({ title: '正在下载', mask: true });
    let filePath = null;
    try {
      // The loading mask goes before any question about verification.
      filePath = await runWithIdentityClaim(this, 'pdf', PDF_LABEL, async () => {
        try {
          return await downloadCertificateFile(this.data.number, 'pdf');
        } finally {
          wx.hideLoading();
        }
      });
      if (filePath) await callWx('openDocument', { filePath, fileType: 'pdf', showMenu: true });
    } catch (err) {
      if (!isCancel(err)) showError(err);
    } finally {
      wx.hideLoading();
      this.setData({ downloading: false });
    }
  },

  openPage(page, number = this.data.number) {
    wx.navigateTo({ url: certificateUrl(page, number) });
  },

  onOpenConsents() {
    this.openPage(CERTIFICATE_PAGES.consents);
  },

  onOpenAccesses() {
    this.openPage(CERTIFICATE_PAGES.accesses);
  },

  onOpenCorrection() {
    this.openPage(CERTIFICATE_PAGES.correction);
  },

  // A revoked certificate names the one that replaced it.
  onOpenReplacement() {
    const replacement = this.data.detail && this.data.detail.replacedBy;
    if (replacement) wx.redirectTo({ url: certificateUrl(CERTIFICATE_PAGES.viewer, replacement) });
  },
});
