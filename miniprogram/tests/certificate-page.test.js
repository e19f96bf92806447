// 电子证书 viewer: the content and the watermarked image need the identity claim,
// so do the PDF; without a claim the verification journey is offered and the
// page carries on when it comes back with one.
const { loadPage, renderPage, textOf, wordsOf: words } = require('./helpers/page');
const { API_BASE, loggedIn, fakeServer, fakeDownloads, errorBody, settle } = require('./helpers/fake-wx');
const { NUMBER, NEW_NUMBER, ENCODED, BASE, CLAIM, detail, revokedSummary } = require('./helpers/certificates');

const KYC_STATUS = { identity_verified: true, consent_version: 'v1', provider: 'wechat' };
const IMAGE_PATH = 'wxfile://tmp/certificate.png';
const PDF_PATH = 'wxfile://tmp/certificate.pdf';

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/certificate/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
  jest.spyOn(wx, 'redirectTo').mockImplementation(() => {});
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showLoading').mockImplementation(() => {});
  jest.spyOn(wx, 'hideLoading').mockImplementation(() => {});
  jest.spyOn(wx, 'previewImage').mockImplementation((o) => o.success({}));
  jest.spyOn(wx, 'openDocument').mockImplementation((o) => o.success({}));
});

function confirmModal(confirm = true) {
  jest.spyOn(wx, 'showModal').mockImplementation((o) => o.success({ confirm, cancel: !confirm }));
}

// The certificate's answers; `content` replaces GET /certificates/<n>.
function server({ content } = {}) {
  return fakeServer((req) => {
    if (req.path === BASE) {
      if (content) return content(req);
      return req.header['X-Identity-Claim'] ? { data: detail() } : { status: 403, data: errorBody('IDENTITY_CLAIM_REQUIRED', '请先完成人脸核验') };
    }
    if (req.path === '/kyc/status') return { data: KYC_STATUS };
    return { status: 404, data: errorBody('NOT_FOUND', '未找到该证书') };
  });
}

function downloads(handler) {
  return fakeDownloads(
    handler ||
      ((download) => {
        if (!download.header['X-Identity-Claim']) return { status: 403, tempFilePath: 'wxfile://tmp/error' };
        return { tempFilePath: download.url.endsWith('/pdf') ? PDF_PATH : IMAGE_PATH };
      }),
  );
}

async function openViewer(number = NUMBER) {
  const page = renderPage(pageId);
  page.instance.onLoad({ number: encodeURIComponent(number) });
  page.instance.onShow();
  await settle();
  return page;
}

async function tap(page, selector) {
  page.querySelector(selector).dispatchEvent('tap');
  await settle();
}

function attr(node, name) {
  const found = node.toJSON().attrs.find((a) => a.name === name);
  return found && found.value;
}

test('with a claim: the content and the watermarked image, both fetched with the token and the claim', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  const requests = server();
  const files = downloads();

  const page = await openViewer();

  expect(requests.map((req) => `${req.method} ${req.path}`)).toEqual([`GET ${BASE}`]);
  expect(requests[0].header).toMatchObject({ Authorization: 'Bearer access-1', 'X-Identity-Claim': 'claim-1' });
  expect(files).toEqual([
    { url: `${API_BASE}${BASE}/image`, header: { Authorization: 'Bearer access-1', 'X-Identity-Claim': 'claim-1' } },
  ]);
  expect(attr(page.querySelector('.viewer__image'), 'src')).toBe(IMAGE_PATH);
  expect(textOf(page.querySelector('.viewer__kind'))).toBe('不动产权证书');
  expect(textOf(page.querySelector('.viewer__status'))).toBe('有效');
  expect(textOf(page.querySelector('.viewer__number'))).toBe(NUMBER);
  expect(page.querySelectorAll('.person').map(words)).toEqual(['张三 440402199001010018 份额 1/2', '李梅 4404**********0026 份额 1/2']);
  expect(page.querySelectorAll('.viewer__row').map(words)).toEqual([
    '共有情况 按份共有',
    '坐落 珠海市香洲区海滨南路 88 号 1 栋 2 单元 1203 房',
    '不动产单元号 440402003001GB00012F00010203',
    '权利类型 国有建设用地使用权/房屋所有权',
    '权利性质 出让/存量商品房',
    '用途 城镇住宅用地/住宅',
    '面积 共有宗地面积 12000.00 平方米/房屋建筑面积 89.50 平方米',
    '使用期限 国有建设用地使用权 2006年05月01日起 2076年04月30日止',
    '权利其他状况 专有建筑面积 76.20 平方米，分摊建筑面积 13.30 平方米',
    '登记机构 珠海市自然资源局',
    '发证日期 2026-11-24',
  ]);
  expect(page.querySelector('.viewer__revoked')).toBeUndefined();
});

