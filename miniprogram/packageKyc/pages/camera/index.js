// Local provider: the server sends a challenge of actions (blink, turn left, ...)
// valid 60 seconds; this page prompts each action, takes a short burst of
// photos with the front camera and uploads them as base64 JPEG frames.
const { ApiError, errorMessageOf } = require('../../../services/http');
const { createKycChallenge, verifyKycChallenge } = require('../../../services/kyc');
const { callWx } = require('../../../utils/wx-async');
const { LOCKED_CODE, planFrames, passedResultUrl, failedResultUrl } = require('../../../utils/kyc');

const FRAME_INTERVAL_MS = 400;
// Time to read a prompt and begin the action before the first photo of it.
const ACTION_LEAD_IN_MS = 1200;
const COUNTDOWN_TICK_MS = 1000;

// What to do differently next time, by refusal code.
const HINTS = {
  KYC_NO_FACE: '请将面部完整置于取景框内，并保持光线充足。',
  KYC_MULTIPLE_FACES: '请确保画面中只有您本人。',
  KYC_FACE_MISMATCH: '请本人进行核验，并摘下帽子、口罩和墨镜。',
  KYC_ACTION_NOT_DETECTED: '请在提示出现后立即完成动作，动作幅度可以稍大一些。',
  KYC_FRAME_REPLAYED: '请重新拍摄，每次核验都需要实时拍摄的画面。',
  KYC_CHALLENGE_EXPIRED: '请在倒计时结束前完成全部动作。',
};

// Page states: checking (camera permission), denied, ready, starting (asking
// for a challenge), capturing, uploading, failed (message, maybe retry).
const CAMERA_PHASES = ['ready', 'starting', 'capturing', 'uploading', 'failed'];
const ABORTED = { aborted: true };

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function takePhoto(cameraContext) {
  return new Promise((resolve, reject) => {
    cameraContext.takePhoto({
      quality: 'normal',
      success: (res) => resolve(res.tempImagePath),
      fail: reject,
    });
  });
}

function readBase64(filePath) {
  return new Promise((resolve, reject) => {
    wx.getFileSystemManager().readFile({
      filePath,
      encoding: 'base64',
      success: (res) => resolve(res.data),
      fail: reject,
    });
  });
}

