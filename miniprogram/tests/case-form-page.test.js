const { loadPage, renderPage, textOf, wordsOf: words } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, settle } = require('./helpers/fake-wx');
const { CASE_NUMBER, TRANSFER, OTHER_TYPE, formView, caseDetail } = require('./helpers/cases');

const BASE = `/cases/${CASE_NUMBER}`;

// A fake server for one case: `routes` answers "METHOD /path" (or calls
// back with the request); business types, the case, its form and its
// materials have defaults.
function server(routes = {}, { detail = caseDetail(), form = formView() } = {}) {
  const defaults = {
    'GET /business-types': { data: [OTHER_TYPE, TRANSFER] },
    [`GET ${BASE}`]: { data: detail },
    [`GET ${BASE}/form`]: { data: form },
    [`GET ${BASE}/materials`]: { data: { case_number: CASE_NUMBER, editable: true, materials: [], checklist: [], missing: [{}, {}], complete: false } },
  };
  return fakeServer((req) => {
    const key = `${req.method} ${req.path}`;
    const answer = key in routes ? routes[key] : defaults[key];
    if (answer === undefined) throw new Error(`unexpected request ${key}`);
    return typeof answer === 'function' ? answer(req) : answer;
  });
}

function saved(sectionCode, data, form = formView()) {
  const sections = form.sections.map((section) =>
    section.code === sectionCode ? { ...section, complete: true, problems: [], data } : section,
  );
  return { data: { ...form, sections } };
}

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/case-form/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showModal').mockImplementation((options) => options.success({ confirm: true, cancel: false }));
  jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
  jest.spyOn(wx, 'redirectTo').mockImplementation(() => {});
  jest.spyOn(wx, 'pageScrollTo').mockImplementation(() => {});
});

async function openForm(query = {}) {
  const page = renderPage(pageId);
  page.instance.onLoad({ case_number: CASE_NUMBER, ...query });
  page.instance.onShow();
  await settle();
  return page;
}

function text(page, selector) {
  const node = page.querySelector(selector);
  return node ? textOf(node) : '';
}

function control(page, name, selector = '.field__input') {
  return page.querySelector(`.field--${name} ${selector}`);
}

function valueOf(page, name) {
  const attr = control(page, name).toJSON().attrs.find((a) => a.name === 'value');
  return attr && attr.value;
}

async function type(page, name, value) {
  control(page, name).dispatchEvent('input', { detail: { value } });
  await settle();
}

async function pick(page, name, value) {
  control(page, name, '.field__picker').dispatchEvent('change', { detail: { value } });
  await settle();
}

async function tap(page, selector) {
  page.querySelector(selector).dispatchEvent('tap');
  await settle();
}

function stepTitles(page) {
  return page.querySelectorAll('.steps__item').map(words);
}

function writes(requests) {
  return requests.filter((r) => r.method !== 'GET');
}

test('one step per form section in the business type’s order, then the summary', async () => {
  loggedIn();
  server({}, { form: saved('tax_declaration', { buyer_first_home: 'yes', seller_only_home_over_5_years: 'no' }).data });

  const page = await openForm();

  expect(stepTitles(page)).toEqual(['1 不动产单元', '2 申请人', '3 交易信息', '✓ 计税申报', '5 确认提交']);
  expect(text(page, '.wizard__step-title')).toBe('1. 不动产单元');
  expect(text(page, '.field--unit_number .field__label')).toBe('不动产单元号');
  expect(text(page, '.field--unit_number .field__help')).toBe('28位，见不动产权证书');
  expect(text(page, '.field--land_term_end .field__label')).toBe('土地使用期限（止）（选填）');
  expect(control(page, 'use', '.field__picker').toJSON().attrs).toContainEqual({ name: 'mode', value: 'selector' });
  expect(control(page, 'land_term_end', '.field__picker').toJSON().attrs).toContainEqual({ name: 'mode', value: 'date' });
  expect(text(page, '.wizard__next')).toBe('保存并下一步');
  expect(page.querySelector('.wizard__previous')).toBeUndefined();
});

