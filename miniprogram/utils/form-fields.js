// The wizard's fields, drawn from the server's field definitions
// (GET /business-types: form_sections[].fields). The server validates every
// value; this module only converts between what a field shows and what the
// API exchanges (money in fen, integers as numbers, empty as null).
const { yuanToFen, fenToYuan } = require('./money');

const MONEY_FORMAT_ERROR = '请输入正确的金额（元），最多两位小数';
const EMPTY = '—';

function isEmpty(value) {
  return value === undefined || value === null || value === '';
}

function choiceList(definition) {
  return Array.isArray(definition.choices) ? definition.choices : [];
}

function textOf(definition, value) {
  if (isEmpty(value)) return '';
  if (definition.type === 'money') return fenToYuan(value);
  return String(value);
}

function displayOf(definition, value) {
  if (definition.type === 'boolean') return isEmpty(value) ? EMPTY : value ? '是' : '否';
  if (isEmpty(value)) return EMPTY;
  if (definition.type === 'money') return `${fenToYuan(value)} 元`;
  const choice = choiceList(definition).find((option) => option.value === value);
  if (choice) return choice.label;
  return String(value);
}

// One field as the page draws it. `value` is the saved value from the form view.
function presentField(definition, value, error = '') {
  const choices = choiceList(definition);
  const choiceIndex = choices.findIndex((option) => option.value === value);
  return {
    name: definition.name,
    label: definition.label,
    type: definition.type,
    required: Boolean(definition.required),
    help: definition.help || '',
    // WeChat's <input> and <textarea> cut at 140 characters unless told otherwise.
    maxLength: Number(definition.max_length) > 0 ? Number(definition.max_length) : -1,
    text: textOf(definition, value),
    checked: value === true,
    choiceLabels: choices.map((option) => option.label),
    choiceIndex,
    choiceLabel: choiceIndex >= 0 ? choices[choiceIndex].label : '',
    display: displayOf(definition, value),
    error,
  };
}

// What one field sends, or {error} when a money amount cannot be converted exactly.
function valueOf(definition, field) {
  const text = String(field.text || '').trim();
  switch (definition.type) {
    case 'boolean':
      return { value: Boolean(field.checked) };
    case 'choice': {
      // Nothing picked yet (index -1) is sent as null: a choice has no default,
      // so a required one is refused by the server (此项为必填项).
      const index = Number(field.choiceIndex);
      const choice = Number.isInteger(index) && index >= 0 ? choiceList(definition)[index] : undefined;
      return { value: choice ? choice.value : null };
    }
    case 'money': {
      if (!text) return { value: null };
      const fen = yuanToFen(text);
      return fen === null ? { error: MONEY_FORMAT_ERROR } : { value: fen };
    }
    case 'integer': {
      if (!text) return { value: null };
      // Not an integer: sent as typed, for the server to explain.
      const number = /^-?\d+$/.test(text) ? Number(text) : NaN;
      return { value: Number.isSafeInteger(number) ? number : text };
    }
    default:
      return { value: text || null };
  }
}

// The section's body for PUT /form/<section>, and the fields that could not
// be converted ({name: message}); nothing is sent while there are any.
function sectionPayload(definitions, fields) {
  const values = {};
  const errors = {};
  definitions.forEach((definition, index) => {
    const result = valueOf(definition, fields[index] || {});
    if (result.error) errors[definition.name] = result.error;
    else values[definition.name] = result.value;
  });
  return { values, errors };
}

module.exports = { presentField, sectionPayload, displayOf, MONEY_FORMAT_ERROR };
