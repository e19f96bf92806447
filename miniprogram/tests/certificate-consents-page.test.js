// 授权机构查询: the consents on a certificate, granting one (with the identity
// claim) and revoking one (after a confirmation).
const { loadPage, renderPage, textOf, wordsOf: words } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, settle } = require('./helpers/fake-wx');
const { NUMBER, BASE, CLAIM } = require('./helpers/certificates');

const INSTITUTIONS = [
  { id: 3, name: '中国工商银行珠海分行', kind: 'bank', kind_label: '银行' },
  { id: 5, name: '珠海安居房产中介', kind: 'agency', kind_label: '中介机构' },
];

function consent(overrides = {}) {
  return {
    id: 11,
    institution: INSTITUTIONS[0],
    purpose: '办理抵押贷款',
    granted_at: '2026-11-24T02:00:00Z',
    expires_at: '2026-12-24T02:00:00Z',
    revoked_at: null,
    status: 'active',
    status_label: '有效',
    granted_by_me: true,
    ...overrides,
  };
}

const REVOKED = consent({ id: 9, institution: INSTITUTIONS[1], purpose: '办理房屋交易', granted_at: '2026-11-10T02:00:00Z', revoked_at: '2026-11-20T01:00:00Z', status: 'revoked', status_label: '已撤销' });

let pageId;

