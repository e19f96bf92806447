// WeChat provider: the server asks WeChat for a verify_id, WeChat runs the face
// check in its own screen, and the server then asks WeChat for the verdict.
const { ApiError, errorMessageOf } = require('../../../services/http');
const { createWechatVerifyId, confirmWechatVerify } = require('../../../services/kyc');
const { LOCKED_CODE, passedResultUrl, failedResultUrl } = require('../../../utils/kyc');

// wx.requestFacialVerify errCodes (the verify_ret values of queryVerifyInfo).
const CANCEL_CODES = [90002, 90003, 90004, 90005, 90006];
const PERMISSION_CODES = [90008, 90009, 90010];
const UNSUPPORTED_CODES = [90001, 90109];

// wx.requestFacialVerify (base library 3.8.12+) has no promise form.
function requestFacialVerify(verifyId) {
  return new Promise((resolve, reject) => {
    wx.requestFacialVerify({ verifyId, success: resolve, fail: reject });
  });
}

function facialVerifyError(res) {
  const errCode = Number(res && res.errCode);
  const errMsg = String((res && res.errMsg) || '');
  let message = '人脸核身未完成，请重试';
  if (CANCEL_CODES.includes(errCode) || /cancel/i.test(errMsg)) message = '您已取消人脸核身';
  else if (PERMISSION_CODES.includes(errCode)) message = '微信没有使用摄像头的权限，请在手机设置中允许微信使用摄像头后重试';
  else if (UNSUPPORTED_CODES.includes(errCode)) message = '当前设备不支持人脸核身，请预约到窗口核验';
  return new ApiError({ code: 'WECHAT_FACIAL_VERIFY_FAILED', message, details: { errCode, errMsg } });
}

Page({
  data: {
    phase: 'ready', // ready, verifying, confirming, failed, unsupported
    message: '',
    attemptsLeft: -1,
  },

  onLoad() {
    if (typeof wx.requestFacialVerify !== 'function') {
      this.setData({ phase: 'unsupported', message: '当前微信版本不支持人脸核身，请升级微信后重试，或预约到窗口核验' });
    }
  },

  async onStart() {
    if (['verifying', 'confirming', 'unsupported'].includes(this.data.phase)) return;
    this.setData({ phase: 'verifying', message: '', attemptsLeft: -1 });
    try {
      const { verify_id: verifyId } = await createWechatVerifyId();
      try {
        await requestFacialVerify(verifyId);
      } catch (res) {
        throw facialVerifyError(res);
      }
      this.setData({ phase: 'confirming' });
      const result = await confirmWechatVerify(verifyId);
      if (!result || !result.passed) throw new ApiError({ code: 'KYC_WECHAT_FAILED', message: '人脸核身未通过，请重试' });
      wx.redirectTo({ url: passedResultUrl() });
    } catch (err) {
      this.fail(err);
    }
  },

  onRetry() {
    return this.onStart();
  },

  fail(err) {
    const details = (err && err.details) || {};
    if (err && err.code === LOCKED_CODE) {
      wx.redirectTo({
        url: failedResultUrl({ code: err.code, message: err.message, lockedUntil: details.locked_until }),
      });
      return;
    }
    const attemptsLeft = typeof details.attempts_left === 'number' ? details.attempts_left : -1;
    if (attemptsLeft === 0) {
      wx.redirectTo({ url: failedResultUrl({ code: err.code, message: err.message }) });
      return;
    }
    this.setData({ phase: 'failed', message: errorMessageOf(err), attemptsLeft });
  },
});
