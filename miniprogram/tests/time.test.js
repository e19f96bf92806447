const { formatDateTime } = require('../utils/time');

test('the tests run in a time zone other than Beijing, so the cases below prove something', () => {
  expect(new Date('2026-01-01T00:00:00Z').getTimezoneOffset()).not.toBe(-480);
});

test.each([
  ['2026-11-23T02:05:00Z', '2026-11-23 10:05'],
  ['2026-11-23T16:30:00Z', '2026-11-24 00:30'], // crosses midnight in Beijing
  ['2026-12-31T17:00:00+00:00', '2027-01-01 01:00'],
  ['2026-11-23T02:05:09.123456+00:00', '2026-11-23 10:05'], // Python microseconds
  ['2026-11-23T02:05:00', '2026-11-23 10:05'], // no designator: UTC by contract
  ['2026-11-23T10:05:00+08:00', '2026-11-23 10:05'],
  ['2026-07-01T12:00:00Z', '2026-07-01 20:00'], // summer: no daylight saving in China
])('%s is shown as %s in Beijing time', (iso, shown) => {
  expect(formatDateTime(iso)).toBe(shown);
});

test.each([null, undefined, '', 'not a date'])('%p is shown as an empty string', (value) => {
  expect(formatDateTime(value)).toBe('');
});
