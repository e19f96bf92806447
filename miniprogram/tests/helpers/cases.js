// Answers of the combined-application API (一窗受理) shared by the page tests.
const CASE_NUMBER = 'ZH2026112300001';

// Yes/no questions are choices without a default (an untouched switch would answer "no").
const YES_NO = [
  { value: 'yes', label: '是' },
  { value: 'no', label: '否' },
];

const TRANSFER = {
  code: 'transfer',
  name: '转移登记（二手房买卖）',
  step_order: 'parallel',
  certificate_kind: 'ownership',
  time_limit_working_days: 5,
  roles: [
    { code: 'seller', label: '出卖人', min: 1, max: 5, kinds: ['natural', 'legal'] },
    { code: 'buyer', label: '买受人', min: 1, max: 5, kinds: ['natural'] },
  ],
  materials: [
    { code: 'identity_document', name: '身份证明', roles: ['seller', 'buyer'], required: true },
    { code: 'sale_contract', name: '存量房买卖合同', roles: ['buyer'], required: true },
    { code: 'marriage_proof', name: '婚姻状况证明', roles: ['seller'], required: false },
  ],
  departments: [
    { code: 'registration', label: '不动产登记中心' },
    { code: 'tax', label: '税务局' },
  ],
  form_sections: [
    {
      code: 'unit',
      title: '不动产单元',
      kind: 'fields',
      fields: [
        { name: 'unit_number', label: '不动产单元号', type: 'string', required: true, choices: null, max_length: 28, help: '28位，见不动产权证书' },
        { name: 'area_m2', label: '建筑面积（平方米）', type: 'decimal', required: true, choices: null, max_length: null, help: null },
        {
          name: 'use',
          label: '用途',
          type: 'choice',
          required: true,
          choices: [
            { value: '住宅', label: '住宅' },
            { value: '商业', label: '商业' },
          ],
          max_length: null,
          help: null,
        },
        { name: 'land_term_end', label: '土地使用期限（止）', type: 'date', required: false, choices: null, max_length: null, help: null },
      ],
    },
    { code: 'parties', title: '申请人', kind: 'applicants', fields: [] },
    {
      code: 'transaction',
      title: '交易信息',
      kind: 'fields',
      fields: [
        { name: 'contract_number', label: '合同编号', type: 'string', required: true, choices: null, max_length: 50, help: null },
        { name: 'price_fen', label: '成交价格（元）', type: 'money', required: true, choices: null, max_length: null, help: null },
        { name: 'floors', label: '所在楼层', type: 'integer', required: false, choices: null, max_length: null, help: null },
        { name: 'note', label: '备注', type: 'text', required: false, choices: null, max_length: 500, help: null },
      ],
    },
    {
      code: 'tax_declaration',
      title: '计税申报',
      kind: 'fields',
      fields: [
        { name: 'buyer_first_home', label: '买受人家庭是否首套住房', type: 'choice', required: true, choices: YES_NO, max_length: null, help: '影响契税税率，由税务部门核定' },
        { name: 'seller_only_home_over_5_years', label: '出卖人家庭唯一住房且满五年', type: 'choice', required: true, choices: YES_NO, max_length: null, help: null },
      ],
    },
  ],
};

const OTHER_TYPE = {
  code: 'mortgage',
  name: '抵押权首次登记',
  time_limit_working_days: 3,
  roles: [],
  materials: [],
  departments: [],
  form_sections: [],
};

// `notice` is the server's explanation of what may not change (empty: all may).
function formView({ editable = true, editableSections, sections = {}, notice = '' } = {}) {
  const codes = TRANSFER.form_sections.map((section) => section.code);
  return {
    editable,
    editable_sections: editableSections || (editable ? codes : []),
    notice,
    sections: TRANSFER.form_sections.map((section) => ({
      code: section.code,
      title: section.title,
      kind: section.kind,
      complete: false,
      data: {},
      problems: ['尚未填写'],
      ...(sections[section.code] || {}),
    })),
  };
}

function caseDetail(overrides = {}) {
  return {
    case_number: CASE_NUMBER,
    business_type: { code: 'transfer', name: '转移登记（二手房买卖）' },
    status: 'draft',
    status_label: '草稿',
    unit: null,
    created_at: '2026-11-20T01:00:00Z',
    updated_at: '2026-11-23T02:05:00Z',
    applicants: [],
    timeline: [],
    allowed_actions: ['edit', 'confirm', 'submit', 'withdraw'],
    returned_items: [],
    checks: [],
    review: [],
    due_at: null,
    clock_label: null,
    materials_editable: true,
    confirmation_needed: false,
    application_pdf_url: null,
    ...overrides,
  };
}

module.exports = { CASE_NUMBER, TRANSFER, OTHER_TYPE, formView, caseDetail };
