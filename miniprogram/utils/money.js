// Money travels as integer fen (分); citizens read and type yuan (元) with at
// most two decimals. Both directions work on the digits as text, so no binary
// floating point can turn 1234.56 into 123455.99999.
const YUAN_PATTERN = /^(\d+)(?:\.(\d{1,2}))?$/;

// "1234.56" -> 123456, "12" -> 1200, "0.5" -> 50. Spaces and thousands
// separators typed or pasted by the citizen are ignored. Anything else
// ("1.234", "-1", "1e3", "") -> null: it cannot be converted exactly.
function yuanToFen(text) {
  const cleaned = String(text === undefined || text === null ? '' : text).replace(/[\s,，]/g, '');
  const match = YUAN_PATTERN.exec(cleaned);
  if (!match) return null;
  const digits = `${match[1]}${(match[2] || '').padEnd(2, '0')}`.replace(/^0+(?=\d)/, '');
  const fen = Number(digits);
  return Number.isSafeInteger(fen) ? fen : null;
}

// 123456 -> "1234.56", 50 -> "0.50", -5 -> "-0.05"; null, "" or a non-integer -> "".
function fenToYuan(fen) {
  if (fen === null || fen === undefined || fen === '') return '';
  const text = String(fen).trim();
  if (!/^-?\d+$/.test(text)) return '';
  const negative = text.startsWith('-');
  const digits = (negative ? text.slice(1) : text).replace(/^0+(?=\d)/, '').padStart(3, '0');
  const yuan = `${digits.slice(0, -2)}.${digits.slice(-2)}`;
  return negative && /[1-9]/.test(digits) ? `-${yuan}` : yuan;
}

module.exports = { yuanToFen, fenToYuan };