test('保存并下一步 saves the whole section, ticks it and opens the next step', async () => {
  loggedIn();
  const requests = server({
    [`PUT ${BASE}/form/unit`]: (req) => saved('unit', req.data),
  });
  const page = await openForm();

  await type(page, 'unit_number', '440402001001GB00001F00010001');
  await type(page, 'area_m2', ' 89.50 ');
  await pick(page, 'use', '0');
  await pick(page, 'land_term_end', '2070-05-31');
  await tap(page, '.wizard__next');

  expect(writes(requests)).toHaveLength(1);
  expect(writes(requests)[0]).toMatchObject({
    method: 'PUT',
    path: `${BASE}/form/unit`,
    data: { unit_number: '440402001001GB00001F00010001', area_m2: '89.50', use: '住宅', land_term_end: '2070-05-31' },
  });
  expect(stepTitles(page)[0]).toBe('✓ 不动产单元');
  expect(text(page, '.wizard__step-title')).toBe('2. 申请人');

  // Back again: the saved values are shown.
  await tap(page, '.wizard__previous');
  expect(text(page, '.wizard__step-title')).toBe('1. 不动产单元');
  expect(text(page, '.field--use .field__picked')).toBe('住宅');
  expect(text(page, '.field--land_term_end .field__picked')).toBe('2070-05-31');
});

test('every step is saved in turn, money in fen, integers as numbers, yes/no questions as choices', async () => {
  loggedIn();
  const requests = server({
    [`PUT ${BASE}/form/transaction`]: (req) => saved('transaction', req.data),
    [`PUT ${BASE}/form/tax_declaration`]: (req) => saved('tax_declaration', req.data),
  });
  const page = await openForm({ step: 'transaction' });

  expect(text(page, '.wizard__step-title')).toBe('3. 交易信息');
  await type(page, 'contract_number', 'HT-2026-001');
  await type(page, 'price_fen', '1234.56');
  await type(page, 'floors', '12');
  await tap(page, '.wizard__next');
  expect(text(page, '.wizard__step-title')).toBe('4. 计税申报');
  expect(page.querySelector('.field__switch')).toBeUndefined();
  expect(control(page, 'buyer_first_home', '.field__picker').toJSON().attrs).toContainEqual({ name: 'mode', value: 'selector' });
  await pick(page, 'buyer_first_home', '0');
  await pick(page, 'seller_only_home_over_5_years', '1');
  expect(text(page, '.field--buyer_first_home .field__picked')).toBe('是');
  expect(text(page, '.field--seller_only_home_over_5_years .field__picked')).toBe('否');
  await tap(page, '.wizard__next');

  expect(writes(requests).map((r) => [r.path, r.data])).toEqual([
    [`${BASE}/form/transaction`, { contract_number: 'HT-2026-001', price_fen: 123456, floors: 12, note: null }],
    [`${BASE}/form/tax_declaration`, { buyer_first_home: 'yes', seller_only_home_over_5_years: 'no' }],
  ]);
  expect(text(page, '.wizard__step-title')).toBe('5. 确认提交');
});

test('an unanswered yes/no question has no default: it is sent as null and the server asks for it', async () => {
  loggedIn();
  const requests = server({
    [`PUT ${BASE}/form/tax_declaration`]: {
      status: 422,
      data: errorBody('VALIDATION_FAILED', '提交的信息有误，请检查后重试', { fields: { buyer_first_home: ['此项为必填项'] } }),
    },
  });
  const page = await openForm({ step: 'tax_declaration' });

  expect(text(page, '.field--buyer_first_home .field__picked')).toBe('请选择');
  await pick(page, 'seller_only_home_over_5_years', '1');
  await tap(page, '.wizard__next');

  expect(writes(requests).map((r) => r.data)).toEqual([{ buyer_first_home: null, seller_only_home_over_5_years: 'no' }]);
  expect(text(page, '.field--buyer_first_home .field__error')).toBe('此项为必填项');
  expect(text(page, '.field--seller_only_home_over_5_years .field__error')).toBe('');
  expect(text(page, '.wizard__step-title')).toBe('4. 计税申报');
});

test('a saved answer to a yes/no question is shown by its label, read-only too', async () => {
  loggedIn();
  const form = formView({
    editable: false,
    sections: { tax_declaration: { complete: true, problems: [], data: { buyer_first_home: 'no', seller_only_home_over_5_years: null } } },
  });
  server({}, { detail: caseDetail({ status: 'under_review', allowed_actions: [] }), form });

  const page = await openForm({ step: 'tax_declaration' });

  expect(text(page, '.field--buyer_first_home .field__display')).toBe('否');
  expect(text(page, '.field--seller_only_home_over_5_years .field__display')).toBe('—');
});

