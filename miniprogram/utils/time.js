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

// "2026-11-23T02:05:00Z" -> "2026-11-23 10:05" (Asia/Shanghai, UTC+8, no DST).
function formatDateTime(value) {
  const date = value instanceof Date ? value : parseIsoDateTime(value);
  if (!date || Number.isNaN(date.getTime())) return '';
  const shanghai = new Date(date.getTime() + SHANGHAI_OFFSET_MINUTES * 60 * 1000);
  return (
    `${shanghai.getUTCFullYear()}-${pad(shanghai.getUTCMonth() + 1)}-${pad(shanghai.getUTCDate())} ` +
    `${pad(shanghai.getUTCHours())}:${pad(shanghai.getUTCMinutes())}`
  );
}

module.exports = {
  parseIsoDateTime,
  formatDateTime,
};
