// Promise wrapper for callback-style wx APIs. Not every API (wx.login among them)
// returns a promise on every base library version, so we wrap them ourselves.
function callWx(apiName, options = {}) {
  return new Promise((resolve, reject) => {
    wx[apiName](Object.assign({}, options, { success: resolve, fail: reject }));
  });
}

module.exports = { callWx };
