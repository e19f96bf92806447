const { loadPage, renderPage, textOf } = require('./helpers/page');
const { loggedIn, settle } = require('./helpers/fake-wx');

// 02:05 UTC is 10:05 in Beijing and 18:05 the day before on the test machine.
const NOW = Date.parse('2026-11-23T02:05:00Z');
let pageId;

beforeAll(() => {
  pageId = loadPage('packageKyc/pages/result/index');
});

beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
  jest.spyOn(wx, 'redirectTo').mockImplementation(() => {});
  jest.spyOn(wx, 'navigateBack').mockImplementation(() => {});
});

function open(query) {
  const page = renderPage(pageId);
  page.instance.onLoad(query);
  return page;
}

function text(page, selector) {
  const node = page.querySelector(selector);
  return node ? textOf(node) : '';
}

test('a pass shows until when the verification holds, in Beijing time', () => {
  const storage = loggedIn();
  storage.set('kyc.claim', { token: 'claim-xyz', expiresAt: NOW + 30 * 60 * 1000 });

  const page = open({ outcome: 'passed' });

  expect(text(page, '.result__title')).toBe('身份核验通过');
  expect(text(page, '.result__valid')).toBe('有效期至 10:35（北京时间）');
  expect(page.querySelector('.result__failed')).toBeUndefined();
});

test('完成 returns to where the journey began', async () => {
  const storage = loggedIn();
  storage.set('kyc.claim', { token: 'claim-xyz', expiresAt: NOW + 60000 });
  const page = open({ outcome: 'passed' });

  page.querySelector('.result__done').dispatchEvent('tap');
  await settle();

  expect(wx.navigateBack).toHaveBeenCalledWith(expect.objectContaining({ delta: 1 }));
});

test('a lock shows the reason, until when in Beijing time, and the counter as the next step', async () => {
  loggedIn();
  const page = open({
    outcome: 'failed',
    code: 'KYC_LOCKED',
    message: encodeURIComponent('今日人脸核验失败次数过多，请明日再试'),
    locked_until: encodeURIComponent('2026-11-23T16:00:00Z'),
  });

  expect(text(page, '.result__title')).toBe('身份核验未通过');
  expect(text(page, '.result__reason')).toBe('今日人脸核验失败次数过多，请明日再试');
  expect(text(page, '.result__locked')).toBe('人脸核验已暂停至 2026-11-24 00:00（北京时间）');
  expect(text(page, '.result__steps')).toContain('预约到不动产登记窗口');
  expect(page.querySelector('.result__valid')).toBeUndefined();

  page.querySelector('.result__appointment').dispatchEvent('tap');
  await settle();
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/appointment/index' });
});

test('a lock opened without a message still explains itself', () => {
  loggedIn();
  const page = open({ outcome: 'failed', code: 'KYC_LOCKED', locked_until: '2026-11-23T16:00:00Z' });

  expect(text(page, '.result__reason')).toBe('今日人脸核验失败次数过多，已暂停人脸核验');
  expect(text(page, '.result__locked')).toContain('2026-11-24 00:00');
});

test('the last refusal of the day shows its reason and suggests tomorrow or the counter', () => {
  loggedIn();
  const page = open({ outcome: 'failed', code: 'KYC_NO_FACE', message: '未检测到人脸' });

  expect(text(page, '.result__reason')).toBe('未检测到人脸');
  expect(page.querySelector('.result__locked')).toBeUndefined();
  expect(text(page, '.result__steps')).toContain('明天再次进行人脸核验');
});
