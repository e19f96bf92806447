const { loadPage, renderPage, textOf, textIn, wordsOf: words } = require('./helpers/page');
const { loggedIn, fakeServer, fakeUploads, fakeDownloads, errorBody, settle, NETWORK_FAILURE } = require('./helpers/fake-wx');
const { CASE_NUMBER, caseDetail } = require('./helpers/cases');

const BASE = `/cases/${CASE_NUMBER}`;
const FILE_BASE = `/api${BASE}/materials`;

function material(id, overrides = {}) {
  return {
    id,
    item: 'identity_document',
    role: 'seller',
    original_filename: `身份证-${id}.jpg`,
    detected_type: 'jpeg',
    size_bytes: 1572864,
    status: 'active',
    uploaded_at: '2026-11-23T02:05:00Z',
    file_url: `${FILE_BASE}/${id}/file`,
    thumbnail_url: `${FILE_BASE}/${id}/thumbnail`,
    ...overrides,
  };
}

function entry(item, name, role, roleLabel, required, ids = [], mayUpload = true) {
  return { item, name, role, role_label: roleLabel, required, material_ids: ids, present: ids.length > 0, may_upload: mayUpload };
}

// The server decides: `editable` for the whole view, `may_upload` per entry
// (`mayUpload(item, role)`), and the notice shown when nothing may change.
function view({ materials = [material(5)], editable = true, mayUpload = () => editable, lockedNotice = '' } = {}) {
  const ids = (item, role) => materials.filter((m) => m.item === item && m.role === role).map((m) => m.id);
  const checklist = [
    ['identity_document', '身份证明', 'seller', '出卖人', true],
    ['identity_document', '身份证明', 'buyer', '买受人', true],
    ['sale_contract', '存量房买卖合同', 'buyer', '买受人', true],
    ['marriage_proof', '婚姻状况证明', 'seller', '出卖人', false],
  ].map(([item, name, role, label, required]) => entry(item, name, role, label, required, ids(item, role), mayUpload(item, role)));
  const missing = checklist.filter((e) => e.required && !e.present);
  return { case_number: CASE_NUMBER, editable, locked_notice: lockedNotice, materials, checklist, missing, complete: missing.length === 0 };
}

function server({ materials = () => ({ data: view() }), detail = caseDetail(), routes = {} } = {}) {
  return fakeServer((req) => {
    const key = `${req.method} ${req.path}`;
    if (routes[key]) return routes[key](req);
    if (key === `GET ${BASE}/materials`) return materials(req);
    if (key === `GET ${BASE}`) return { data: detail };
    throw new Error(`unexpected ${key}`);
  });
}

function chooseImage(path = 'wxfile://tmp/photo.jpg') {
  jest.spyOn(wx, 'showActionSheet').mockImplementation((o) => o.success({ tapIndex: 0 }));
  jest.spyOn(wx, 'chooseMedia').mockImplementation((o) => o.success({ tempFiles: [{ tempFilePath: path, size: 1000 }], type: 'image' }));
}

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/case-materials/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showLoading').mockImplementation(() => {});
  jest.spyOn(wx, 'hideLoading').mockImplementation(() => {});
  jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
  jest.spyOn(wx, 'showModal').mockImplementation((o) => o.success({ confirm: true }));
});

async function openMaterials() {
  const page = renderPage(pageId);
  page.instance.onLoad({ case_number: CASE_NUMBER });
  await settle();
  return page;
}

function entries(page) {
  return page.querySelectorAll('.entry');
}

async function tapIn(page, entryIndex, selector) {
  const node = page.querySelectorAll(selector).find((candidate) => {
    const index = candidate.toJSON().attrs.find((attr) => attr.name === 'data-index');
    return !index || Number(index.value) === entryIndex;
  });
  node.dispatchEvent('tap');
  await settle();
}

