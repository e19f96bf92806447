// The 422 case_incomplete answer of submit, as lines a citizen can act on:
// each names what is missing and, where the citizen can fix it, where to go
// (a step of the wizard, or the materials page).
const UNKNOWN = '未知项目';

function byCode(list, key = 'code') {
  const map = {};
  (list || []).forEach((entry) => {
    if (entry && entry[key] !== undefined) map[entry[key]] = entry;
  });
  return map;
}

// details (CASE_INCOMPLETE): {missing_sections: [code], roles: [{role, label, problem}],
// missing_materials: [{item, name, role, role_label}], unconfirmed: [{role, role_label, name_masked}]}.
// businessType: the entry of GET /business-types (section titles; names and
// labels missing from the details are looked up there).
function presentIncomplete(details, businessType) {
  const type = businessType || {};
  const sections = byCode(type.form_sections);
  const materials = byCode(type.materials);
  const roles = byCode(type.roles);
  const applicantsSection = (type.form_sections || []).find((section) => section.kind === 'applicants');
  const lines = [];
  const data = details || {};

  (data.missing_sections || []).forEach((code) => {
    const title = (sections[code] && sections[code].title) || code || UNKNOWN;
    lines.push({ key: `section-${code}`, text: `“${title}”尚未填写完整`, target: 'step', step: code, action: '去填写' });
  });
  (data.missing_materials || []).forEach((entry) => {
    const name = entry.name || (materials[entry.item] && materials[entry.item].name) || entry.item || UNKNOWN;
    const role = entry.role_label || (roles[entry.role] && roles[entry.role].label) || '';
    lines.push({
      key: `material-${entry.item}-${entry.role}`,
      text: `缺少材料：${name}${role ? `（${role}）` : ''}`,
      target: 'materials',
      step: '',
      action: '去上传',
    });
  });
  // One role may have several problems (too few applicants, their shares).
  (data.roles || []).forEach((entry, index) => {
    const label = entry.label || (roles[entry.role] && roles[entry.role].label) || entry.role || '';
    lines.push({
      key: `role-${entry.role}-${index}`,
      text: `${label}：${entry.problem || '申请人不符合要求'}`,
      target: applicantsSection ? 'step' : '',
      step: applicantsSection ? applicantsSection.code : '',
      action: applicantsSection ? '去修改' : '',
    });
  });
  (data.unconfirmed || []).forEach((entry, index) => {
    lines.push({
      key: `unconfirmed-${index}`,
      text: `${entry.role_label || (roles[entry.role] && roles[entry.role].label) || '申请人'} ${entry.name_masked || ''} 尚未确认申请内容`
        .replace(/\s+/g, ' ')
        .trim(),
      target: '',
      step: '',
      action: '',
    });
  });
  return lines;
}

module.exports = { presentIncomplete };