test('a saved amount in fen is shown in yuan with two decimals', async () => {
  loggedIn();
  server({}, { form: saved('transaction', { contract_number: 'HT-1', price_fen: 100000005, floors: 3, note: null }).data });

  const page = await openForm({ step: 'transaction' });

  expect(valueOf(page, 'price_fen')).toBe('1000000.05');
  expect(text(page, '.field--price_fen')).toContain('元');
});

test('an amount with more than two decimals is refused before anything is sent', async () => {
  loggedIn();
  const requests = server();
  const page = await openForm({ step: 'transaction' });

  await type(page, 'contract_number', 'HT-2026-001');
  await type(page, 'price_fen', '1.234');
  await tap(page, '.wizard__next');

  expect(writes(requests)).toHaveLength(0);
  expect(text(page, '.field--price_fen .field__error')).toBe('请输入正确的金额（元），最多两位小数');
  expect(text(page, '.wizard__step-title')).toBe('3. 交易信息');

  await type(page, 'price_fen', '1.23');
  expect(text(page, '.field--price_fen .field__error')).toBe('');
});

test('the server’s field errors are shown under their fields and the step stays open', async () => {
  loggedIn();
  const requests = server({
    [`PUT ${BASE}/form/unit`]: {
      status: 422,
      data: errorBody('VALIDATION_FAILED', '提交的信息有误，请检查后重试', {
        fields: { unit_number: ['不动产单元号应为28位'], area_m2: ['数值超出允许范围', '应为数字'], _schema: ['请核对面积与用途'] },
      }),
    },
  });
  const page = await openForm();

  await type(page, 'unit_number', '4404');
  await type(page, 'area_m2', '0');
  await tap(page, '.wizard__next');

  expect(writes(requests)).toHaveLength(1);
  expect(text(page, '.wizard__step-title')).toBe('1. 不动产单元');
  expect(text(page, '.field--unit_number .field__error')).toBe('不动产单元号应为28位');
  expect(text(page, '.field--area_m2 .field__error')).toBe('数值超出允许范围；应为数字');
  expect(text(page, '.field--use .field__error')).toBe('');
  expect(text(page, '.wizard__error')).toBe('请核对面积与用途');
  expect(stepTitles(page)[0]).toBe('1 不动产单元');

  // Typing clears that field's message only.
  await type(page, 'unit_number', '440402001001GB00001F00010001');
  expect(text(page, '.field--unit_number .field__error')).toBe('');
  expect(text(page, '.field--area_m2 .field__error')).toBe('数值超出允许范围；应为数字');
});

test('unsaved edits survive moving to another step and back', async () => {
  loggedIn();
  server();
  const page = await openForm();

  await type(page, 'unit_number', '440402');
  page.querySelectorAll('.steps__item')[2].dispatchEvent('tap');
  await settle();
  expect(text(page, '.wizard__step-title')).toBe('3. 交易信息');
  page.querySelectorAll('.steps__item')[0].dispatchEvent('tap');
  await settle();

  expect(valueOf(page, 'unit_number')).toBe('440402');
});

