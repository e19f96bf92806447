const { loadPage, renderPage, textOf, wordsOf: words } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, settle } = require('./helpers/fake-wx');

const DETAIL = {
  case_number: 'ZH2026112300001',
  business_type: { code: 'transfer', name: '转移登记' },
  status: 'under_review',
  status_label: '审核中',
  unit: { unit_number: '440402001001GB00001F00010001', location: '香洲区人民东路1号1栋101房' },
  created_at: '2026-11-20T01:00:00Z',
  updated_at: '2026-11-23T02:05:00Z',
  applicants: [
    { role: 'transferor', role_label: '转让方', name_masked: '张*' },
    { role: 'transferee', role_label: '受让方', name_masked: '李**' },
  ],
  timeline: [
    { status: 'draft', status_label: '草稿', at: '2026-11-20T01:00:00Z' },
    { status: 'submitted', status_label: '已提交', at: '2026-11-22T17:10:00Z' },
    { status: 'under_review', status_label: '审核中', at: '2026-11-23T02:05:00Z' },
  ],
};

// The texts of a row's children, e.g. ['转让方', '张*'].
function partsOf(node) {
  return Array.from(node.dom.children).map((child) => child.textContent.trim());
}

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/case-detail/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
});

async function openDetail(caseNumber) {
  const page = renderPage(pageId);
  page.instance.onLoad({ case_number: caseNumber });
  await settle();
  return page;
}

test('shows the case, its applicants and its timeline in Beijing time', async () => {
  loggedIn();
  const requests = fakeServer(() => ({ data: DETAIL }));

  const page = await openDetail('ZH2026112300001');

  expect(requests[0].path).toBe('/cases/ZH2026112300001');
  expect(textOf(page.querySelector('.detail__number'))).toBe('ZH2026112300001');
  expect(textOf(page.querySelector('.detail__type'))).toBe('转移登记');
  expect(textOf(page.querySelector('.detail__location'))).toBe('香洲区人民东路1号1栋101房');
  expect(textOf(page)).toContain('440402001001GB00001F00010001');
  expect(page.querySelectorAll('.applicant').map(partsOf)).toEqual([
    ['转让方', '张*'],
    ['受让方', '李**'],
  ]);
  expect(page.querySelectorAll('.timeline__body').map(partsOf)).toEqual([
    ['草稿', '2026-11-20 09:00'],
    ['已提交', '2026-11-23 01:10'],
    ['审核中', '2026-11-23 10:05'],
  ]);
});

test('someone else’s case shows the server’s not-found message in the page', async () => {
  loggedIn();
  fakeServer(() => ({ status: 404, data: errorBody('NOT_FOUND', '办件不存在或无权查看') }));

  const page = await openDetail('ZH2026112399999');

  expect(textOf(page)).toContain('办件不存在或无权查看');
  expect(page.querySelector('.detail__number')).toBeUndefined();
});

