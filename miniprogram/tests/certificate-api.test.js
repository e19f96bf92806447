// The certificate endpoints of the API client: paths with the number encoded,
// the identity claim where the server wants it, and the claim-protected downloads.
const certificatesApi = require('../services/certificates');
const { API_BASE, loggedIn, fakeServer, fakeDownloads, errorBody, tokenPair } = require('./helpers/fake-wx');
const { NUMBER, BASE, CLAIM } = require('./helpers/certificates');

beforeEach(() => {
  jest.spyOn(wx, 'reLaunch').mockImplementation(() => {});
});

describe('endpoints', () => {
  test.each([
    ['listCertificates', () => certificatesApi.listCertificates(), 'GET', '/certificates', undefined, false],
    ['getCertificate', () => certificatesApi.getCertificate(NUMBER), 'GET', BASE, undefined, true],
    ['listInstitutions', () => certificatesApi.listInstitutions(), 'GET', '/institutions', undefined, false],
    ['listCertificateConsents', () => certificatesApi.listCertificateConsents(NUMBER), 'GET', `${BASE}/consents`, undefined, false],
    ['grantCertificateConsent', () => certificatesApi.grantCertificateConsent(NUMBER, { institutionId: 3, purpose: '办理抵押贷款', days: 30 }), 'POST', `${BASE}/consents`, { institution_id: 3, purpose: '办理抵押贷款', days: 30 }, true],
    ['revokeCertificateConsent', () => certificatesApi.revokeCertificateConsent(NUMBER, 11), 'DELETE', `${BASE}/consents/11`, undefined, true],
    ['listCertificateAccesses', () => certificatesApi.listCertificateAccesses(NUMBER), 'GET', `${BASE}/accesses`, undefined, false],
    ['listCertificateCorrections', () => certificatesApi.listCertificateCorrections(NUMBER), 'GET', `${BASE}/corrections`, undefined, false],
    ['reportCertificateError', () => certificatesApi.reportCertificateError(NUMBER, { item: '坐落', description: '门牌号有误' }), 'POST', `${BASE}/corrections`, { item: '坐落', description: '门牌号有误' }, true],
  ])('%s: %s %s', async (_, call, method, path, body, claim) => {
    const store = loggedIn();
    store.set('kyc.claim', CLAIM);
    const requests = fakeServer(() => ({ data: [] }));

    await call();

    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method, path, data: body });
    expect(requests[0].header.Authorization).toBe('Bearer access-1');
    if (claim) expect(requests[0].header['X-Identity-Claim']).toBe('claim-1');
    else expect(requests[0].header).not.toHaveProperty('X-Identity-Claim');
  });

  test('a number with a slash stays one path segment', async () => {
    loggedIn();
    const requests = fakeServer(() => ({ data: [] }));

    await certificatesApi.listCertificateAccesses('A/B 1');

    expect(requests[0].path).toBe('/certificates/A%2FB%201/accesses');
  });
});

describe('downloadCertificateFile', () => {
  test('sends the token and the claim to the image and PDF addresses', async () => {
    const store = loggedIn();
    store.set('kyc.claim', CLAIM);
    const downloads = fakeDownloads((download) => ({ tempFilePath: `wxfile://tmp/${download.url.split('/').pop()}` }));

    await expect(certificatesApi.downloadCertificateFile(NUMBER, 'image')).resolves.toBe('wxfile://tmp/image');
    await expect(certificatesApi.downloadCertificateFile(NUMBER, 'pdf')).resolves.toBe('wxfile://tmp/pdf');

    expect(downloads.map((download) => download.url)).toEqual([`${API_BASE}${BASE}/image`, `${API_BASE}${BASE}/pdf`]);
    downloads.forEach((download) => expect(download.header).toEqual({ Authorization: 'Bearer access-1', 'X-Identity-Claim': 'claim-1' }));
  });

  test('an expired claim in storage is not sent', async () => {
    const store = loggedIn();
    store.set('kyc.claim', { token: 'old-claim', expiresAt: Date.now() - 1000 });
    const downloads = fakeDownloads(() => ({ status: 403, tempFilePath: '' }));

    await expect(certificatesApi.downloadCertificateFile(NUMBER, 'pdf')).rejects.toMatchObject({ code: 'IDENTITY_CLAIM_REQUIRED', status: 403 });
    expect(downloads[0].header).toEqual({ Authorization: 'Bearer access-1' });
  });

  test('a 403 reads the envelope from the downloaded body', async () => {
    loggedIn();
    fakeDownloads(() => ({ status: 403, tempFilePath: 'wxfile://tmp/err' }));
    jest.spyOn(wx, 'getFileSystemManager').mockImplementation(() => ({
      readFileSync: () => JSON.stringify(errorBody('IDENTITY_CLAIM_EXPIRED', '人脸核验已过期，请重新核验')),
    }));

    await expect(certificatesApi.downloadCertificateFile(NUMBER, 'image')).rejects.toMatchObject({
      code: 'IDENTITY_CLAIM_EXPIRED',
      message: '人脸核验已过期，请重新核验',
      status: 403,
    });
  });

  test('a 401 renews the session once and downloads again with the new token', async () => {
    const store = loggedIn('old-access', 'old-refresh');
    store.set('kyc.claim', CLAIM);
    fakeServer(() => ({ data: tokenPair('new-access', 'new-refresh') }));
    const downloads = fakeDownloads((download) =>
      download.header.Authorization === 'Bearer old-access' ? { status: 401, tempFilePath: '' } : { tempFilePath: 'wxfile://tmp/ok' },
    );

    await expect(certificatesApi.downloadCertificateFile(NUMBER, 'pdf')).resolves.toBe('wxfile://tmp/ok');
    expect(downloads).toHaveLength(2);
    expect(downloads[1].header).toEqual({ Authorization: 'Bearer new-access', 'X-Identity-Claim': 'claim-1' });
  });

  test('an unknown certificate is explained in Chinese', async () => {
    loggedIn();
    fakeDownloads(() => ({ status: 404, tempFilePath: '' }));

    await expect(certificatesApi.downloadCertificateFile(NUMBER, 'image')).rejects.toMatchObject({ code: 'NOT_FOUND', message: '未找到该证书' });
  });
});