test('a returned case: only the returned sections can be edited, the others are read-only', async () => {
  loggedIn();
  const form = formView({
    editableSections: ['transaction'],
    notice: '办件已退回，请修改退回的内容后重新提交；其他内容不能修改。',
    sections: {
      unit: { complete: true, problems: [], data: { unit_number: '440402001001GB00001F00010001', area_m2: '89.50', use: '住宅', land_term_end: null } },
      transaction: { complete: true, problems: [], data: { contract_number: 'HT-1', price_fen: 123456, floors: null, note: null } },
    },
  });
  const detail = caseDetail({
    status: 'returned',
    status_label: '已退回',
    allowed_actions: ['edit', 'submit', 'withdraw'],
    returned_items: [
      { kind: 'section', code: 'transaction', name: '交易信息', role: null, role_label: null, reason: '成交价格与合同不一致', department_label: '税务局' },
    ],
  });
  const requests = server({ [`PUT ${BASE}/form/transaction`]: (req) => saved('transaction', req.data, form) }, { detail, form });
  const page = await openForm();

  expect(text(page, '.wizard__notice')).toContain('办件已退回');
  expect(text(page, '.wizard__readonly')).toBe('仅供查看');
  expect(page.querySelector('.field__input')).toBeUndefined();
  expect(text(page, '.field--unit_number .field__display')).toBe('440402001001GB00001F00010001');
  expect(text(page, '.field--land_term_end .field__display')).toBe('—');
  expect(text(page, '.wizard__next')).toBe('下一步');

  await tap(page, '.wizard__next'); // applicants: read-only too
  expect(page.querySelector('.wizard__add')).toBeUndefined();
  await tap(page, '.wizard__next');

  expect(text(page, '.wizard__step-title')).toBe('3. 交易信息');
  expect(text(page, '.wizard__returned')).toBe('退回原因：税务局：成交价格与合同不一致');
  expect(page.querySelector('.wizard__readonly')).toBeUndefined();
  expect(valueOf(page, 'price_fen')).toBe('1234.56');
  await type(page, 'price_fen', '1300000');
  await tap(page, '.wizard__next');

  expect(writes(requests).map((r) => [r.path, r.data.price_fen])).toEqual([[`${BASE}/form/transaction`, 130000000]]);
});

test('a case that can no longer be edited shows every step read-only', async () => {
  loggedIn();
  server({}, { detail: caseDetail({ status: 'under_review', allowed_actions: [] }), form: formView({ editable: false, notice: '办件当前状态不能修改，以下内容仅供查看。' }) });

  const page = await openForm();

  expect(text(page, '.wizard__notice')).toContain('不能修改');
  expect(page.querySelector('.field__input')).toBeUndefined();
});

