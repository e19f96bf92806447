const { getApiBaseUrl } = require('../config');

function runningAs(envVersion) {
  jest.spyOn(wx, 'getAccountInfoSync').mockReturnValue({ miniProgram: { appId: 'wx1', envVersion, version: '' } });
}

test.each([
  ['develop', 'http://127.0.0.1:8000/api'],
  ['trial', 'https://trial.example.gov.cn/api'],
  ['release', 'https://bdc.example.gov.cn/api'],
])('the %s version talks to %s', (envVersion, url) => {
  runningAs(envVersion);
  expect(getApiBaseUrl()).toBe(url);
});

test('an unknown version falls back to the production server', () => {
  runningAs('something-new');
  expect(getApiBaseUrl()).toBe('https://bdc.example.gov.cn/api');
});
