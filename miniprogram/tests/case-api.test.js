const session = require('../services/session');
const http = require('../services/http');
const casesApi = require('../services/cases');
const materialsApi = require('../services/materials');
const { yuanToFen, fenToYuan } = require('../utils/money');
const { presentField, sectionPayload } = require('../utils/form-fields');
const { presentIncomplete } = require('../utils/case-incomplete');
const {
  NETWORK_FAILURE,
  loggedIn,
  fakeServer,
  fakeUploads,
  fakeDownloads,
  errorBody,
  tokenPair,
} = require('./helpers/fake-wx');
const { CASE_NUMBER, TRANSFER, caseDetail } = require('./helpers/cases');

const BASE = `/cases/${CASE_NUMBER}`;

beforeEach(() => {
  jest.spyOn(wx, 'reLaunch').mockImplementation(() => {});
});

describe('endpoints of the combined application', () => {
  test.each([
    ['getBusinessTypes', () => casesApi.getBusinessTypes(), 'GET', '/business-types', undefined],
    ['createCase', () => casesApi.createCase({ businessType: 'transfer', unitNumber: '440402001001GB00001F00010001', location: '香洲区' }), 'POST', '/cases', { business_type: 'transfer', unit_number: '440402001001GB00001F00010001', location: '香洲区' }],
    ['getCaseForm', () => casesApi.getCaseForm(CASE_NUMBER), 'GET', `${BASE}/form`, undefined],
    ['saveFormSection', () => casesApi.saveFormSection(CASE_NUMBER, 'transaction', { price_fen: 123456 }), 'PUT', `${BASE}/form/transaction`, { price_fen: 123456 }],
    ['addApplicant', () => casesApi.addApplicant(CASE_NUMBER, { role: 'buyer', kind: 'natural', name: '李四', id_number: '11010519491231002X' }), 'POST', `${BASE}/applicants`, { role: 'buyer', kind: 'natural', name: '李四', id_number: '11010519491231002X' }],
    ['removeApplicant', () => casesApi.removeApplicant(CASE_NUMBER, 12), 'DELETE', `${BASE}/applicants/12`, undefined],
    ['listMaterials', () => materialsApi.listMaterials(CASE_NUMBER), 'GET', `${BASE}/materials`, undefined],
    ['withdrawMaterial', () => materialsApi.withdrawMaterial(CASE_NUMBER, 5), 'DELETE', `${BASE}/materials/5`, undefined],
    ['withdrawCase', () => casesApi.withdrawCase(CASE_NUMBER), 'POST', `${BASE}/withdraw`, undefined],
    ['rateCase', () => casesApi.rateCase(CASE_NUMBER, 4), 'POST', `${BASE}/rating`, { score: 4 }],
  ])('%s', async (name, call, method, path, data) => {
    loggedIn('access-1');
    const requests = fakeServer(() => ({ data: [] }));

    await call();

    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method, path });
    expect(requests[0].data).toEqual(data);
    expect(requests[0].header.Authorization).toBe('Bearer access-1');
  });

  test.each([
    ['confirmCase', (n) => casesApi.confirmCase(n), `${BASE}/confirm`],
    ['submitCase', (n) => casesApi.submitCase(n), `${BASE}/submit`],
  ])('%s sends the identity claim', async (name, call, path) => {
    loggedIn();
    session.storeIdentityClaim({ claim: 'claim-abc', claim_expires_in: 600 });
    const requests = fakeServer(() => ({ data: caseDetail() }));

    const detail = await call(CASE_NUMBER);

    expect(requests[0]).toMatchObject({ method: 'POST', path });
    expect(requests[0].header['X-Identity-Claim']).toBe('claim-abc');
    expect(detail.case_number).toBe(CASE_NUMBER);
  });

  test('a draft without unit number or location sends only the business type', async () => {
    loggedIn();
    const requests = fakeServer(() => ({ status: 201, data: caseDetail() }));

    await casesApi.createCase({ businessType: 'first_registration', unitNumber: '', location: '' });

    expect(requests[0].data).toEqual({ business_type: 'first_registration' });
  });
});