beforeAll(() => {
  pageId = loadPage('packageCertificate/pages/consents/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'stopPullDownRefresh').mockImplementation(() => {});
});

function confirmModal(confirm = true) {
  jest.spyOn(wx, 'showModal').mockImplementation((o) => o.success({ confirm, cancel: !confirm }));
}

// `grant(req)` and `revoke(req)` answer the POST and the DELETE.
function server({ consents = [consent(), REVOKED], grant, revoke } = {}) {
  let list = consents;
  const requests = fakeServer((req) => {
    if (req.path === '/institutions') return { data: INSTITUTIONS };
    if (req.path === `${BASE}/consents` && req.method === 'GET') return { data: list };
    if (req.path === `${BASE}/consents` && req.method === 'POST') {
      if (grant) return grant(req);
      const created = consent({ id: 12, institution: INSTITUTIONS.find((i) => i.id === req.data.institution_id), purpose: req.data.purpose });
      list = [created].concat(list);
      return { status: 201, data: created };
    }
    if (req.path.startsWith(`${BASE}/consents/`) && req.method === 'DELETE') {
      if (revoke) return revoke(req);
      list = list.map((entry) => (`${BASE}/consents/${entry.id}` === req.path ? { ...entry, status: 'revoked', status_label: '已撤销', revoked_at: '2026-11-25T03:00:00Z' } : entry));
      return { status: 204 };
    }
    if (req.path === '/kyc/status') return { data: { identity_verified: true, consent_version: 'v1', provider: 'local' } };
    return { status: 404, data: errorBody('NOT_FOUND', '未找到') };
  });
  return requests;
}

async function openConsents() {
  const page = renderPage(pageId);
  page.instance.onLoad({ number: encodeURIComponent(NUMBER) });
  page.instance.onShow();
  await settle();
  return page;
}

async function fillForm(page, { institutionIndex = 0, purpose = '办理抵押贷款', dayIndex } = {}) {
  page.instance.onInstitutionChange({ detail: { value: String(institutionIndex) } });
  page.instance.onPurposeInput({ detail: { value: purpose } });
  if (dayIndex !== undefined) page.instance.onDaysChange({ detail: { value: String(dayIndex) } });
  await settle();
}

async function tap(page, selector, index = 0) {
  page.querySelectorAll(selector)[index].dispatchEvent('tap');
  await settle();
}

test('lists the consents with institution, purpose, times in Beijing time and status; only active ones can be revoked', async () => {
  loggedIn();
  const requests = server();

  const page = await openConsents();

  expect(requests.map((req) => `${req.method} ${req.path}`).sort()).toEqual(['GET /institutions', `GET ${BASE}/consents`].sort());
  const entries = page.querySelectorAll('.consent');
  expect(entries.map(words)).toEqual([
    '中国工商银行珠海分行 有效 银行 用途：办理抵押贷款 授权时间：2026-11-24 10:00 有效期至：2026-12-24 10:00',
    '珠海安居房产中介 已撤销 中介机构 用途：办理房屋交易 授权时间：2026-11-10 10:00 撤销时间：2026-11-20 09:00',
  ]);
  expect(page.querySelectorAll('.consent__revoke')).toHaveLength(1);
  expect(textOf(page.querySelector('.grant__days'))).toBe('30 天 ›');
});

test('older answers with institution_name and active are understood too', async () => {
  loggedIn();
  server({
    consents: [
      { id: 4, institution_id: 3, institution_name: '中国工商银行珠海分行', purpose: '办理抵押贷款', granted_at: '2026-11-24T02:00:00Z', expires_at: '2026-12-24T02:00:00Z', revoked_at: null, active: true },
      { id: 2, institution_id: 5, institution_name: '珠海安居房产中介', purpose: '办理房屋交易', granted_at: '2026-10-01T02:00:00Z', expires_at: '2026-10-31T02:00:00Z', revoked_at: null, active: false },
    ],
  });

  const page = await openConsents();

  expect(page.querySelectorAll('.consent__name').map(textOf)).toEqual(['中国工商银行珠海分行', '珠海安居房产中介']);
  expect(page.querySelectorAll('.consent__status').map(textOf)).toEqual(['有效', '已过期']);
  expect(page.querySelectorAll('.consent__revoke')).toHaveLength(1);
});

test('no consent yet: 暂无授权记录, and the form still offers the institutions', async () => {
  loggedIn();
  server({ consents: [] });

  const page = await openConsents();

  expect(textOf(page.querySelector('.consents__empty'))).toBe('暂无授权记录');
  expect(textOf(page.querySelector('.grant__institution'))).toBe('请选择机构 ›');
  expect(page.instance.data.institutionNames).toEqual(['中国工商银行珠海分行（银行）', '珠海安居房产中介（中介机构）']);
});

test('granting: confirmed, then POSTed with institution_id, purpose and days and the claim; the list reloads', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  confirmModal(true);
  const requests = server({ consents: [] });
  const page = await openConsents();

  await fillForm(page, { institutionIndex: 0, purpose: ' 办理抵押贷款 ' });
  await tap(page, '.grant__submit');

  expect(wx.showModal.mock.calls[0][0].content).toBe('授权后，中国工商银行珠海分行可在 30 天内查询本证书的内容（用途：办理抵押贷款）。您可随时撤销授权。确定授权吗？');
  const post = requests.find((req) => req.method === 'POST');
  expect(post.path).toBe(`${BASE}/consents`);
  expect(post.data).toEqual({ institution_id: 3, purpose: '办理抵押贷款', days: 30 });
  expect(post.header['X-Identity-Claim']).toBe('claim-1');
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已授权' }));
  expect(page.querySelectorAll('.consent__name').map(textOf)).toEqual(['中国工商银行珠海分行']);
  expect(page.instance.data.form).toEqual({ institutionIndex: -1, purpose: '', dayIndex: 1 });
});

test('another period and a suggested purpose are sent as chosen', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  confirmModal(true);
  const requests = server({ consents: [] });
  const page = await openConsents();

  await fillForm(page, { institutionIndex: 1, purpose: '', dayIndex: 2 });
  await tap(page, '.suggestion', 1);
  expect(page.instance.data.form.purpose).toBe('办理房屋交易');
  await tap(page, '.grant__submit');

  expect(requests.find((req) => req.method === 'POST').data).toEqual({ institution_id: 5, purpose: '办理房屋交易', days: 90 });
});

test('nothing is sent without an institution or with a purpose too short', async () => {
  loggedIn();
  confirmModal(true);
  const requests = server({ consents: [] });
  const page = await openConsents();

  page.instance.onPurposeInput({ detail: { value: '贷' } });
  await tap(page, '.grant__submit');

  expect(textOf(page.querySelector('.error--institution'))).toBe('请选择要授权的机构');
  expect(textOf(page.querySelector('.error--purpose'))).toBe('请填写用途（2到100个字），如“办理抵押贷款”');
  expect(wx.showModal).not.toHaveBeenCalled();
  expect(requests.filter((req) => req.method === 'POST')).toHaveLength(0);
});

