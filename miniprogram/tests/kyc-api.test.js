const session = require('../services/session');
const http = require('../services/http');
const authApi = require('../services/auth');
const kycApi = require('../services/kyc');
const { formatTime, shanghaiDate } = require('../utils/time');
const { planFrames, entryUrl } = require('../utils/kyc');
const { loggedIn, fakeServer, errorBody, tokenPair } = require('./helpers/fake-wx');

const NOW = Date.parse('2026-11-23T02:00:00Z');

beforeEach(() => {
  jest.spyOn(wx, 'reLaunch').mockImplementation(() => {});
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
});

describe('identity claim', () => {
  test('a passed verification stores the claim with its expiry in this phone’s clock', async () => {
    const storage = loggedIn();
    fakeServer(() => ({ data: { passed: true, claim: 'claim-abc', claim_expires_in: 1800 } }));

    await kycApi.verifyKycChallenge('nonce-1', ['frame']);

    expect(storage.get('kyc.claim')).toEqual({ token: 'claim-abc', expiresAt: NOW + 1800 * 1000 });
    expect(session.getIdentityClaim()).toEqual({ token: 'claim-abc', expiresAt: NOW + 1800 * 1000 });
  });

  test('getIdentityClaim returns null once the claim has expired, and forgets it', () => {
    const storage = loggedIn();
    session.storeIdentityClaim({ claim: 'claim-abc', claim_expires_in: 1800 });

    Date.now.mockReturnValue(NOW + 1799 * 1000);
    expect(session.getIdentityClaim()).not.toBeNull();

    Date.now.mockReturnValue(NOW + 1800 * 1000);
    expect(session.getIdentityClaim()).toBeNull();
    expect(storage.has('kyc.claim')).toBe(false);
  });

  test('getIdentityClaim returns null when nothing or something malformed is stored', () => {
    loggedIn();
    expect(session.getIdentityClaim()).toBeNull();

    wx.setStorageSync('kyc.claim', { expiresAt: NOW + 60000 });
    expect(session.getIdentityClaim()).toBeNull();
  });

  test('a request with the identityClaim option sends X-Identity-Claim', async () => {
    loggedIn('access-1');
    session.storeIdentityClaim({ claim: 'claim-abc', claim_expires_in: 1800 });
    const requests = fakeServer(() => ({ status: 201, data: {} }));

    await http.request('/cases/ZH2026112300001/submit', { method: 'POST', identityClaim: true });

    expect(requests[0].header['X-Identity-Claim']).toBe('claim-abc');
    expect(requests[0].header.Authorization).toBe('Bearer access-1');
  });

  test('other requests never carry the claim', async () => {
    loggedIn();
    session.storeIdentityClaim({ claim: 'claim-abc', claim_expires_in: 1800 });
    const requests = fakeServer(() => ({ data: { id: 7 } }));

    await authApi.getMe();

    expect(requests[0].header).not.toHaveProperty('X-Identity-Claim');
  });

  test('an expired claim is not sent: the server’s answer tells the citizen to verify again', async () => {
    loggedIn();
    session.storeIdentityClaim({ claim: 'claim-abc', claim_expires_in: 1800 });
    Date.now.mockReturnValue(NOW + 1801 * 1000);
    const requests = fakeServer(() => ({ status: 403, data: errorBody('IDENTITY_REQUIRED', '请先完成身份核验') }));

    await expect(http.request('/payments', { method: 'POST', identityClaim: true })).rejects.toMatchObject({
      code: 'IDENTITY_REQUIRED',
    });
    expect(requests[0].header).not.toHaveProperty('X-Identity-Claim');
  });

  test('the claim is sent again on the retry after a token refresh', async () => {
    loggedIn('old-access', 'old-refresh');
    session.storeIdentityClaim({ claim: 'claim-abc', claim_expires_in: 1800 });
    const requests = fakeServer((req) => {
      if (req.path === '/auth/refresh') return { data: tokenPair('new-access', 'new-refresh') };
      if (req.header.Authorization === 'Bearer old-access') {
        return { status: 401, data: errorBody('TOKEN_EXPIRED', '登录已过期') };
      }
      return { status: 201, data: {} };
    });

    await http.request('/cases/ZH2026112300001/submit', { method: 'POST', identityClaim: true });

    expect(requests.map((r) => r.path)).toEqual([
      '/cases/ZH2026112300001/submit',
      '/auth/refresh',
      '/cases/ZH2026112300001/submit',
    ]);
    expect(requests[2].header['X-Identity-Claim']).toBe('claim-abc');
  });

  test('logging out forgets the claim with the tokens', async () => {
    const storage = loggedIn();
    session.storeIdentityClaim({ claim: 'claim-abc', claim_expires_in: 1800 });
    fakeServer(() => ({ status: 204 }));

    await authApi.logout();

    expect(storage.has('kyc.claim')).toBe(false);
  });

  test('a refusal stores nothing', async () => {
    const storage = loggedIn();
    fakeServer(() => ({
      status: 422,
      data: errorBody('KYC_NO_FACE', '未检测到人脸', { attempts_left: 4 }),
    }));

    await expect(kycApi.verifyKycChallenge('nonce-1', ['frame'])).rejects.toMatchObject({
      code: 'KYC_NO_FACE',
      details: { attempts_left: 4 },
    });
    expect(storage.has('kyc.claim')).toBe(false);
  });
});