Page({
  data: {
    phase: 'checking',
    cameraOn: false,
    prompt: '',
    step: 0,
    stepCount: 0,
    secondsLeft: 0,
    framesTaken: 0,
    framesTotal: 0,
    progressPercent: 0,
    message: '',
    hint: '',
    attemptsLeft: -1,
  },

  onLoad() {
    this.attemptId = 0;
    this.countdownTimer = null;
    return this.checkPermission();
  },

  // Back from the phone's own settings: the camera may have been allowed there.
  async onShow() {
    if (this.data.phase !== 'denied') return;
    try {
      const { authSetting } = await callWx('getSetting');
      if (authSetting && authSetting['scope.camera']) this.setPhase('ready');
    } catch (err) {
      // Nothing known: the guidance stays on screen.
    }
  },

  onHide() {
    // The camera stops when the app leaves the screen: the burst is spoilt.
    if (['starting', 'capturing'].includes(this.data.phase)) this.interrupt();
  },

  onUnload() {
    this.attemptId += 1;
    this.stopCountdown();
  },

  setPhase(phase, extra = {}) {
    this.setData(Object.assign({ phase, cameraOn: CAMERA_PHASES.includes(phase) }, extra));
  },

  // ---- camera permission ---------------------------------------------------

  async checkPermission() {
    try {
      await callWx('authorize', { scope: 'scope.camera' });
      this.setPhase('ready');
    } catch (err) {
      this.setPhase('denied');
    }
  },

  // <camera> reports a refused permission (or a camera it cannot open) here.
  onCameraError() {
    this.attemptId += 1;
    this.stopCountdown();
    this.setPhase('denied');
  },

  onCameraStop() {
    if (['starting', 'capturing'].includes(this.data.phase)) this.interrupt();
  },

  // Must run from a tap: WeChat opens its settings only on a user gesture.
  async onOpenSetting() {
    try {
      const { authSetting } = await callWx('openSetting');
      if (authSetting && authSetting['scope.camera']) this.setPhase('ready');
    } catch (err) {
      // Settings closed without an answer: the guidance stays on screen.
    }
  },

  // ---- one attempt ---------------------------------------------------------

  isCurrent(attemptId) {
    return attemptId === this.attemptId;
  },

  async onStart() {
    if (['starting', 'capturing', 'uploading'].includes(this.data.phase)) return;
    this.attemptId += 1;
    const attemptId = this.attemptId;
    this.setPhase('starting', { message: '', hint: '', attemptsLeft: -1, framesTaken: 0, progressPercent: 0 });

    let challenge;
    let frames;
    try {
      challenge = await createKycChallenge();
      if (!this.isCurrent(attemptId)) return;
      this.startCountdown(challenge.expires_in, attemptId);
      frames = await this.capture(challenge, attemptId);
    } catch (err) {
      if (err !== ABORTED && this.isCurrent(attemptId)) this.fail(err);
      return;
    }

    this.stopCountdown();
    this.setPhase('uploading', { prompt: '' });
    try {
      const result = await verifyKycChallenge(challenge.nonce, frames);
      if (!this.isCurrent(attemptId)) return;
      if (result && result.passed) wx.redirectTo({ url: passedResultUrl() });
      else this.fail(new ApiError({ code: 'KYC_FAILED', message: '人脸核验未通过，请重试' }));
    } catch (err) {
      if (this.isCurrent(attemptId)) this.fail(err);
    }
  },

  onRetry() {
    return this.onStart();
  },

  async capture(challenge, attemptId) {
    const actions = challenge.actions || [];
    const prompts = challenge.prompts || [];
    const plan = planFrames(actions.length, challenge.frames_min, challenge.frames_max);
    const framesTotal = plan.reduce((sum, n) => sum + n, 0);
    const cameraContext = wx.createCameraContext();
    const frames = [];
    const ensureCurrent = () => {
      if (!this.isCurrent(attemptId)) throw ABORTED;
    };

    this.setPhase('capturing', { stepCount: plan.length, framesTotal, framesTaken: 0, progressPercent: 0 });
    for (let step = 0; step < plan.length; step += 1) {
      this.setData({ step: step + 1, prompt: prompts[step] || actions[step] || '' });
      await sleep(ACTION_LEAD_IN_MS);
      for (let shot = 0; shot < plan[step]; shot += 1) {
        if (shot > 0) await sleep(FRAME_INTERVAL_MS);
        ensureCurrent();
        let frame;
        try {
          frame = await readBase64(await takePhoto(cameraContext));
        } catch (err) {
          ensureCurrent();
          throw new ApiError({ code: 'CAMERA_FAILED', message: '拍照失败，请确认摄像头未被遮挡后重试' });
        }
        ensureCurrent();
        frames.push(frame);
        this.setData({
          framesTaken: frames.length,
          progressPercent: Math.round((frames.length / framesTotal) * 100),
        });
      }
    }
    return frames;
  },

  // ---- the 60 seconds ------------------------------------------------------

  startCountdown(expiresIn, attemptId) {
    this.stopCountdown();
    const seconds = Number(expiresIn) || 60;
    const deadline = Date.now() + seconds * 1000;
    this.setData({ secondsLeft: seconds });
    this.countdownTimer = setInterval(() => {
      const secondsLeft = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      this.setData({ secondsLeft });
      if (secondsLeft === 0 && this.isCurrent(attemptId)) this.expire(seconds);
    }, COUNTDOWN_TICK_MS);
  },

  stopCountdown() {
    if (this.countdownTimer) clearInterval(this.countdownTimer);
    this.countdownTimer = null;
  },

  expire(seconds) {
    this.attemptId += 1;
    this.stopCountdown();
    this.setPhase('failed', {
      prompt: '',
      message: `核验已超时，请在 ${seconds} 秒内完成全部动作`,
      hint: '点击“重试”将重新开始。',
      attemptsLeft: -1,
    });
  },

  interrupt() {
    this.attemptId += 1;
    this.stopCountdown();
    this.setPhase('failed', { prompt: '', message: '核验已中断，请重试', hint: '', attemptsLeft: -1 });
  },

  // ---- refusals --------------------------------------------------------------

  fail(err) {
    this.stopCountdown();
    const details = (err && err.details) || {};
    if (err && err.code === LOCKED_CODE) {
      wx.redirectTo({
        url: failedResultUrl({ code: err.code, message: err.message, lockedUntil: details.locked_until }),
      });
      return;
    }
    const attemptsLeft = typeof details.attempts_left === 'number' ? details.attempts_left : -1;
    if (attemptsLeft === 0) {
      // Nothing to retry today: the result page offers the counter instead.
      wx.redirectTo({ url: failedResultUrl({ code: err.code, message: err.message }) });
      return;
    }
    this.setPhase('failed', {
      prompt: '',
      message: errorMessageOf(err),
      hint: (err && HINTS[err.code]) || '',
      attemptsLeft,
    });
  },
});