describe('errors of the combined application', () => {
  test('field errors come from details.fields', async () => {
    loggedIn();
    fakeServer(() => ({
      status: 422,
      data: errorBody('VALIDATION_FAILED', '提交的信息有误，请检查后重试', { fields: { price_fen: ['数值超出允许范围'], floors: ['应为整数', '数值超出允许范围'] } }),
    }));

    const error = await casesApi.saveFormSection(CASE_NUMBER, 'transaction', {}).catch((err) => err);

    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 422, message: '提交的信息有误，请检查后重试' });
    expect(http.fieldErrorsOf(error)).toEqual({ price_fen: '数值超出允许范围', floors: '应为整数；数值超出允许范围' });
    expect(http.hasErrorCode(error, 'VALIDATION_FAILED')).toBe(true);
  });

  test('one envelope only: a top-level `errors` is not read as field errors, and codes are compared exactly', async () => {
    loggedIn();
    fakeServer(() => ({
      status: 422,
      data: { code: 'validation_failed', message: '提交的信息有误', details: {}, errors: { price_fen: ['数值超出允许范围'] } },
    }));

    const error = await casesApi.saveFormSection(CASE_NUMBER, 'transaction', {}).catch((err) => err);

    expect(error.message).toBe('提交的信息有误');
    expect(http.fieldErrorsOf(error)).toEqual({});
    expect(http.hasErrorCode(error, 'VALIDATION_FAILED')).toBe(false);
  });

  test('CASE_INCOMPLETE keeps its lists in details', async () => {
    loggedIn();
    const details = {
      missing_sections: ['unit'],
      roles: [{ role: 'buyer', label: '买受人', problem: '至少需要 1 名买受人' }],
      missing_materials: [{ item: 'sale_contract', name: '存量房买卖合同', role: 'buyer', role_label: '买受人' }],
      unconfirmed: [{ role: 'seller', role_label: '出卖人', name_masked: '张*' }],
    };
    fakeServer(() => ({ status: 422, data: errorBody('CASE_INCOMPLETE', '申请尚不完整，不能提交', details) }));

    const error = await casesApi.submitCase(CASE_NUMBER).catch((err) => err);

    expect(error.details).toEqual(details);
    expect(http.fieldErrorsOf(error)).toEqual({});
    expect(http.hasErrorCode(error, 'CASE_INCOMPLETE')).toBe(true);
    expect(http.hasErrorCode(error, 'CASE_STATE_CONFLICT')).toBe(false);
  });

  test('the lines of CASE_INCOMPLETE use the names the server gives', () => {
    const lines = presentIncomplete(
      {
        missing_sections: ['tax_declaration'],
        roles: [
          { role: 'buyer', label: '买受人', problem: '请填写每名买受人的份额' },
          { role: 'buyer', label: '买受人', problem: '买受人的份额之和应为 1' },
        ],
        missing_materials: [{ item: 'tax_receipt', name: '完税凭证', role: 'buyer', role_label: '买受人' }],
        unconfirmed: [{ role: 'seller', role_label: '出卖人', name_masked: '张*' }],
      },
      TRANSFER,
    );

    expect(lines.map((line) => line.text)).toEqual([
      '“计税申报”尚未填写完整',
      '缺少材料：完税凭证（买受人）',
      '买受人：请填写每名买受人的份额',
      '买受人：买受人的份额之和应为 1',
      '出卖人 张* 尚未确认申请内容',
    ]);
    expect(new Set(lines.map((line) => line.key)).size).toBe(lines.length);
  });
});