describe('applicants', () => {
  const APPLICANTS = [
    { id: 11, role: 'seller', role_label: '出卖人', kind: 'natural', name_masked: '张*', share: null, confirmed: true, is_me: true },
    { id: 12, role: 'buyer', role_label: '买受人', kind: 'natural', name_masked: '李**', share: '1/2', confirmed: false, is_me: false },
  ];

  test('lists the applicants with role, masked name, confirmation and 本人', async () => {
    loggedIn();
    server({}, { detail: caseDetail({ applicants: APPLICANTS }) });

    const page = await openForm({ step: 'parties' });

    const rows = page.querySelectorAll('.applicant').map(words);
    expect(rows[0]).toContain('出卖人 张* 本人 已确认');
    expect(rows[1]).toContain('买受人 李** 未确认');
    expect(rows[1]).toContain('份额 1/2');
    expect(rows[1]).not.toContain('本人');
  });

  test('adds a legal person with its representative; the kinds follow the role', async () => {
    loggedIn();
    const requests = server({
      [`POST ${BASE}/applicants`]: { status: 201, data: caseDetail({ applicants: [...APPLICANTS, { id: 13, role: 'seller', role_label: '出卖人', kind: 'legal', name_masked: '珠海**有限公司', share: null, confirmed: false, is_me: false }] }) },
    }, { detail: caseDetail({ applicants: APPLICANTS }) });
    const page = await openForm({ step: 'parties' });

    await tap(page, '.wizard__add');
    page.querySelector('.add__role').dispatchEvent('change', { detail: { value: '1' } });
    await settle();
    expect(page.instance.data.applicantForm.kindLabels).toEqual(['自然人']); // a buyer is a natural person here
    page.querySelector('.add__role').dispatchEvent('change', { detail: { value: '0' } });
    await settle();
    expect(page.instance.data.applicantForm.kindLabels).toEqual(['自然人', '法人或非法人组织']);
    page.querySelector('.add__kind').dispatchEvent('change', { detail: { value: '1' } });
    await settle();
    expect(text(page, '.add')).toContain('统一社会信用代码');
    page.querySelector('.add__name').dispatchEvent('input', { detail: { value: ' 珠海某某有限公司 ' } });
    page.querySelector('.add__id-number').dispatchEvent('input', { detail: { value: '91440400ma4uxxxx1x' } });
    page.querySelector('.add__representative-name').dispatchEvent('input', { detail: { value: '王五' } });
    page.querySelector('.add__representative-id-number').dispatchEvent('input', { detail: { value: '11010519491231002x' } });
    await settle();
    await tap(page, '.add__save');

    expect(writes(requests)[0]).toMatchObject({
      method: 'POST',
      path: `${BASE}/applicants`,
      data: {
        role: 'seller',
        kind: 'legal',
        name: '珠海某某有限公司',
        id_number: '91440400MA4UXXXX1X',
        share: null,
        representative_name: '王五',
        representative_id_number: '11010519491231002X',
      },
    });
    expect(page.querySelector('.add')).toBeUndefined();
    expect(page.querySelectorAll('.applicant')).toHaveLength(3);
    expect(requests.filter((r) => r.path === `${BASE}/form`)).toHaveLength(2); // ticks refreshed
  });

  test('the server’s field errors appear under the applicant’s fields', async () => {
    loggedIn();
    server({
      [`POST ${BASE}/applicants`]: {
        status: 422,
        data: errorBody('VALIDATION_FAILED', '提交的信息有误，请检查后重试', { fields: { id_number: ['身份证号码校验位不正确'], role: ['买受人最多 5 名'] } }),
      },
    });
    const page = await openForm({ step: 'parties' });

    await tap(page, '.wizard__add');
    page.querySelector('.add__role').dispatchEvent('change', { detail: { value: '1' } });
    page.querySelector('.add__name').dispatchEvent('input', { detail: { value: '李四' } });
    page.querySelector('.add__id-number').dispatchEvent('input', { detail: { value: '110105194912310021' } });
    await settle();
    await tap(page, '.add__save');

    expect(text(page, '.add__error--id-number')).toBe('身份证号码校验位不正确');
    expect(text(page, '.add__error--role')).toBe('买受人最多 5 名');
    expect(page.querySelector('.add__error')).toBeUndefined();
    expect(page.querySelector('.add')).toBeDefined();
  });

  test('deleting an applicant asks first', async () => {
    loggedIn();
    const requests = server({
      [`DELETE ${BASE}/applicants/12`]: { data: caseDetail({ applicants: [APPLICANTS[0]] }) },
    }, { detail: caseDetail({ applicants: APPLICANTS }) });
    const page = await openForm({ step: 'parties' });

    page.querySelectorAll('.applicant__remove')[1].dispatchEvent('tap');
    await settle();

    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ content: '确定从本申请中删除 李** 吗？' }));
    expect(writes(requests).map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE ${BASE}/applicants/12`]);
    expect(page.querySelectorAll('.applicant')).toHaveLength(1);
  });
});

describe('summary, confirm and submit', () => {
  test('the summary lists the sections and links to the materials', async () => {
    loggedIn();
    server({}, { form: saved('unit', {}).data, detail: caseDetail({ confirmation_needed: true }) });
    const page = await openForm({ step: 'summary' });

    expect(text(page, '.wizard__banner')).toBe('您需要确认本办件的申请内容');
    const rows = page.querySelectorAll('.summary__section').map(words);
    expect(rows[0]).toContain('✓ 不动产单元');
    expect(rows[1]).toContain('! 申请人 尚未填写');
    expect(text(page, '.summary__materials')).toContain('尚缺 2 项必需材料');
    expect(text(page, '.wizard__confirm')).toBe('确认申请内容');
    expect(text(page, '.wizard__submit')).toBe('提交申请');

    await tap(page, '.summary__materials');
    expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/case-materials/index?case_number=${CASE_NUMBER}` });
  });

  test('confirm without an identity claim sends the citizen to verification, then resumes', async () => {
    const storage = loggedIn();
    const requests = server({
      [`POST ${BASE}/confirm`]: (req) =>
        req.header['X-Identity-Claim']
          ? { data: caseDetail({ allowed_actions: ['edit', 'submit'] }) }
          : { status: 403, data: errorBody('IDENTITY_CLAIM_REQUIRED', '此操作需要先完成实名和人脸核验') },
      'GET /kyc/status': { data: { identity_verified: true, consent_version: 'v1', provider: 'local', locked_until: null } },
    });
    const page = await openForm({ step: 'summary' });

    await tap(page, '.wizard__confirm');

    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '需要身份核验', confirmText: '去核验' }));
    expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/camera/index' });
    expect(requests.filter((r) => r.path === `${BASE}/confirm`)).toHaveLength(1);

    // The journey passes and the citizen comes back to the wizard.
    storage.set('kyc.claim', { token: 'claim-1', expiresAt: Date.now() + 600000 });
    page.instance.onShow();
    await settle();

    const confirms = requests.filter((r) => r.path === `${BASE}/confirm`);
    expect(confirms).toHaveLength(2);
    expect(confirms[1].header['X-Identity-Claim']).toBe('claim-1');
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已确认申请内容' }));
  });

  test('an unverified citizen starts the journey at the real-name step; leaving it without a claim resumes nothing', async () => {
    loggedIn();
    const requests = server({
      [`POST ${BASE}/confirm`]: { status: 403, data: errorBody('IDENTITY_CLAIM_EXPIRED', '身份核验已过期') },
      'GET /kyc/status': { data: { identity_verified: false, provider: 'local' } },
    });
    const page = await openForm({ step: 'summary' });

    await tap(page, '.wizard__confirm');
    expect(wx.showModal.mock.calls[0][0].content).toContain('您的身份核验已过期');
    expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/realname/index' });

    page.instance.onShow();
    await settle();
    expect(requests.filter((r) => r.path === `${BASE}/confirm`)).toHaveLength(1);
  });

  test('submit lists what is missing in Chinese with links to the step or the materials', async () => {
    loggedIn();
    server({
      [`POST ${BASE}/submit`]: {
        status: 422,
        data: errorBody('CASE_INCOMPLETE', '申请尚不完整，不能提交', {
          missing_sections: ['transaction'],
          roles: [{ role: 'buyer', label: '买受人', problem: '至少需要 1 名买受人' }],
          missing_materials: [{ item: 'sale_contract', name: '存量房买卖合同', role: 'buyer', role_label: '买受人' }],
          unconfirmed: [{ role: 'seller', role_label: '出卖人', name_masked: '张*' }],
        }),
      },
    });
    const page = await openForm({ step: 'summary' });

    await tap(page, '.wizard__submit');

    expect(page.querySelectorAll('.incomplete__item').map(words)).toEqual([
      '“交易信息”尚未填写完整 去填写',
      '缺少材料：存量房买卖合同（买受人） 去上传',
      '买受人：至少需要 1 名买受人 去修改',
      '出卖人 张* 尚未确认申请内容',
    ]);
    expect(wx.redirectTo).not.toHaveBeenCalled();

    page.querySelectorAll('.incomplete__link')[1].dispatchEvent('tap');
    await settle();
    expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/case-materials/index?case_number=${CASE_NUMBER}` });

    page.querySelectorAll('.incomplete__link')[0].dispatchEvent('tap');
    await settle();
    expect(text(page, '.wizard__step-title')).toBe('3. 交易信息');
  });

  test('a successful submit opens the case detail', async () => {
    loggedIn();
    const requests = server({
      [`POST ${BASE}/submit`]: { data: caseDetail({ status: 'submitted', status_label: '已提交', allowed_actions: ['withdraw'] }) },
    });
    const page = await openForm({ step: 'summary' });
    wx.setStorageSync('kyc.claim', { token: 'claim-2', expiresAt: Date.now() + 600000 });

    await tap(page, '.wizard__submit');

    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '提交申请' }));
    expect(requests.find((r) => r.path === `${BASE}/submit`).header['X-Identity-Claim']).toBe('claim-2');
    expect(wx.redirectTo).toHaveBeenCalledWith({ url: `/pages/case-detail/index?case_number=${CASE_NUMBER}` });
  });

  test('a state conflict shows the server’s message and reloads the case', async () => {
    loggedIn();
    const requests = server({
      [`POST ${BASE}/submit`]: { status: 409, data: errorBody('CASE_STATE_CONFLICT', '办件当前状态不允许此操作') },
    });
    const page = await openForm({ step: 'summary' });

    await tap(page, '.wizard__submit');

    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '办件当前状态不允许此操作' }));
    expect(requests.filter((r) => r.path === BASE)).toHaveLength(4); // load, summary, reload, summary
    expect(text(page, '.wizard__step-title')).toBe('5. 确认提交');
  });
});
