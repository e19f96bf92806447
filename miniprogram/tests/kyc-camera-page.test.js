// The camera page runs on timers (a prompt's lead-in, the spacing of photos,
// the 60-second countdown), so these tests drive jest's fake clock.
const { loadPage, renderPage, textOf } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody } = require('./helpers/fake-wx');

const START = Date.parse('2026-11-23T02:00:00Z');

function challenge(nonce = 'nonce-1') {
  return {
    nonce,
    actions: ['blink', 'turn_left'],
    prompts: ['请缓慢眨眼', '请向左转头'],
    expires_in: 60,
    frames_min: 3,
    frames_max: 6,
  };
}

const PASSED = { passed: true, claim: 'claim-xyz', claim_expires_in: 1800 };

// `verify(req, n)` answers the n-th verification (1-based); challenges get
// fresh nonces. Every request is recorded.
function server({ verify = () => ({ data: PASSED }), challengeAnswer } = {}) {
  let challenges = 0;
  let verifications = 0;
  return fakeServer((req) => {
    if (req.path === '/kyc/challenges') {
      challenges += 1;
      return challengeAnswer ? challengeAnswer(challenges) : { status: 201, data: challenge(`nonce-${challenges}`) };
    }
    verifications += 1;
    return verify(req, verifications);
  });
}

function fakeCamera({ hang = false } = {}) {
  const takePhoto = jest.fn((options) => {
    if (hang) return;
    options.success({ tempImagePath: `wxfile://tmp/photo-${takePhoto.mock.calls.length}.jpg` });
  });
  const readFile = jest.fn((options) => options.success({ data: `base64:${options.filePath}` }));
  jest.spyOn(wx, 'createCameraContext').mockReturnValue({ takePhoto });
  jest.spyOn(wx, 'getFileSystemManager').mockReturnValue({ readFile });
  return { takePhoto, readFile };
}

function cameraPermission(granted) {
  jest.spyOn(wx, 'authorize').mockImplementation((options) =>
    granted ? options.success({ errMsg: 'authorize:ok' }) : options.fail({ errMsg: 'authorize:fail auth deny' }),
  );
}

async function flush() {
  for (let i = 0; i < 10; i += 1) await jest.advanceTimersByTimeAsync(0);
}

async function advance(ms) {
  await jest.advanceTimersByTimeAsync(ms);
  await flush();
}

let pageId;

beforeAll(() => {
  pageId = loadPage('packageKyc/pages/camera/index');
});

beforeEach(() => {
  jest.useFakeTimers({ now: START });
  jest.spyOn(wx, 'redirectTo').mockImplementation(() => {});
});

afterEach(() => {
  jest.useRealTimers();
});

async function openCamera() {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await flush();
  return page;
}

async function tap(page, selector) {
  page.querySelector(selector).dispatchEvent('tap');
  await flush();
}

function text(page, selector) {
  const node = page.querySelector(selector);
  return node ? textOf(node) : '';
}

// Start, then let the whole burst and the upload run.
async function runAttempt(page, selector = '.face__start') {
  await tap(page, selector);
  await advance(10000);
}

test('the front camera is shown, flash off, with a start button', async () => {
  loggedIn();
  cameraPermission(true);
  fakeCamera();
  server();

  const page = await openCamera();

  const attrs = page.querySelector('.face__camera').toJSON().attrs;
  expect(attrs).toContainEqual({ name: 'devicePosition', value: 'front' });
  expect(attrs).toContainEqual({ name: 'flash', value: 'off' });
  expect(text(page, '.face__start')).toBe('开始核验');
  expect(wx.authorize).toHaveBeenCalledWith(expect.objectContaining({ scope: 'scope.camera' }));
});