test('the server’s field errors appear under the fields', async () => {
  const store = loggedIn();
  store.set('kyc.claim', CLAIM);
  confirmModal(true);
  server({
    consents: [],
    grant: () => ({ status: 422, data: errorBody('VALIDATION_FAILED', '提交的信息有误，请检查后重试', { fields: { days: ['授权期限应为1到365天'] } }) }),
  });
  const page = await openConsents();

  await fillForm(page);
  await tap(page, '.grant__submit');

  expect(textOf(page.querySelector('.error--days'))).toBe('授权期限应为1到365天');
  expect(page.instance.data.granting).toBe(false);
});

test('granting without a claim offers verification, then grants on return without asking again', async () => {
  const store = loggedIn();
  confirmModal(true);
  const requests = server({
    consents: [],
    grant: (req) =>
      req.header['X-Identity-Claim']
        ? { status: 201, data: consent({ id: 12 }) }
        : { status: 403, data: errorBody('IDENTITY_CLAIM_REQUIRED', '请先完成人脸核验') },
  });
  const page = await openConsents();
  await fillForm(page);

  await tap(page, '.grant__submit');

  expect(wx.showModal).toHaveBeenCalledTimes(2); // the grant, then the verification
  expect(wx.showModal.mock.calls[1][0]).toMatchObject({ title: '需要身份核验', confirmText: '去核验' });
  expect(wx.showModal.mock.calls[1][0].content).toContain('授权机构查询前需要进行人脸核验');
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/camera/index' });
  expect(wx.showToast).not.toHaveBeenCalledWith(expect.objectContaining({ title: '已授权' }));

  store.set('kyc.claim', CLAIM);
  page.instance.onShow();
  await settle();

  const posts = requests.filter((req) => req.method === 'POST');
  expect(posts).toHaveLength(2);
  expect(posts[1].data).toEqual({ institution_id: 3, purpose: '办理抵押贷款', days: 30 });
  expect(posts[1].header['X-Identity-Claim']).toBe('claim-1');
  expect(wx.showModal).toHaveBeenCalledTimes(2);
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已授权' }));
});

test('revoking asks first, then DELETEs that consent and shows it revoked', async () => {
  loggedIn();
  confirmModal(true);
  const requests = server();
  const page = await openConsents();

  await tap(page, '.consent__revoke');

  expect(wx.showModal.mock.calls[0][0]).toMatchObject({ title: '撤销授权', confirmText: '撤销', confirmColor: '#c62828' });
  expect(wx.showModal.mock.calls[0][0].content).toContain('中国工商银行珠海分行将不能再查询本证书的内容');
  const deletion = requests.find((req) => req.method === 'DELETE');
  expect(deletion.path).toBe(`${BASE}/consents/11`);
  expect(deletion.data).toBeUndefined();
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已撤销' }));
  expect(page.querySelectorAll('.consent__status').map(textOf)).toEqual(['已撤销', '已撤销']);
  expect(page.querySelectorAll('.consent__revoke')).toHaveLength(0);
});

test('a revocation not confirmed sends nothing', async () => {
  loggedIn();
  confirmModal(false);
  const requests = server();
  const page = await openConsents();

  await tap(page, '.consent__revoke');

  expect(requests.filter((req) => req.method === 'DELETE')).toHaveLength(0);
  expect(page.querySelectorAll('.consent__revoke')).toHaveLength(1);
});

test('a refused revocation shows the server’s message', async () => {
  loggedIn();
  confirmModal(true);
  server({ revoke: () => ({ status: 404, data: errorBody('NOT_FOUND', '未找到该授权') }) });
  const page = await openConsents();

  await tap(page, '.consent__revoke');

  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '未找到该授权' }));
  expect(page.instance.data.revokingId).toBeNull();
});
