const { loadPage, renderPage, textOf } = require('./helpers/page');
const { loggedIn, fakeServer, errorBody, settle } = require('./helpers/fake-wx');

// 17:00 UTC on 23 November: still the 23rd on the test machine (Los Angeles),
// already the 24th in Beijing, so the earliest date is the 25th.
const NOW = Date.parse('2026-11-23T17:00:00Z');
let pageId;

beforeAll(() => {
  pageId = loadPage('packageKyc/pages/appointment/index');
});

beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
  jest.spyOn(wx, 'switchTab').mockImplementation(() => {});
});

function openAppointment() {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  return page;
}

async function fill(page, { date, note }) {
  if (date) page.querySelector('.appointment__picker').dispatchEvent('change', { detail: { value: date } });
  if (note) page.querySelector('.appointment__note').dispatchEvent('input', { detail: { value: note } });
  await settle();
}

async function submit(page) {
  page.querySelector('.appointment__submit').dispatchEvent('tap');
  await settle();
}

test('the date picker starts tomorrow in Beijing time', () => {
  loggedIn();
  const page = openAppointment();

  const attrs = page.querySelector('.appointment__picker').toJSON().attrs;
  expect(attrs).toContainEqual({ name: 'mode', value: 'date' });
  expect(attrs).toContainEqual({ name: 'start', value: '2026-11-25' });
  expect(textOf(page.querySelector('.appointment__date'))).toBe('请选择日期');
});

test('a chosen date and note are submitted and the appointment is confirmed', async () => {
  loggedIn();
  const requests = fakeServer(() => ({
    status: 201,
    data: { id: 31, status: 'requested', preferred_date: '2026-11-26' },
  }));
  const page = openAppointment();

  await fill(page, { date: '2026-11-26', note: ' 需要轮椅通道 ' });
  expect(textOf(page.querySelector('.appointment__date'))).toBe('2026-11-26');
  await submit(page);

  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({
    method: 'POST',
    path: '/kyc/appointments',
    data: { preferred_date: '2026-11-26', note: '需要轮椅通道' },
  });
  expect(textOf(page.querySelector('.appointment__confirmation'))).toContain('预约已提交');
  expect(textOf(page.querySelector('.appointment__confirmed-date'))).toBe('2026-11-26');
  expect(textOf(page.querySelector('.appointment__status'))).toBe('已提交，待窗口确认');
  expect(page.querySelector('.appointment__submit')).toBeUndefined();

  page.querySelector('.appointment__done').dispatchEvent('tap');
  await settle();
  expect(wx.switchTab).toHaveBeenCalledWith({ url: '/pages/me/index' });
});

test('the note is optional', async () => {
  loggedIn();
  const requests = fakeServer(() => ({ status: 201, data: { id: 32, status: 'requested', preferred_date: '2026-11-25' } }));
  const page = openAppointment();

  await fill(page, { date: '2026-11-25' });
  await submit(page);

  expect(requests[0].data).toEqual({ preferred_date: '2026-11-25', note: '' });
  expect(textOf(page)).toContain('预约已提交');
});

test('without a date nothing is sent and the citizen is asked to choose one', async () => {
  loggedIn();
  const requests = fakeServer(() => ({ status: 201, data: {} }));
  const page = openAppointment();

  await submit(page);

  expect(requests).toHaveLength(0);
  expect(textOf(page.querySelector('.appointment__error--date'))).toBe('请选择预约日期');
});

test('the server’s refusal of the date is shown under the date', async () => {
  loggedIn();
  fakeServer(() => ({
    status: 422,
    data: errorBody('VALIDATION_FAILED', '提交的信息有误', { fields: { preferred_date: ['该日期窗口不办公，请另选日期'] } }),
  }));
  const page = openAppointment();

  await fill(page, { date: '2026-11-28' });
  await submit(page);

  expect(textOf(page.querySelector('.appointment__error--date'))).toBe('该日期窗口不办公，请另选日期');
  expect(page.querySelector('.appointment__confirmation')).toBeUndefined();
});
