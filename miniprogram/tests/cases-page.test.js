const { loadPage, renderPage, textOf } = require('./helpers/page');
const { loggedIn, useMemoryStorage, fakeServer, NETWORK_FAILURE, settle } = require('./helpers/fake-wx');

function makeCase(n, overrides = {}) {
  const number = `ZH20261123${String(n).padStart(5, '0')}`;
  return {
    case_number: number,
    business_type: { code: 'transfer', name: '转移登记' },
    status: 'under_review',
    status_label: '审核中',
    unit: { unit_number: `440402001001GB0000${n}`, location: `香洲区人民东路${n}号` },
    created_at: '2026-11-20T01:00:00Z',
    updated_at: '2026-11-23T02:05:00Z',
    ...overrides,
  };
}

function pageOfCases(items, { page = 1, totalPages = 1, total = items.length } = {}) {
  const pagination = {
    total,
    total_pages: totalPages,
    first_page: 1,
    last_page: totalPages,
    page,
  };
  if (page > 1) pagination.previous_page = page - 1;
  if (page < totalPages) pagination.next_page = page + 1; // flask-smorest omits it on the last page
  return { data: items, header: { 'X-Pagination': JSON.stringify(pagination) } };
}

function range(from, to) {
  return Array.from({ length: to - from + 1 }, (_, i) => makeCase(from + i));
}

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/cases/index');
});

beforeEach(() => {
  jest.spyOn(wx, 'reLaunch').mockImplementation(() => {});
  jest.spyOn(wx, 'navigateTo').mockImplementation(() => {});
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'stopPullDownRefresh').mockImplementation(() => {});
});

async function showPage() {
  const page = renderPage(pageId);
  page.instance.onShow();
  await settle();
  return page;
}

function cards(page) {
  return page.querySelectorAll('.cases__item');
}

test('shows my cases with number, business type, status label, location and Beijing time', async () => {
  loggedIn();
  const requests = fakeServer(() =>
    pageOfCases([
      makeCase(1),
      makeCase(2, { status: 'draft', status_label: '草稿', unit: null, updated_at: '2026-11-23T16:30:00Z' }),
    ]),
  );

  const page = await showPage();

  expect(requests[0].path).toBe('/cases');
  expect(requests[0].query).toEqual({ page: '1', page_size: '20' });
  expect(cards(page)).toHaveLength(2);
  const first = textOf(cards(page)[0]);
  expect(first).toContain('ZH2026112300001');
  expect(first).toContain('转移登记');
  expect(first).toContain('审核中');
  expect(first).toContain('香洲区人民东路1号');
  expect(first).toContain('2026-11-23 10:05');
  const second = textOf(cards(page)[1]);
  expect(second).toContain('草稿');
  expect(second).toContain('尚未关联不动产单元');
  expect(second).toContain('2026-11-24 00:30');
  expect(textOf(page)).not.toContain('暂无办件');
});

test('says 暂无办件 when there are no cases', async () => {
  loggedIn();
  fakeServer(() => pageOfCases([]));

  const page = await showPage();

  expect(cards(page)).toHaveLength(0);
  expect(textOf(page)).toContain('暂无办件');
});

test('reaching the bottom loads the next page and appends it', async () => {
  loggedIn();
  const requests = fakeServer((req) =>
    req.query.page === '1'
      ? pageOfCases(range(1, 20), { page: 1, totalPages: 2, total: 25 })
      : pageOfCases(range(21, 25), { page: 2, totalPages: 2, total: 25 }),
  );
  const page = await showPage();
  expect(cards(page)).toHaveLength(20);

  page.instance.onReachBottom();
  await settle();

  expect(requests.map((r) => r.query.page)).toEqual(['1', '2']);
  expect(cards(page)).toHaveLength(25);
  expect(textOf(cards(page)[24])).toContain('ZH2026112300025');
  expect(textOf(page)).toContain('没有更多了');
});

test('reaching the bottom of the last page asks for nothing more', async () => {
  loggedIn();
  const requests = fakeServer(() => pageOfCases(range(1, 20), { page: 1, totalPages: 1 }));
  const page = await showPage();

  page.instance.onReachBottom();
  await settle();

  expect(requests).toHaveLength(1);
  expect(cards(page)).toHaveLength(20);
});

test('pulling down reloads the first page and ends the refresh animation', async () => {
  loggedIn();
  let answer = pageOfCases([makeCase(1)]);
  fakeServer(() => answer);
  const page = await showPage();

  answer = pageOfCases([makeCase(3), makeCase(1)]);
  await page.instance.onPullDownRefresh();
  await settle();

  expect(cards(page)).toHaveLength(2);
  expect(textOf(cards(page)[0])).toContain('ZH2026112300003');
  expect(wx.stopPullDownRefresh).toHaveBeenCalled();
});

test('tapping a case opens its detail page', async () => {
  loggedIn();
  fakeServer(() => pageOfCases([makeCase(7)]));
  const page = await showPage();

  cards(page)[0].querySelector('.case-card').dispatchEvent('tap');
  await settle();

  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/case-detail/index?case_number=ZH2026112300007' });
});

test('a network failure shows the Chinese message and a retry hint instead of 暂无办件', async () => {
  loggedIn();
  fakeServer(() => NETWORK_FAILURE);

  const page = await showPage();

  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '网络连接失败，请检查网络后重试' }));
  expect(textOf(page)).toContain('加载失败');
  expect(textOf(page)).not.toContain('暂无办件');
});

test('without a session the page sends the citizen to log in and asks the server nothing', async () => {
  useMemoryStorage();
  const requests = fakeServer(() => pageOfCases([]));

  await showPage();

  expect(wx.reLaunch).toHaveBeenCalledWith({ url: '/pages/login/index' });
  expect(requests).toHaveLength(0);
});

test('新建申请 opens the new application page', async () => {
  loggedIn();
  fakeServer(() => pageOfCases([]));
  const page = await showPage();

  expect(textOf(page.querySelector('.cases__new'))).toBe('新建申请');
  page.querySelector('.cases__new').dispatchEvent('tap');
  await settle();

  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/case-new/index' });
});