describe('kyc endpoints', () => {
  test('send what the contract says', async () => {
    loggedIn();
    const requests = fakeServer(() => ({ status: 200, data: { passed: true, claim: 'c', claim_expires_in: 60 } }));

    await kycApi.getKycStatus();
    await kycApi.getKycConsent();
    await kycApi.checkRealName({ name: '张三', idNumber: '11010519491231002X' });
    await kycApi.answerKycConsent({ version: '2026-11-v1', accepted: false });
    await kycApi.requestKycAppointment({ preferredDate: '2026-11-25', note: '' });
    await kycApi.createKycChallenge();
    await kycApi.verifyKycChallenge('n/1', ['f1', 'f2']);
    await kycApi.createWechatVerifyId();
    await kycApi.confirmWechatVerify('v-1');

    expect(requests.map((r) => [r.method, r.path, r.data])).toEqual([
      ['GET', '/kyc/status', undefined],
      ['GET', '/kyc/consent', undefined],
      ['POST', '/kyc/realname', { name: '张三', id_number: '11010519491231002X' }],
      ['POST', '/kyc/consent', { version: '2026-11-v1', accepted: false }],
      ['POST', '/kyc/appointments', { preferred_date: '2026-11-25', note: '' }],
      ['POST', '/kyc/challenges', undefined],
      ['POST', '/kyc/challenges/n%2F1/verify', { frames: ['f1', 'f2'] }],
      ['POST', '/kyc/wechat/verify-id', undefined],
      ['POST', '/kyc/wechat/result', { verify_id: 'v-1' }],
    ]);
  });
});

describe('helpers', () => {
  test.each([
    ['2026-11-23T02:35:00Z', '10:35'],
    ['2026-11-23T16:20:00Z', '00:20'],
    [Date.parse('2026-11-23T02:35:00Z'), '10:35'],
    [null, ''],
  ])('formatTime(%p) is %p in Beijing time', (value, shown) => {
    expect(formatTime(value)).toBe(shown);
  });

  test('tomorrow is counted in Beijing, not in the phone’s time zone', () => {
    // 17:00 UTC on the 23rd: still the 23rd in Los Angeles, already the 24th in Beijing.
    expect(shanghaiDate(1, Date.parse('2026-11-23T17:00:00Z'))).toBe('2026-11-25');
    expect(shanghaiDate(1, Date.parse('2026-12-31T15:00:00Z'))).toBe('2027-01-01');
  });

  test.each([
    [2, 3, 6, [2, 2]],
    [1, 3, 6, [3]],
    [3, 3, 4, [2, 1, 1]],
    [2, 5, 6, [3, 2]],
  ])('%i actions with %i..%i frames are taken as %p', (actions, min, max, plan) => {
    expect(planFrames(actions, min, max)).toEqual(plan);
  });

  test.each([
    [{ identity_verified: false, consent_version: null, provider: 'local' }, '/packageKyc/pages/realname/index'],
    [{ identity_verified: true, consent_version: null, provider: 'local' }, '/packageKyc/pages/consent/index'],
    [{ identity_verified: true, consent_version: '2026-11-v1', provider: 'local' }, '/packageKyc/pages/camera/index'],
    [{ identity_verified: true, consent_version: '2026-11-v1', provider: 'wechat' }, '/packageKyc/pages/wechat/index'],
    [
      { identity_verified: true, consent_version: '2026-05-v1', current_consent_version: '2026-11-v1', provider: 'local' },
      '/packageKyc/pages/consent/index',
    ],
    [
      { identity_verified: true, consent_version: '2026-11-v1', locked_until: '2026-11-23T16:00:00Z' },
      '/packageKyc/pages/result/index?outcome=failed&code=KYC_LOCKED&locked_until=2026-11-23T16%3A00%3A00Z',
    ],
    [{ identity_verified: false, locked_until: '2026-11-22T16:00:00Z' }, '/packageKyc/pages/realname/index'],
  ])('the 实名认证 entry of %p opens %s', (status, url) => {
    expect(entryUrl(status)).toBe(url);
  });
});