test('a verification: challenge, prompts with the countdown, a burst per action, upload, claim, result', async () => {
  const storage = loggedIn();
  cameraPermission(true);
  const { takePhoto, readFile } = fakeCamera();
  const requests = server();
  const page = await openCamera();

  await tap(page, '.face__start');

  expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /kyc/challenges']);
  expect(text(page, '.face__prompt')).toBe('请缓慢眨眼');
  expect(text(page, '.face__step')).toBe('动作 1/2');
  expect(text(page, '.face__countdown')).toBe('剩余 60 秒');
  expect(takePhoto).not.toHaveBeenCalled(); // time to read the prompt first

  await advance(1200);
  expect(takePhoto).toHaveBeenCalledTimes(1);
  expect(text(page, '.face__frames')).toBe('已拍摄 1/4 张');
  await advance(400);
  expect(takePhoto).toHaveBeenCalledTimes(2);

  expect(text(page, '.face__prompt')).toBe('请向左转头');
  expect(text(page, '.face__step')).toBe('动作 2/2');
  expect(text(page, '.face__countdown')).toBe('剩余 59 秒');

  await advance(1200);
  expect(takePhoto).toHaveBeenCalledTimes(3);
  await advance(400);

  expect(takePhoto).toHaveBeenCalledTimes(4);
  takePhoto.mock.calls.forEach(([options]) => expect(options.quality).toBe('normal'));
  expect(readFile.mock.calls.map(([options]) => [options.filePath, options.encoding])).toEqual([
    ['wxfile://tmp/photo-1.jpg', 'base64'],
    ['wxfile://tmp/photo-2.jpg', 'base64'],
    ['wxfile://tmp/photo-3.jpg', 'base64'],
    ['wxfile://tmp/photo-4.jpg', 'base64'],
  ]);
  const verify = requests[1];
  expect(verify).toMatchObject({ method: 'POST', path: '/kyc/challenges/nonce-1/verify' });
  expect(verify.data.frames).toEqual([
    'base64:wxfile://tmp/photo-1.jpg',
    'base64:wxfile://tmp/photo-2.jpg',
    'base64:wxfile://tmp/photo-3.jpg',
    'base64:wxfile://tmp/photo-4.jpg',
  ]);
  expect(storage.get('kyc.claim')).toEqual({ token: 'claim-xyz', expiresAt: Date.now() + 1800 * 1000 });
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/result/index?outcome=passed' });
});

test('while the frames are checked the page says so', async () => {
  loggedIn();
  cameraPermission(true);
  fakeCamera();
  let answer;
  server({ verify: () => new Promise((resolve) => (answer = resolve)) });
  const page = await openCamera();

  await runAttempt(page);

  expect(text(page, '.face__uploading')).toBe('正在核验，请稍候…');
  expect(page.querySelector('.face__prompt')).toBeUndefined();
  answer({ data: PASSED });
  await flush();
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/result/index?outcome=passed' });
});

test('a refusal shows its Chinese message and attempts left; 重试 asks for a new challenge', async () => {
  const storage = loggedIn();
  cameraPermission(true);
  const { takePhoto } = fakeCamera();
  const requests = server({
    verify: (req, n) =>
      n === 1
        ? { status: 422, data: errorBody('KYC_FACE_MISMATCH', '人脸与身份证照片不一致', { attempts_left: 3 }) }
        : { data: PASSED },
  });
  const page = await openCamera();

  await runAttempt(page);

  expect(text(page, '.face__message')).toBe('人脸与身份证照片不一致');
  expect(text(page, '.face__hint')).toContain('请本人进行核验');
  expect(text(page, '.face__attempts')).toBe('今日还可尝试 3 次');
  expect(text(page, '.face__retry')).toBe('重试');
  expect(storage.has('kyc.claim')).toBe(false);
  expect(wx.redirectTo).not.toHaveBeenCalled();

  await runAttempt(page, '.face__retry');

  expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    'POST /kyc/challenges',
    'POST /kyc/challenges/nonce-1/verify',
    'POST /kyc/challenges',
    'POST /kyc/challenges/nonce-2/verify',
  ]);
  expect(takePhoto).toHaveBeenCalledTimes(8);
  expect(wx.redirectTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/result/index?outcome=passed' });
});

