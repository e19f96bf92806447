// One vocabulary of case actions for every channel. The server's tests write
// tests/fixtures/case-actions.json:
//   {"cases": [{"name": "resale_transfer/registered/filer", "detail": {…GET /cases/<n>…}}, …]}
// and every detail's `allowed_actions` must come out of the case page as exactly
// its buttons: the same actions, in the same order, nothing added from the status.
const fs = require('fs');
const path = require('path');
const { loadPage, renderPage } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, settle } = require('./helpers/fake-wx');

const FIXTURE = path.join(__dirname, 'fixtures', 'case-actions.json');

// Read here rather than required, so that a missing or broken file fails a
// test with a message instead of the whole file.
function readFixture() {
  try {
    const parsed = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
    return { cases: parsed && Array.isArray(parsed.cases) ? parsed.cases : [], error: null };
  } catch (err) {
    return { cases: [], error: err };
  }
}

const fixture = readFixture();

let pageId;

beforeAll(() => {
  pageId = loadPage('pages/case-detail/index');
});

async function renderedActions(detail) {
  loggedIn();
  const requests = fakeServer((req) =>
    req.method === 'GET' && req.path === `/cases/${encodeURIComponent(detail.case_number)}`
      ? { data: detail }
      : { status: 404, data: errorBody('NOT_FOUND', '未找到') },
  );
  const page = renderPage(pageId);
  page.instance.onLoad({ case_number: detail.case_number });
  await settle();
  expect(requests.map((r) => r.path)).toContain(`/cases/${encodeURIComponent(detail.case_number)}`);
  expect(page.instance.data.errorMessage).toBe('');
  return page.querySelectorAll('.actions__button').map((button) => button.dom.getAttribute('data-action'));
}

test('the fixture exists and lists cases with their details', () => {
  expect(fixture.error).toBeNull();
  expect(fixture.cases.length).toBeGreaterThan(0);
  fixture.cases.forEach((entry) => {
    expect(typeof entry.name).toBe('string');
    expect(entry.detail).toEqual(expect.objectContaining({ case_number: expect.any(String) }));
    expect(Array.isArray(entry.detail.allowed_actions)).toBe(true);
  });
});

// test.each refuses an empty table; the test above fails for an empty fixture.
const entries = fixture.cases.filter((entry) => entry && entry.detail && entry.detail.case_number);
(entries.length ? describe : describe.skip)('the case page shows exactly the server’s allowed_actions', () => {
  test.each(entries.map((entry) => [entry.name, entry.detail]))('%s', async (name, detail) => {
    expect(await renderedActions(detail)).toEqual(detail.allowed_actions);
  });
});

describe('what the page adds or drops on its own: nothing but unknown actions', () => {
  const { caseDetail } = require('./helpers/cases');

  test('an unknown action string is ignored, the known ones keep their order', async () => {
    const detail = caseDetail({ allowed_actions: ['withdraw', 'fly_to_the_moon', 'pay'] });

    expect(await renderedActions(detail)).toEqual(['withdraw', 'pay']);
  });

  test('a status alone (fees_assessed with no allowed action) shows no pay button', async () => {
    const detail = caseDetail({ status: 'fees_assessed', status_label: '待缴费', allowed_actions: [] });

    expect(await renderedActions(detail)).toEqual([]);
  });

  test('an issued certificate alone shows neither the certificate nor the delivery', async () => {
    const detail = caseDetail({ status: 'certificate_issued', status_label: '已发证', allowed_actions: [], materials_editable: true });

    expect(await renderedActions(detail)).toEqual([]);
  });
});