test('the checklist by item and role, with required badges, files and thumbnails fetched with the token', async () => {
  loggedIn('access-1');
  server();
  const downloads = fakeDownloads();

  const page = await openMaterials();

  expect(entries(page).map((node) => words(node.dom.querySelector('.page--entry__header')))).toEqual([
    '身份证明 出卖人 必需 已上传',
    '身份证明 买受人 必需',
    '存量房买卖合同 买受人 必需',
    '婚姻状况证明 出卖人 选填',
  ]);
  expect(textOf(page.querySelector('.materials__summary'))).toBe('尚缺 2 项必需材料');
  expect(textOf(page.querySelector('.file__name'))).toBe('身份证-5.jpg');
  expect(textOf(page.querySelector('.file__meta'))).toBe('1.5 MB · 2026-11-23 10:05');
  expect(downloads).toEqual([
    { url: `http://127.0.0.1:8000${FILE_BASE}/5/thumbnail`, header: { Authorization: 'Bearer access-1' } },
  ]);
  expect(page.querySelector('.file__thumb').toJSON().attrs).toContainEqual({ name: 'src', value: 'wxfile://tmp/5-thumbnail' });
});

test('uploading an image sends the file with item and role, then refreshes the checklist', async () => {
  loggedIn('access-1');
  let current = view();
  const requests = server({ materials: () => ({ data: current }) });
  fakeDownloads();
  chooseImage('wxfile://tmp/id-back.jpg');
  const uploads = fakeUploads(() => {
    current = view({ materials: [material(5), material(6, { role: 'buyer' })] });
    return { status: 201, data: material(6, { role: 'buyer' }) };
  });
  const page = await openMaterials();

  await tapIn(page, 1, '.entry__upload');

  expect(wx.chooseMedia).toHaveBeenCalledWith(expect.objectContaining({ count: 1, mediaType: ['image'] }));
  expect(uploads).toEqual([
    {
      url: `http://127.0.0.1:8000/api${BASE}/materials`,
      path: `${BASE}/materials`,
      filePath: 'wxfile://tmp/id-back.jpg',
      name: 'file',
      formData: { item: 'identity_document', role: 'buyer' },
      header: { Accept: 'application/json', Authorization: 'Bearer access-1' },
    },
  ]);
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '上传成功' }));
  expect(requests.filter((r) => r.path === `${BASE}/materials`)).toHaveLength(2);
  expect(words(entries(page)[1].dom.querySelector('.page--entry__header'))).toContain('已上传');
  expect(textOf(page.querySelector('.materials__summary'))).toBe('尚缺 1 项必需材料');
});

test('a PDF comes from a chat and replaces an uploaded file', async () => {
  loggedIn();
  server();
  fakeDownloads();
  jest.spyOn(wx, 'showActionSheet').mockImplementation((o) => o.success({ tapIndex: 1 }));
  jest.spyOn(wx, 'chooseMessageFile').mockImplementation((o) =>
    o.success({ tempFiles: [{ path: 'wxfile://tmp/contract.pdf', name: '合同.pdf', size: 2000, type: 'file' }] }),
  );
  const uploads = fakeUploads(() => ({ status: 201, data: material(7, { detected_type: 'pdf' }) }));
  const page = await openMaterials();

  await tapIn(page, 0, '.file__replace');

  expect(wx.chooseMessageFile).toHaveBeenCalledWith(expect.objectContaining({ count: 1, type: 'file', extension: ['pdf'] }));
  expect(uploads[0]).toMatchObject({ filePath: 'wxfile://tmp/contract.pdf' });
  expect(uploads[0].formData).toEqual({ item: 'identity_document', role: 'seller', replaces: '5', filename: '合同.pdf' });
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已替换' }));
});