test('a proof shows its matter, obligors and notes', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server({
    content: () => ({
      data: detail({ kind: 'proof', kind_label: '不动产登记证明' }, {
        kind: 'proof',
        matter: '抵押权',
        notes: '抵押金额 100 万元',
        obligors: [{ name: '王五', id_number: '4404**********0011', share: '' }],
      }),
    }),
  });
  downloads();

  const page = await openViewer();

  expect(textOf(page.querySelector('.viewer__kind'))).toBe('不动产登记证明');
  expect(words(page.querySelector('.viewer__obligors'))).toBe('王五 4404**********0011');
  const rows = page.querySelectorAll('.viewer__row').map(words);
  expect(rows).toContain('证明权利或事项 抵押权');
  expect(rows).toContain('附记 抵押金额 100 万元');
});

test('a tap on the image previews the downloaded file', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server();
  downloads();
  const page = await openViewer();

  await tap(page, '.viewer__image');

  expect(wx.previewImage).toHaveBeenCalledWith(expect.objectContaining({ urls: [IMAGE_PATH], current: IMAGE_PATH }));
});

test('下载 PDF downloads /pdf with the token and the claim and opens it with the menu', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server();
  const files = downloads();
  const page = await openViewer();

  expect(textOf(page.querySelector('.viewer__pdf'))).toBe('下载 PDF');
  await tap(page, '.viewer__pdf');

  expect(files[1]).toEqual({ url: `${API_BASE}${BASE}/pdf`, header: { Authorization: 'Bearer access-1', 'X-Identity-Claim': 'claim-1' } });
  expect(wx.openDocument).toHaveBeenCalledWith(expect.objectContaining({ filePath: PDF_PATH, fileType: 'pdf', showMenu: true }));
  expect(wx.hideLoading).toHaveBeenCalled();
  expect(page.instance.data.downloading).toBe(false);
});

test('without a claim: face verification is offered, and the certificate loads on return with one', async () => {
  const store = loggedIn();
  confirmModal(true);
  const requests = server();
  const files = downloads();

  const page = await openViewer();

  expect(requests[0].header).not.toHaveProperty('X-Identity-Claim');
  expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '需要身份核验', confirmText: '去核验' }));
  expect(wx.showModal.mock.calls[0][0].content).toContain('查看证书前需要进行人脸核验');
  expect(requests.map((req) => req.path)).toContain('/kyc/status');
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/wechat/index' });
  expect(files).toHaveLength(0);
  expect(page.querySelector('.viewer__image')).toBeUndefined();

  // The journey passed: back on the page with a claim.
  store.set('kyc.claim', CLAIM);
  page.instance.onShow();
  await settle();

  expect(requests.filter((req) => req.path === BASE)).toHaveLength(2);
  expect(requests.filter((req) => req.path === BASE)[1].header['X-Identity-Claim']).toBe('claim-1');
  expect(attr(page.querySelector('.viewer__image'), 'src')).toBe(IMAGE_PATH);
  expect(textOf(page.querySelector('.viewer__number'))).toBe(NUMBER);
});

test('coming back without a claim (journey abandoned) does not ask again', async () => {
  loggedIn();
  confirmModal(true);
  const requests = server();
  downloads();
  const page = await openViewer();

  page.instance.onShow();
  await settle();

  expect(requests.filter((req) => req.path === BASE)).toHaveLength(1);
  expect(wx.showModal).toHaveBeenCalledTimes(1);
});

test('declining verification leaves a 去核验 button that opens the journey', async () => {
  loggedIn();
  confirmModal(false);
  server();
  downloads();

  const page = await openViewer();

  expect(wx.navigateTo).not.toHaveBeenCalled();
  expect(textOf(page.querySelector('.viewer__verify'))).toContain('查看电子证书前需要进行人脸核验');
  await tap(page, '.viewer__verify-button');
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/wechat/index' });
  expect(page.instance.pendingClaimAction).toBe('view');
});