test.each([
  ['KYC_NO_FACE', '未检测到人脸'],
  ['KYC_MULTIPLE_FACES', '画面中有多张人脸'],
  ['KYC_ACTION_NOT_DETECTED', '未检测到指定动作'],
  ['KYC_FRAME_REPLAYED', '照片已被使用过'],
])('the refusal %s shows “%s” and a retry', async (code, message) => {
  loggedIn();
  cameraPermission(true);
  fakeCamera();
  server({ verify: () => ({ status: 422, data: errorBody(code, message, { attempts_left: 2 }) }) });
  const page = await openCamera();

  await runAttempt(page);

  expect(text(page, '.face__message')).toBe(message);
  expect(text(page, '.face__attempts')).toBe('今日还可尝试 2 次');
  expect(page.querySelector('.face__retry')).toBeDefined();
});

test('a challenge the server finds expired is explained and retried with a new one', async () => {
  loggedIn();
  cameraPermission(true);
  fakeCamera();
  const requests = server({
    verify: () => ({
      status: 422,
      data: errorBody('KYC_CHALLENGE_EXPIRED', '核验动作已过期，请重新开始', { attempts_left: 4 }),
    }),
  });
  const page = await openCamera();

  await runAttempt(page);

  expect(text(page, '.face__message')).toBe('核验动作已过期，请重新开始');
  expect(text(page, '.face__hint')).toBe('请在倒计时结束前完成全部动作。');
  await tap(page, '.face__retry');
  expect(requests.filter((r) => r.path === '/kyc/challenges')).toHaveLength(2);
  expect(text(page, '.face__prompt')).toBe('请缓慢眨眼');
});

test('when the 60 seconds run out during the burst, nothing is uploaded and 重试 starts over', async () => {
  loggedIn();
  cameraPermission(true);
  const { takePhoto } = fakeCamera({ hang: true }); // the camera never answers
  const requests = server();
  const page = await openCamera();

  await tap(page, '.face__start');
  await advance(30000);
  expect(text(page, '.face__countdown')).toBe('剩余 30 秒');
  await advance(30000);

  expect(text(page, '.face__message')).toBe('核验已超时，请在 60 秒内完成全部动作');
  expect(page.querySelector('.face__prompt')).toBeUndefined();
  expect(requests.filter((r) => r.path.endsWith('/verify'))).toHaveLength(0);
  expect(takePhoto).toHaveBeenCalledTimes(1);

  await tap(page, '.face__retry');
  expect(requests.filter((r) => r.path === '/kyc/challenges')).toHaveLength(2);
});

test('a refused camera permission explains why and leads to the settings', async () => {
  loggedIn();
  cameraPermission(false);
  fakeCamera();
  server();
  jest.spyOn(wx, 'openSetting').mockImplementation((options) =>
    options.success({ authSetting: { 'scope.camera': true }, errMsg: 'openSetting:ok' }),
  );
  const page = await openCamera();

  expect(text(page, '.face__denied')).toContain('需要使用摄像头');
  expect(text(page, '.face__settings')).toBe('去设置');
  expect(page.querySelector('.face__camera')).toBeUndefined();
  expect(page.querySelector('.face__start')).toBeUndefined();

  await tap(page, '.face__settings');

  expect(wx.openSetting).toHaveBeenCalled();
  expect(page.querySelector('.face__denied')).toBeUndefined();
  expect(page.querySelector('.face__camera')).toBeDefined();
  expect(text(page, '.face__start')).toBe('开始核验');
});