describe('uploadMaterial', () => {
  test('posts the file as multipart with item, role and replaces, and parses the JSON string answer', async () => {
    loggedIn('access-1');
    const uploads = fakeUploads(() => ({ status: 201, data: JSON.stringify({ id: 9, item: 'identity_document' }) }));
    const progress = [];

    const material = await materialsApi.uploadMaterial(CASE_NUMBER, {
      filePath: 'wxfile://tmp/a.jpg',
      item: 'identity_document',
      role: 'seller',
      replaces: 5,
      onProgress: (value) => progress.push(value),
    });

    expect(material).toEqual({ id: 9, item: 'identity_document' });
    expect(uploads[0]).toMatchObject({
      url: `http://127.0.0.1:8000/api${BASE}/materials`,
      name: 'file',
      filePath: 'wxfile://tmp/a.jpg',
      formData: { item: 'identity_document', role: 'seller', replaces: '5' },
      header: { Authorization: 'Bearer access-1' },
    });
    expect(progress).toEqual([100]);
  });

  test('the original file name is sent as `filename` when known, and only then', async () => {
    loggedIn();
    const uploads = fakeUploads(() => ({ status: 201, data: { id: 9 } }));

    await materialsApi.uploadMaterial(CASE_NUMBER, { filePath: 'wxfile://tmp/a.pdf', item: 'sale_contract', role: 'buyer', filename: '买卖合同.pdf' });
    await materialsApi.uploadMaterial(CASE_NUMBER, { filePath: 'wxfile://tmp/b.jpg', item: 'identity_document', role: 'buyer' });
    await materialsApi.uploadMaterial(CASE_NUMBER, { filePath: 'wxfile://tmp/c.jpg', item: 'identity_document', role: 'buyer', filename: '  ' });

    expect(uploads.map((u) => u.formData)).toEqual([
      { item: 'sale_contract', role: 'buyer', filename: '买卖合同.pdf' },
      { item: 'identity_document', role: 'buyer' },
      { item: 'identity_document', role: 'buyer' },
    ]);
  });

  test('a file name longer than 200 characters is shortened, keeping its extension', async () => {
    loggedIn();
    const uploads = fakeUploads(() => ({ status: 201, data: { id: 9 } }));
    const stem = '合'.repeat(150) + '😀'.repeat(100);

    await materialsApi.uploadMaterial(CASE_NUMBER, { filePath: 'f', item: 'x', role: 'y', filename: `${stem}.pdf` });

    const sent = uploads[0].formData.filename;
    expect(Array.from(sent)).toHaveLength(200);
    expect(sent.endsWith('😀.pdf')).toBe(true);
    expect(sent.startsWith('合'.repeat(150))).toBe(true);
  });

  test('an expired token is renewed once and the upload retried with the new one', async () => {
    const storage = loggedIn('old-access', 'old-refresh');
    const requests = fakeServer(() => ({ data: tokenPair('new-access', 'new-refresh') }));
    const uploads = fakeUploads((upload) =>
      upload.header.Authorization === 'Bearer old-access'
        ? { status: 401, data: errorBody('TOKEN_EXPIRED', '登录已过期') }
        : { status: 201, data: { id: 10 } },
    );

    const material = await materialsApi.uploadMaterial(CASE_NUMBER, { filePath: 'wxfile://tmp/a.jpg', item: 'x', role: 'y' });

    expect(material).toEqual({ id: 10 });
    expect(requests.map((r) => r.path)).toEqual(['/auth/refresh']);
    expect(uploads.map((u) => u.header.Authorization)).toEqual(['Bearer old-access', 'Bearer new-access']);
    expect(storage.get('auth.access')).toBe('new-access');
  });

  test('a second 401 is not retried again', async () => {
    loggedIn('old-access');
    fakeServer(() => ({ data: tokenPair('new-access', 'new-refresh') }));
    const uploads = fakeUploads(() => ({ status: 401, data: errorBody('TOKEN_INVALID', '登录无效') }));

    await expect(materialsApi.uploadMaterial(CASE_NUMBER, { filePath: 'f', item: 'x', role: 'y' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(uploads).toHaveLength(2);
  });

  test.each([
    [413, errorBody('MATERIAL_TOO_LARGE', '文件超过 10 MB，请压缩后重新上传'), 'MATERIAL_TOO_LARGE', '文件超过 10 MB，请压缩后重新上传'],
    [415, errorBody('MATERIAL_TYPE_UNSUPPORTED', '仅支持 JPEG、PNG、WebP 图片或 PDF 文件'), 'MATERIAL_TYPE_UNSUPPORTED', '仅支持 JPEG、PNG、WebP 图片或 PDF 文件'],
    [413, 'Request Entity Too Large', 'HTTP_413', '文件过大，请压缩后重新上传'],
    [502, '<html>Bad Gateway</html>', 'SERVER_ERROR', '服务暂时不可用，请稍后重试'],
  ])('HTTP %s becomes a Chinese error', async (status, data, code, message) => {
    loggedIn();
    fakeUploads(() => ({ status, data }));

    await expect(materialsApi.uploadMaterial(CASE_NUMBER, { filePath: 'f', item: 'x', role: 'y' })).rejects.toMatchObject({ code, message, status });
  });

  test('a failed upload becomes NETWORK_ERROR', async () => {
    loggedIn();
    fakeUploads(() => NETWORK_FAILURE);

    await expect(materialsApi.uploadMaterial(CASE_NUMBER, { filePath: 'f', item: 'x', role: 'y' })).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });
});

describe('downloadFile', () => {
  test('a root-relative URL is fetched from the API origin with the token', async () => {
    loggedIn('access-1');
    const downloads = fakeDownloads(() => ({ tempFilePath: 'wxfile://tmp/x.jpg' }));

    await expect(http.downloadFile(`/api${BASE}/materials/5/thumbnail`)).resolves.toBe('wxfile://tmp/x.jpg');
    expect(downloads[0]).toEqual({
      url: `http://127.0.0.1:8000/api${BASE}/materials/5/thumbnail`,
      header: { Authorization: 'Bearer access-1' },
    });
  });

  test('another origin never receives the token', async () => {
    loggedIn('access-1');
    const downloads = fakeDownloads(() => ({ tempFilePath: 'wxfile://tmp/x.pdf' }));

    await http.downloadFile('https://files.example.com/a.pdf');

    expect(downloads[0].header).toEqual({});
  });

  test('a 401 renews the session once and downloads again', async () => {
    loggedIn('old-access', 'old-refresh');
    fakeServer(() => ({ data: tokenPair('new-access', 'new-refresh') }));
    const downloads = fakeDownloads((download) =>
      download.header.Authorization === 'Bearer old-access' ? { status: 401 } : { tempFilePath: 'wxfile://tmp/ok' },
    );

    await expect(http.downloadFile('/api/x')).resolves.toBe('wxfile://tmp/ok');
    expect(downloads).toHaveLength(2);
  });

  test('a missing file is explained in Chinese', async () => {
    loggedIn();
    fakeDownloads(() => ({ status: 404, tempFilePath: 'wxfile://tmp/err' }));

    await expect(http.downloadFile('/api/x')).rejects.toMatchObject({ code: 'NOT_FOUND', message: '文件不存在或已被撤回' });
  });
});

describe('money', () => {
  test.each([
    ['1234.56', 123456],
    ['0.5', 50],
    ['0.05', 5],
    ['12', 1200],
    ['007.10', 710],
    [' 1,234.5 ', 123450],
    ['1000000000', 100000000000],
    ['0.1', 10],
    ['1.10', 110],
    ['4.35', 435], // 4.35 * 100 is 434.99999999999994 in floating point
    ['1.15', 115],
  ])('“%s” 元 is %i 分 exactly', (yuan, fen) => {
    expect(yuanToFen(yuan)).toBe(fen);
  });

  test.each(['1.234', '', '  ', '-1', '1e3', 'abc', '1.', '.5', '1..2', '１２', '99999999999999999.99', null, undefined])(
    '“%s” cannot be converted exactly and is refused',
    (yuan) => {
      expect(yuanToFen(yuan)).toBeNull();
    },
  );

  test.each([
    [123456, '1234.56'],
    [5, '0.05'],
    [50, '0.50'],
    [0, '0.00'],
    [100000000000, '1000000000.00'],
    ['710', '7.10'],
    [-5, '-0.05'],
    [null, ''],
    [1.5, ''],
  ])('%p 分 reads as “%s” 元', (fen, yuan) => {
    expect(fenToYuan(fen)).toBe(yuan);
  });
});

describe('form fields', () => {
  const transaction = TRANSFER.form_sections[2].fields;
  const unit = TRANSFER.form_sections[0].fields;

  test('saved values are shown as the citizen types them', () => {
    const [contract, price, floors] = transaction.map((definition, index) =>
      presentField(definition, [' HT-1', 123456, 7][index]),
    );
    expect(contract).toMatchObject({ text: ' HT-1', maxLength: 50, display: ' HT-1' });
    expect(price).toMatchObject({ text: '1234.56', display: '1234.56 元', maxLength: -1 });
    expect(floors).toMatchObject({ text: '7' });
    const use = presentField(unit[2], '商业');
    expect(use).toMatchObject({ choiceIndex: 1, choiceLabel: '商业', choiceLabels: ['住宅', '商业'], display: '商业' });
    expect(presentField(unit[3], null)).toMatchObject({ text: '', display: '—' });
  });

  test('the payload: trimmed text, null for empty, fen for money; a non-integer is sent for the server to refuse', () => {
    const fields = [{ text: ' HT-1 ' }, { text: '99.9' }, { text: '3楼' }, { text: '' }];

    expect(sectionPayload(transaction, fields)).toEqual({
      values: { contract_number: 'HT-1', price_fen: 9990, floors: '3楼', note: null },
      errors: {},
    });
  });

  test('a yes/no question is a choice without a default: unanswered it is sent as null', () => {
    const tax = TRANSFER.form_sections[3].fields;
    const [buyer, seller] = tax.map((definition) => presentField(definition, undefined));
    expect(buyer).toMatchObject({ type: 'choice', choiceIndex: -1, choiceLabel: '', choiceLabels: ['是', '否'], display: '—' });
    expect(presentField(tax[0], 'no')).toMatchObject({ choiceIndex: 1, choiceLabel: '否', display: '否' });

    expect(sectionPayload(tax, [buyer, { ...seller, choiceIndex: 0 }])).toEqual({
      values: { buyer_first_home: null, seller_only_home_over_5_years: 'yes' },
      errors: {},
    });
    expect(sectionPayload(tax, [{}, { choiceIndex: 5 }]).values).toEqual({ buyer_first_home: null, seller_only_home_over_5_years: null });
  });

  test('a boolean field is still a switch, sent as shown', () => {
    const definition = { name: 'agreed', label: '同意', type: 'boolean', required: true, choices: null };

    expect(presentField(definition, true)).toMatchObject({ checked: true, display: '是' });
    expect(presentField(definition, false)).toMatchObject({ checked: false, display: '否' });
    expect(sectionPayload([definition], [{ checked: false }]).values).toEqual({ agreed: false });
  });

  test('an amount that cannot be converted is an error, and its field is not sent', () => {
    const fields = [{ text: 'HT-1' }, { text: '1.234' }, { text: '' }, { text: '' }];

    const { values, errors } = sectionPayload(transaction, fields);

    expect(errors).toEqual({ price_fen: '请输入正确的金额（元），最多两位小数' });
    expect(values).not.toHaveProperty('price_fen');
  });
});