test('an expired claim on the PDF (the envelope in the downloaded body) offers verification, then downloads on return', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  confirmModal(true);
  server();
  let expired = true;
  const files = downloads((download) => {
    if (download.url.endsWith('/pdf') && expired) return { status: 403, tempFilePath: 'wxfile://tmp/error.json' };
    return { tempFilePath: download.url.endsWith('/pdf') ? PDF_PATH : IMAGE_PATH };
  });
  const readFileSync = jest.fn(() => JSON.stringify(errorBody('IDENTITY_CLAIM_EXPIRED', '人脸核验已过期，请重新核验')));
  jest.spyOn(wx, 'getFileSystemManager').mockImplementation(() => ({ readFileSync }));
  const page = await openViewer();

  await tap(page, '.viewer__pdf');

  expect(readFileSync).toHaveBeenCalledWith('wxfile://tmp/error.json', 'utf8');
  expect(wx.openDocument).not.toHaveBeenCalled();
  expect(wx.showModal.mock.calls[0][0].content).toContain('您的身份核验已过期');
  expect(wx.showModal.mock.calls[0][0].content).toContain('下载证书');
  expect(wx.hideLoading).toHaveBeenCalled();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/wechat/index' });

  expired = false;
  store.set('kyc.claim', { token: 'claim-2', expiresAt: Date.now() + 3600000 });
  page.instance.onShow();
  await settle();

  const pdfs = files.filter((download) => download.url.endsWith('/pdf'));
  expect(pdfs).toHaveLength(2);
  expect(pdfs[1].header['X-Identity-Claim']).toBe('claim-2');
  expect(wx.openDocument).toHaveBeenCalledWith(expect.objectContaining({ filePath: PDF_PATH, fileType: 'pdf', showMenu: true }));
});

test('a bare 403 on a download (body unreadable) still counts as a missing claim', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  confirmModal(false);
  server();
  downloads((download) => (download.url.endsWith('/pdf') ? { status: 403, tempFilePath: '' } : { tempFilePath: IMAGE_PATH }));
  const page = await openViewer();

  await tap(page, '.viewer__pdf');

  expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '需要身份核验' }));
  expect(wx.showModal.mock.calls[0][0].content).not.toContain('已过期');
  expect(wx.openDocument).not.toHaveBeenCalled();
});

test('an image that cannot be downloaded says so and can be retried', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server();
  let broken = true;
  const files = downloads(() => (broken ? { status: 500, tempFilePath: '' } : { tempFilePath: IMAGE_PATH }));
  const page = await openViewer();

  expect(textOf(page.querySelector('.viewer__image-error'))).toBe('证书文件下载失败，请稍后重试（点此重试）');

  broken = false;
  await tap(page, '.viewer__image-error');
  expect(files).toHaveLength(2);
  expect(attr(page.querySelector('.viewer__image'), 'src')).toBe(IMAGE_PATH);
});

test('an unknown certificate shows the server’s message', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server({ content: () => ({ status: 404, data: errorBody('NOT_FOUND', '未找到该证书') }) });
  const files = downloads();

  const page = await openViewer();

  expect(textOf(page)).toContain('未找到该证书');
  expect(files).toHaveLength(0);
});

test('the three links open consents, accesses and the error report for this certificate', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server();
  downloads();
  const page = await openViewer();

  expect(page.querySelectorAll('.links__label').map(textOf)).toEqual(['授权机构查询', '谁查看了我的证书', '报告证书错误']);
  await tap(page, '.links__consents');
  await tap(page, '.links__accesses');
  await tap(page, '.links__correction');

  expect(wx.navigateTo.mock.calls.map(([options]) => options.url)).toEqual([
    `/packageCertificate/pages/consents/index?number=${ENCODED}`,
    `/packageCertificate/pages/accesses/index?number=${ENCODED}`,
    `/packageCertificate/pages/correction/index?number=${ENCODED}`,
  ]);
});

test('a revoked certificate says 已作废, links its replacement and offers no error report', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server({ content: () => ({ data: { ...detail(), ...revokedSummary() } }) });
  downloads();
  const page = await openViewer();

  expect(textOf(page.querySelector('.viewer__status'))).toBe('已作废');
  expect(textOf(page.querySelector('.viewer__revoked-title'))).toBe('本证书已作废（2026-11-25 10:30）');
  expect(textOf(page.querySelector('.viewer__replaced'))).toBe(`已换发新证：${NEW_NUMBER} ›`);
  expect(page.querySelector('.links__correction')).toBeUndefined();
  expect(page.querySelectorAll('.links__label').map(textOf)).toEqual(['授权机构查询', '谁查看了我的证书']);

  await tap(page, '.viewer__replaced');
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: `/pages/certificate/index?number=${encodeURIComponent(NEW_NUMBER)}` });
});

test('an image refused for an expired claim offers verification on tap, then reloads', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  server();
  let refused = true;
  downloads(() => (refused ? { status: 403, tempFilePath: '' } : { tempFilePath: IMAGE_PATH }));
  const page = await openViewer();

  expect(textOf(page.querySelector('.viewer__image-error'))).toBe('人脸核验已过期，请重新核验后查看证书图片（点此重试）');
  await tap(page, '.viewer__image-error');
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/wechat/index' });

  refused = false;
  page.instance.onShow();
  await settle();
  expect(attr(page.querySelector('.viewer__image'), 'src')).toBe(IMAGE_PATH);
});