test('leaving the settings without allowing the camera keeps the guidance', async () => {
  loggedIn();
  cameraPermission(false);
  server();
  jest.spyOn(wx, 'openSetting').mockImplementation((options) =>
    options.success({ authSetting: { 'scope.camera': false }, errMsg: 'openSetting:ok' }),
  );
  const page = await openCamera();

  await tap(page, '.face__settings');

  expect(text(page, '.face__denied')).toContain('需要使用摄像头');
});

test('coming back after allowing the camera elsewhere brings the camera back', async () => {
  loggedIn();
  cameraPermission(false);
  fakeCamera();
  server();
  const page = await openCamera();
  jest.spyOn(wx, 'getSetting').mockImplementation((options) =>
    options.success({ authSetting: { 'scope.camera': true }, errMsg: 'getSetting:ok' }),
  );

  page.instance.onShow();
  await flush();

  expect(page.querySelector('.face__denied')).toBeUndefined();
  expect(text(page, '.face__start')).toBe('开始核验');
});

test('a camera error (permission refused in the system prompt) shows the same guidance', async () => {
  loggedIn();
  cameraPermission(true);
  fakeCamera();
  server();
  const page = await openCamera();

  page.querySelector('.face__camera').dispatchEvent('error', { detail: { errMsg: 'insertCamera:fail auth deny' } });
  await flush();

  expect(text(page, '.face__denied')).toContain('需要使用摄像头');
  expect(page.querySelector('.face__camera')).toBeUndefined();
});

test('a locked verification sends the citizen to the result page with the time and no retry', async () => {
  loggedIn();
  cameraPermission(true);
  const { takePhoto } = fakeCamera();
  server({
    challengeAnswer: () => ({
      status: 429,
      data: errorBody('KYC_LOCKED', '今日人脸核验失败次数过多，请明日再试', { locked_until: '2026-11-23T16:00:00Z' }),
    }),
  });
  const page = await openCamera();

  await tap(page, '.face__start');

  expect(takePhoto).not.toHaveBeenCalled();
  const { url } = wx.redirectTo.mock.calls[0][0];
  const [route, query] = url.split('?');
  expect(route).toBe('/packageKyc/pages/result/index');
  expect(Object.fromEntries(new URLSearchParams(query))).toEqual({
    outcome: 'failed',
    code: 'KYC_LOCKED',
    message: '今日人脸核验失败次数过多，请明日再试',
    locked_until: '2026-11-23T16:00:00Z',
  });
});

test('the last failed attempt of the day leads to the result page instead of a useless retry', async () => {
  loggedIn();
  cameraPermission(true);
  fakeCamera();
  server({ verify: () => ({ status: 422, data: errorBody('KYC_NO_FACE', '未检测到人脸', { attempts_left: 0 }) }) });
  const page = await openCamera();

  await runAttempt(page);

  const { url } = wx.redirectTo.mock.calls[0][0];
  expect(url.startsWith('/packageKyc/pages/result/index?outcome=failed&code=KYC_NO_FACE')).toBe(true);
  expect(page.querySelector('.face__retry')).toBeUndefined();
});

test('leaving the app during the burst interrupts the attempt', async () => {
  loggedIn();
  cameraPermission(true);
  const { takePhoto } = fakeCamera();
  const requests = server();
  const page = await openCamera();

  await tap(page, '.face__start');
  page.instance.onHide();
  await advance(10000);

  expect(takePhoto).not.toHaveBeenCalled();
  expect(requests.filter((r) => r.path.endsWith('/verify'))).toHaveLength(0);
  expect(text(page, '.face__message')).toBe('核验已中断，请重试');
});

test('a network failure during upload can be retried', async () => {
  loggedIn();
  cameraPermission(true);
  fakeCamera();
  const { NETWORK_FAILURE } = require('./helpers/fake-wx');
  server({ verify: () => NETWORK_FAILURE });
  const page = await openCamera();

  await runAttempt(page);

  expect(text(page, '.face__message')).toBe('网络连接失败，请检查网络后重试');
  expect(text(page, '.face__retry')).toBe('重试');
});