test('a file too large is refused with the server’s Chinese message under its entry', async () => {
  loggedIn();
  server();
  fakeDownloads();
  chooseImage();
  fakeUploads(() => ({ status: 413, data: errorBody('MATERIAL_TOO_LARGE', '文件超过 10 MB，请压缩后重新上传') }));
  const page = await openMaterials();

  await tapIn(page, 2, '.entry__upload');

  expect(textIn(entries(page)[2], 'entry__error')).toBe('文件超过 10 MB，请压缩后重新上传');
  expect(textIn(entries(page)[1], 'entry__error')).toBeNull();
  expect(page.querySelector('.entry__progress')).toBeUndefined();
});

test('a proxy’s bare 413 and a network failure are explained in Chinese too', async () => {
  loggedIn();
  server();
  fakeDownloads();
  chooseImage();
  let answer = { status: 413, data: '<html><body>413 Request Entity Too Large</body></html>' };
  fakeUploads(() => answer);
  const page = await openMaterials();

  await tapIn(page, 2, '.entry__upload');
  expect(textIn(entries(page)[2], 'entry__error')).toBe('文件过大，请压缩后重新上传');

  answer = NETWORK_FAILURE;
  await tapIn(page, 2, '.entry__upload');
  expect(textIn(entries(page)[2], 'entry__error')).toBe('网络连接失败，请检查网络后重试');
});

test('cancelling the file choice uploads nothing', async () => {
  loggedIn();
  server();
  fakeDownloads();
  jest.spyOn(wx, 'showActionSheet').mockImplementation((o) => o.success({ tapIndex: 0 }));
  jest.spyOn(wx, 'chooseMedia').mockImplementation((o) => o.fail({ errMsg: 'chooseMedia:fail cancel' }));
  const uploads = fakeUploads(() => ({ status: 201, data: {} }));
  const page = await openMaterials();

  await tapIn(page, 1, '.entry__upload');

  expect(uploads).toHaveLength(0);
  expect(page.querySelector('.entry__error')).toBeUndefined();
});

test('withdrawing a file asks first, then refreshes', async () => {
  loggedIn();
  let current = view();
  const requests = server({
    materials: () => ({ data: current }),
    routes: {
      [`DELETE ${BASE}/materials/5`]: () => {
        current = view({ materials: [] });
        return { status: 204, data: '' };
      },
    },
  });
  fakeDownloads();
  const page = await openMaterials();

  await tapIn(page, 0, '.file__withdraw');

  expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '撤回材料' }));
  expect(requests.some((r) => r.method === 'DELETE' && r.path === `${BASE}/materials/5`)).toBe(true);
  expect(page.querySelector('.file')).toBeUndefined();
});

test('returned materials are highlighted with their reason; only they can be changed', async () => {
  loggedIn();
  server({
    materials: () => ({ data: view({ mayUpload: (item, role) => item === 'identity_document' && role === 'seller' }) }),
    detail: caseDetail({
      status: 'returned',
      allowed_actions: ['edit', 'upload_materials', 'submit', 'withdraw'],
      returned_items: [
        { kind: 'material', code: 'identity_document', name: '身份证明', role: 'seller', role_label: '出卖人', reason: '身份证照片模糊', department_label: '不动产登记中心' },
        { kind: 'section', code: 'transaction', name: '交易信息', role: null, role_label: null, reason: '价格有误', department_label: '税务局' },
      ],
    }),
  });
  fakeDownloads();
  const page = await openMaterials();

  expect(textOf(page.querySelector('.materials__returned'))).toBe('有 1 项材料被退回，请按退回原因重新上传。');
  const returned = page.querySelectorAll('.entry--returned');
  expect(returned).toHaveLength(1);
  expect(textIn(returned[0], 'entry__reason')).toBe('退回原因：不动产登记中心：身份证照片模糊');
  expect(page.querySelector('.materials__locked')).toBeUndefined();
  expect(page.querySelectorAll('.entry__upload')).toHaveLength(1);
  expect(entries(page)[0].dom.querySelector('.page--entry__upload')).not.toBeNull();
  expect(page.querySelectorAll('.file__replace')).toHaveLength(1);
  expect(page.querySelectorAll('.file__withdraw')).toHaveLength(1);

  page.querySelector('.materials__form-link').dispatchEvent('tap');
  await settle();
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: `/pages/case-form/index?case_number=${CASE_NUMBER}` });
});

