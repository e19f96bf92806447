// API base URL per mini-program version. The version is reported by WeChat at
// run time, so one build serves DevTools, the trial version and the release.
const API_BASE_URLS = {
  develop: 'http://127.0.0.1:8000/api',
  trial: 'https://trial.example.gov.cn/api',
  release: 'https://bdc.example.gov.cn/api',
};

function getEnvVersion() {
  try {
    const { envVersion } = wx.getAccountInfoSync().miniProgram;
    if (API_BASE_URLS[envVersion]) return envVersion;
  } catch (err) {
    // Very old base libraries lack getAccountInfoSync; they can only be real users.
  }
  return 'release';
}

function getApiBaseUrl() {
  return API_BASE_URLS[getEnvVersion()];
}

module.exports = {
  API_BASE_URLS,
  getEnvVersion,
  getApiBaseUrl,
};
