const { loadPage, renderPage, textOf } = require('./helpers/page');
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