test('a case under review shows its materials without upload or withdraw', async () => {
  loggedIn();
  server({
    materials: () => ({ data: view({ editable: false, lockedNotice: '办件当前状态不能修改材料，仅供查看' }) }),
    detail: caseDetail({ status: 'under_review', status_label: '审核中', allowed_actions: [] }),
  });
  fakeDownloads();

  const page = await openMaterials();

  expect(textOf(page.querySelector('.materials__locked'))).toBe('办件当前状态不能修改材料，仅供查看');
  expect(page.querySelector('.entry__upload')).toBeUndefined();
  expect(page.querySelector('.file__replace')).toBeUndefined();
  expect(page.querySelector('.file__withdraw')).toBeUndefined();
});

test('a case returned for its form only: the server says nothing may change, so the materials are read-only', async () => {
  loggedIn();
  server({
    materials: () => ({ data: view({ editable: false, lockedNotice: '本次退回无需补正材料，以下材料仅供查看' }) }),
    detail: caseDetail({
      status: 'returned',
      allowed_actions: ['edit', 'submit', 'withdraw'],
      returned_items: [
        { kind: 'section', code: 'transaction', name: '交易信息', role: null, role_label: null, reason: '价格有误', department_label: '税务局' },
      ],
    }),
  });
  fakeDownloads();
  const uploads = fakeUploads(() => ({ status: 201, data: {} }));

  const page = await openMaterials();

  expect(textOf(page.querySelector('.materials__locked'))).toBe('本次退回无需补正材料，以下材料仅供查看');
  expect(page.querySelector('.entry__upload')).toBeUndefined();
  expect(page.querySelector('.file__replace')).toBeUndefined();
  expect(page.querySelector('.file__withdraw')).toBeUndefined();
  expect(textOf(page.querySelector('.materials__form-link'))).toContain('去修改');
  expect(uploads).toHaveLength(0);
});

test('without the case detail the page cannot tell what may change: it offers a reload', async () => {
  loggedIn();
  let failing = true;
  server({
    routes: {
      [`GET ${BASE}`]: () => (failing ? NETWORK_FAILURE : { data: caseDetail() }),
    },
  });
  fakeDownloads();

  const page = await openMaterials();
  expect(textOf(page)).toContain('网络连接失败');
  expect(page.querySelector('.entry')).toBeUndefined();

  failing = false;
  page.querySelector('.materials__reload').dispatchEvent('tap');
  await settle();
  expect(entries(page)).toHaveLength(4);
  expect(page.querySelectorAll('.entry__upload')).toHaveLength(4);
});

test('tapping a file opens it: a PDF in the document viewer, an image in the previewer', async () => {
  loggedIn('access-1');
  server({ materials: () => ({ data: view({ materials: [material(5), material(8, { item: 'marriage_proof', detected_type: 'pdf', thumbnail_url: null })] }) }) });
  const downloads = fakeDownloads();
  jest.spyOn(wx, 'openDocument').mockImplementation((o) => o.success({}));
  jest.spyOn(wx, 'previewImage').mockImplementation((o) => o.success({}));
  const page = await openMaterials();

  const previews = page.querySelectorAll('.file__preview');
  expect(textOf(previews[1])).toBe('PDF');
  previews[1].dispatchEvent('tap');
  await settle();
  previews[0].dispatchEvent('tap');
  await settle();

  expect(wx.openDocument).toHaveBeenCalledWith(expect.objectContaining({ filePath: 'wxfile://tmp/8-file', fileType: 'pdf' }));
  expect(wx.previewImage).toHaveBeenCalledWith(expect.objectContaining({ urls: ['wxfile://tmp/5-file'] }));
  expect(downloads.every((d) => d.header.Authorization === 'Bearer access-1')).toBe(true);
});