describe('the combined application (一窗受理)', () => {
  const { caseDetail, TRANSFER, CASE_NUMBER } = require('./helpers/cases');
  const { fakeDownloads } = require('./helpers/fake-wx');
  const BASE = `/cases/${CASE_NUMBER}`;

  const REVIEWED = caseDetail({
    status: 'returned',
    status_label: '已退回',
    applicants: [
      { id: 1, role: 'seller', role_label: '出卖人', kind: 'natural', name_masked: '张*', share: null, confirmed: true, is_me: true },
      { id: 2, role: 'buyer', role_label: '买受人', kind: 'natural', name_masked: '李**', share: null, confirmed: false, is_me: false },
    ],
    timeline: [
      { status: 'submitted', status_label: '已提交', step_label: '已提交（申请人提交）', department: null, department_label: null, actor_role_label: '申请人', at: '2026-11-22T17:10:00Z' },
      { status: 'accepted', status_label: '审核中', step_label: '税务局开始审核', department: 'tax', department_label: '税务局', actor_role_label: '系统', at: '2026-11-23T01:00:00Z' },
      { status: 'returned', status_label: '已退回', step_label: '税务局退回补正', department: 'tax', department_label: '税务局', actor_role_label: '税务局审核员', at: '2026-11-23T02:06:00Z' },
    ],
    allowed_actions: ['edit', 'upload_materials', 'submit', 'withdraw'],
    returned_items: [
      { kind: 'section', code: 'transaction', name: '交易信息', role: null, role_label: null, reason: '成交价格与合同不一致', department_label: '税务局' },
      { kind: 'material', code: 'identity_document', name: '身份证明', role: 'buyer', role_label: '买受人', reason: '照片模糊', department_label: '不动产登记中心' },
    ],
    checks: [
      { kind: 'register', label: '登记簿核查', status: 'passed', status_label: '通过', message: '' },
      { kind: 'seizure', label: '查封信息', status: 'failed', status_label: '未通过', message: '该不动产存在查封登记' },
    ],
    review: [
      { department: 'registration', department_label: '不动产登记中心', status: 'approved', status_label: '已通过' },
      { department: 'tax', department_label: '税务局', status: 'returned', status_label: '退回补正' },
    ],
    due_at: '2026-11-30T09:00:00Z',
    clock_label: '已暂停计时（退回补正中）',
    confirmation_needed: true,
    application_pdf_url: `/api${BASE}/application.pdf`,
  });

  async function tap(page, selector, index = 0) {
    page.querySelectorAll(selector)[index].dispatchEvent('tap');
    await settle();
  }

  beforeEach(() => {
    jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
    jest.spyOn(wx, 'showModal').mockImplementation((o) => o.success({ confirm: true }));
    jest.spyOn(wx, 'showLoading').mockImplementation(() => {});
    jest.spyOn(wx, 'hideLoading').mockImplementation(() => {});
  });

  test('timeline with step, actor and time (the step names the department); review, checks, returned items, due date and clock', async () => {
    loggedIn();
    fakeServer(() => ({ data: REVIEWED }));

    const page = await openDetail(CASE_NUMBER);

    expect(textOf(page.querySelector('.detail__confirmation'))).toBe('您需要确认本办件的申请内容');
    expect(page.querySelectorAll('.timeline__meta').map(textOf)).toEqual(['已提交（申请人提交） · 申请人', '税务局开始审核 · 系统', '税务局退回补正 · 税务局审核员']);
    expect(page.querySelectorAll('.timeline__time').map(textOf)).toEqual(['2026-11-23 01:10', '2026-11-23 09:00', '2026-11-23 10:06']);
    expect(page.querySelectorAll('.review__item').map(textOf)).toEqual(['不动产登记中心已通过', '税务局退回补正']);
    expect(page.querySelectorAll('.check').map(words)).toEqual(['登记簿核查 通过', '查封信息 未通过 该不动产存在查封登记']);
    expect(page.querySelectorAll('.returned__item').map(words)).toEqual([
      '交易信息 税务局：成交价格与合同不一致 去修改',
      '身份证明（买受人） 不动产登记中心：照片模糊 重新上传',
    ]);
    expect(textOf(page.querySelector('.detail__due'))).toBe('2026-11-30 17:00');
    expect(textOf(page.querySelector('.detail__clock'))).toBe('已暂停计时（退回补正中）');
    expect(page.querySelectorAll('.applicant').map(words)).toEqual(['出卖人 张* 本人 已确认', '买受人 李**']);
  });

  function buttonTexts(page) {
    return Array.from(page.querySelector('.actions').dom.children).map((button) => button.textContent.trim());
  }

  test('the buttons follow allowed_actions', async () => {
    loggedIn();
    fakeServer(() => ({ data: REVIEWED }));

    const page = await openDetail(CASE_NUMBER);

    expect(buttonTexts(page)).toEqual(['修改申请', '上传材料', '提交申请', '撤回申请']);
    expect(page.querySelectorAll('.actions__button').map((button) => button.dom.getAttribute('data-action'))).toEqual(['edit', 'upload_materials', 'submit', 'withdraw']);
  });

  test('every action of the vocabulary has its button, in the server’s order', async () => {
    loggedIn();
    const all = ['edit', 'upload_materials', 'confirm', 'submit', 'pay', 'view_certificate', 'request_correction', 'track_delivery', 'rate', 'withdraw'];
    fakeServer(() => ({ data: caseDetail({ allowed_actions: all.slice().reverse() }) }));

    const page = await openDetail(CASE_NUMBER);

    expect(buttonTexts(page)).toEqual(['撤回申请', '评价服务', '证书寄递', '申请更正', '查看电子证书', '缴纳税费', '提交申请', '确认申请内容', '上传材料', '修改申请']);
  });

  test('an action this version does not know is left out', async () => {
    loggedIn();
    fakeServer(() => ({ data: caseDetail({ allowed_actions: ['teleport', 'pay', 'PAY', ''] }) }));

    const page = await openDetail(CASE_NUMBER);

    expect(buttonTexts(page)).toEqual(['缴纳税费']);
  });

  test.each([
    ['fees_assessed', '待缴费'],
    ['certificate_issued', '已发证'],
    ['archived', '已归档'],
    ['draft', '草稿'],
  ])('the status alone (%s) offers nothing: only allowed_actions counts', async (status, statusLabel) => {
    loggedIn();
    fakeServer(() => ({ data: caseDetail({ status, status_label: statusLabel, allowed_actions: [], materials_editable: true }) }));

    const page = await openDetail(CASE_NUMBER);

    expect(page.querySelector('.actions')).toBeUndefined();
    expect(page.querySelector('.actions__pay')).toBeUndefined();
    expect(page.querySelector('.actions__certificates')).toBeUndefined();
  });

  test('缴纳税费 when the server offers pay (a register-then-pay case), which opens the payment page', async () => {
    loggedIn();
    fakeServer(() => ({ data: caseDetail({ status: 'registered', status_label: '已登簿', allowed_actions: ['pay'] }) }));

    const page = await openDetail(CASE_NUMBER);

    expect(buttonTexts(page)).toEqual(['缴纳税费']);
    await tap(page, '.actions__pay');
    expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/case-payment/index?case_number=${CASE_NUMBER}` });
  });

  test('查看电子证书 and 申请更正 open my certificates; 证书寄递 the delivery page; 上传材料 the materials', async () => {
    loggedIn();
    fakeServer(() => ({
      data: caseDetail({
        status: 'certificate_issued',
        status_label: '已发证',
        allowed_actions: ['upload_materials', 'view_certificate', 'request_correction', 'track_delivery'],
      }),
    }));

    const page = await openDetail(CASE_NUMBER);
    await tap(page, '.actions__certificates');
    await tap(page, '.actions__correction');
    await tap(page, '.actions__delivery');
    await tap(page, '.actions__materials');

    expect(wx.navigateTo.mock.calls.map(([options]) => options.url)).toEqual([
      '/packageCertificate/pages/list/index',
      '/packageCertificate/pages/list/index',
      `/pages/delivery/index?case_number=${CASE_NUMBER}`,
      `/pages/case-materials/index?case_number=${CASE_NUMBER}`,
    ]);
  });

  test('a tap on an action the case no longer offers does nothing', async () => {
    loggedIn();
    fakeServer(() => ({ data: caseDetail({ allowed_actions: ['pay'] }) }));
    const page = await openDetail(CASE_NUMBER);

    page.instance.onAction({ currentTarget: { dataset: { action: 'withdraw' } } });
    page.instance.onAction({ currentTarget: { dataset: { action: 'constructor' } } });
    await settle();

    expect(wx.showModal).not.toHaveBeenCalled();
    expect(wx.navigateTo).not.toHaveBeenCalled();
  });

  describe('评价服务', () => {
    const RATED = caseDetail({ status: 'certificate_issued', status_label: '已发证', allowed_actions: ['view_certificate'] });

    function rateServer(answer = { status: 201, data: { score: 4 } }) {
      let rated = false;
      const requests = fakeServer((req) => {
        if (req.path === `${BASE}/rating`) {
          rated = answer.status < 300;
          return answer;
        }
        return { data: rated ? RATED : caseDetail({ status: 'certificate_issued', status_label: '已发证', allowed_actions: ['view_certificate', 'rate'] }) };
      });
      return requests;
    }

    test('offers the five levels and sends the chosen score, then thanks and reloads', async () => {
      loggedIn();
      const requests = rateServer();
      jest.spyOn(wx, 'showActionSheet').mockImplementation((o) => o.success({ tapIndex: 1 }));
      const page = await openDetail(CASE_NUMBER);

      await tap(page, '.actions__rate');

      expect(wx.showActionSheet).toHaveBeenCalledWith(expect.objectContaining({ itemList: ['非常满意', '满意', '基本满意', '不满意', '非常不满意'] }));
      const rating = requests.find((r) => r.path === `${BASE}/rating`);
      expect(rating).toMatchObject({ method: 'POST', data: { score: 4 } });
      expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '感谢您的评价' }));
      expect(requests.filter((r) => r.path === BASE)).toHaveLength(2);
      expect(buttonTexts(page)).toEqual(['查看电子证书']);
    });

    test.each([
      [0, 5],
      [2, 3],
      [3, 2],
      [4, 1],
    ])('level %i is score %i', async (tapIndex, score) => {
      loggedIn();
      const requests = rateServer();
      jest.spyOn(wx, 'showActionSheet').mockImplementation((o) => o.success({ tapIndex }));
      const page = await openDetail(CASE_NUMBER);

      await tap(page, '.actions__rate');

      expect(requests.find((r) => r.path === `${BASE}/rating`).data).toEqual({ score });
    });

    test('closing the sheet sends nothing', async () => {
      loggedIn();
      const requests = rateServer();
      jest.spyOn(wx, 'showActionSheet').mockImplementation((o) => o.fail({ errMsg: 'showActionSheet:fail cancel' }));
      const page = await openDetail(CASE_NUMBER);

      await tap(page, '.actions__rate');

      expect(requests.filter((r) => r.method === 'POST')).toHaveLength(0);
      expect(wx.showToast).not.toHaveBeenCalled();
    });

    test('a refusal shows the server’s message', async () => {
      loggedIn();
      rateServer({ status: 409, data: errorBody('CASE_STATE_CONFLICT', '已评价') });
      jest.spyOn(wx, 'showActionSheet').mockImplementation((o) => o.success({ tapIndex: 0 }));
      const page = await openDetail(CASE_NUMBER);

      await tap(page, '.actions__rate');

      expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已评价', icon: 'none' }));
      expect(wx.showToast).not.toHaveBeenCalledWith(expect.objectContaining({ title: '感谢您的评价' }));
    });
  });

  test('a case under review offers no actions, only its materials to read', async () => {
    loggedIn();
    fakeServer(() => ({ data: DETAIL }));

    const page = await openDetail(CASE_NUMBER);

    expect(page.querySelector('.actions')).toBeUndefined();
    expect(page.querySelector('.detail__confirmation')).toBeUndefined();
    expect(page.querySelector('.detail__pdf')).toBeUndefined();
    await tap(page, '.detail__materials');
    expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/case-materials/index?case_number=${CASE_NUMBER}` });
  });

  test('a case returned for materials only: no edit, but the materials can be fixed', async () => {
    loggedIn();
    fakeServer(() => ({
      data: caseDetail({
        status: 'returned',
        allowed_actions: ['upload_materials', 'confirm', 'submit', 'withdraw'],
        returned_items: [
          { kind: 'section', code: 'unit', name: '不动产单元', role: null, role_label: null, reason: '面积有误', department_label: '不动产登记中心' },
          { kind: 'material', code: 'sale_contract', role: 'buyer', role_label: null, reason: '合同缺页', department_label: '登记簿核查' },
        ],
      }),
    }));

    const page = await openDetail(CASE_NUMBER);

    expect(page.querySelectorAll('.returned__item').map(words)).toEqual([
      '不动产单元 不动产登记中心：面积有误',
      'sale_contract 登记簿核查：合同缺页 重新上传',
    ]);
    expect(page.querySelector('.actions__edit')).toBeUndefined();
  });

  test('a returned material offers 重新上传 only while allowed_actions has upload_materials (materials_editable no longer counts)', async () => {
    loggedIn();
    fakeServer(() => ({
      data: caseDetail({
        status: 'returned',
        allowed_actions: ['edit', 'submit', 'withdraw'],
        materials_editable: true,
        returned_items: [
          { kind: 'section', code: 'transaction', name: '交易信息', role: null, role_label: null, reason: '价格有误', department_label: '税务局' },
          { kind: 'material', code: 'sale_contract', name: '存量房买卖合同', role: 'buyer', role_label: '买受人', reason: '合同缺页', department_label: '不动产登记中心' },
        ],
      }),
    }));

    const page = await openDetail(CASE_NUMBER);

    expect(page.querySelectorAll('.returned__item').map(words)).toEqual([
      '交易信息 税务局：价格有误 去修改',
      '存量房买卖合同（买受人） 不动产登记中心：合同缺页',
    ]);
  });

  test('fixing a returned item opens its wizard step or the materials', async () => {
    loggedIn();
    fakeServer(() => ({ data: REVIEWED }));
    const page = await openDetail(CASE_NUMBER);

    await tap(page, '.returned__fix', 0);
    await tap(page, '.returned__fix', 1);
    await tap(page, '.actions__edit');

    expect(wx.navigateTo.mock.calls.map(([options]) => options.url)).toEqual([
      `/pages/case-form/index?case_number=${CASE_NUMBER}&step=transaction`,
      `/pages/case-materials/index?case_number=${CASE_NUMBER}`,
      `/pages/case-form/index?case_number=${CASE_NUMBER}`,
    ]);
  });

  test('confirm without a claim leads to identity verification', async () => {
    loggedIn();
    const requests = fakeServer((req) => {
      if (req.path === `${BASE}/confirm`) return { status: 403, data: errorBody('IDENTITY_CLAIM_REQUIRED', '请先完成人脸核验') };
      if (req.path === '/kyc/status') return { data: { identity_verified: true, consent_version: 'v1', provider: 'wechat' } };
      return { data: caseDetail({ allowed_actions: ['confirm'], confirmation_needed: true }) };
    });
    const page = await openDetail(CASE_NUMBER);

    await tap(page, '.actions__confirm');

    expect(requests.find((r) => r.path === `${BASE}/confirm`).header).not.toHaveProperty('X-Identity-Claim');
    expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/packageKyc/pages/wechat/index' });
  });

  test('submit lists what is missing, named from the business type', async () => {
    loggedIn();
    wx.setStorageSync('kyc.claim', { token: 'claim-1', expiresAt: Date.now() + 60000 });
    fakeServer((req) => {
      if (req.path === `${BASE}/submit`) {
        return {
          status: 422,
          data: errorBody('CASE_INCOMPLETE', '申请尚不完整，不能提交', {
            missing_sections: ['tax_declaration'],
            roles: [],
            missing_materials: [{ item: 'identity_document', name: '身份证明', role: 'buyer', role_label: '买受人' }],
            unconfirmed: [],
          }),
        };
      }
      if (req.path === '/business-types') return { data: [TRANSFER] };
      return { data: caseDetail() };
    });
    const page = await openDetail(CASE_NUMBER);

    await tap(page, '.actions__submit');

    expect(page.querySelectorAll('.incomplete__item').map(words)).toEqual([
      '“计税申报”尚未填写完整 去填写',
      '缺少材料：身份证明（买受人） 去上传',
    ]);
    await tap(page, '.incomplete__link', 0);
    expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/case-form/index?case_number=${CASE_NUMBER}&step=tax_declaration` });
  });

  test('a confirmed withdrawal updates the case', async () => {
    loggedIn();
    const requests = fakeServer((req) =>
      req.path === `${BASE}/withdraw`
        ? { data: caseDetail({ status: 'withdrawn', status_label: '已撤回', allowed_actions: [] }) }
        : { data: caseDetail() },
    );
    const page = await openDetail(CASE_NUMBER);

    await tap(page, '.actions__withdraw');

    expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '撤回申请' }));
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([`${BASE}/withdraw`]);
    expect(textOf(page)).toContain('已撤回');
    expect(page.querySelector('.actions')).toBeUndefined();
  });

  test('the application PDF is downloaded with the token and opened', async () => {
    loggedIn('access-7');
    fakeServer(() => ({ data: REVIEWED }));
    const downloads = fakeDownloads(() => ({ tempFilePath: 'wxfile://tmp/application.pdf' }));
    jest.spyOn(wx, 'openDocument').mockImplementation((o) => o.success({}));
    const page = await openDetail(CASE_NUMBER);

    await tap(page, '.detail__pdf');

    expect(downloads).toEqual([
      { url: `http://127.0.0.1:8000/api${BASE}/application.pdf`, header: { Authorization: 'Bearer access-7' } },
    ]);
    expect(wx.openDocument).toHaveBeenCalledWith(expect.objectContaining({ filePath: 'wxfile://tmp/application.pdf', fileType: 'pdf' }));
  });

  test('coming back to the page reloads the case', async () => {
    loggedIn();
    const requests = fakeServer(() => ({ data: REVIEWED }));
    const page = await openDetail(CASE_NUMBER);

    page.instance.onShow();
    await settle();
    page.instance.onShow();
    await settle();

    expect(requests.filter((r) => r.path === BASE)).toHaveLength(2);
  });
});
