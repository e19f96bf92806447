// Times from the API are ISO-8601 in UTC; citizens read them in Beijing time.
// Parsed by hand: the device time zone must not matter, and iOS rejects some
// ISO variants (microseconds, missing "Z") that Android accepts.
const SHANGHAI_OFFSET_MINUTES = 8 * 60;
const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function pad(value) {
  return String(value).padStart(2, '0');
}

function offsetMinutes(designator) {
  if (!designator || designator.toUpperCase() === 'Z') return 0; // no designator: UTC by contract
  const sign = designator[0] === '-' ? -1 : 1;
  const digits = designator.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
}

function parseIsoDateTime(text) {
  const match = ISO_PATTERN.exec(String(text || '').trim());
  if (!match) return null;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone] = match;
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const utcMillis = Date.UTC(+year, +month - 1, +day, +hour, +minute, +second, millis);
  return new Date(utcMillis - offsetMinutes(zone) * 60 * 1000);
}

// A Date, epoch milliseconds or an ISO string -> the same instant as a Date
// whose UTC fields read as Beijing wall-clock time; null when invalid.
function toShanghaiWallClock(value) {
  let date = null;
  if (value instanceof Date) date = value;
  else if (typeof value === 'number') date = new Date(value);
  else date = parseIsoDateTime(value);
  if (!date || Number.isNaN(date.getTime())) return null;
  return new Date(date.getTime() + SHANGHAI_OFFSET_MINUTES * 60 * 1000);
}

function dateOf(shanghai) {
  return `${shanghai.getUTCFullYear()}-${pad(shanghai.getUTCMonth() + 1)}-${pad(shanghai.getUTCDate())}`;
}

// "2026-11-23T02:05:00Z" -> "2026-11-23 10:05" (Asia/Shanghai, UTC+8, no DST).
function formatDateTime(value) {
  const shanghai = toShanghaiWallClock(value);
  if (!shanghai) return '';
  return `${dateOf(shanghai)} ${pad(shanghai.getUTCHours())}:${pad(shanghai.getUTCMinutes())}`;
}

// "2026-11-23T02:05:00Z" -> "10:05" in Beijing time.
function formatTime(value) {
  const shanghai = toShanghaiWallClock(value);
  if (!shanghai) return '';
  return `${pad(shanghai.getUTCHours())}:${pad(shanghai.getUTCMinutes())}`;
}

// The Beijing calendar date `days` days after `now`, as "YYYY-MM-DD" (what a
// date picker and the API exchange). Counters open by Beijing dates, whatever
// the phone's time zone.
function shanghaiDate(days = 0, now = Date.now()) {
  const shanghai = toShanghaiWallClock(now);
  shanghai.setUTCDate(shanghai.getUTCDate() + days);
  return dateOf(shanghai);
}

module.exports = {
  parseIsoDateTime,
  formatDateTime,
  formatTime,
  shanghaiDate,
};
