const { pageLoader } = require('../utils/page-loader');
const { ApiError } = require('../services/http');
const { deferred, settle } = require('./helpers/fake-wx');

// A page as WeChat gives it to the hooks: data and setData, plus the loader's methods.
function fakePage(options, data = {}) {
  const page = {
    data: Object.assign({ loading: false, loaded: false, errorMessage: '' }, data),
    setData(patch) {
      Object.assign(this.data, patch);
    },
  };
  return Object.assign(page, pageLoader(options));
}

function failure(message = '办件不存在或无权查看') {
  return new ApiError({ code: 'NOT_FOUND', message, status: 404 });
}

beforeEach(() => {
  jest.spyOn(wx, 'showToast').mockImplementation(() => {});
  jest.spyOn(wx, 'showModal').mockImplementation(() => {});
  jest.spyOn(wx, 'stopPullDownRefresh').mockImplementation(() => {});
});

test('shows what fetch answered, with `this` the page, and ends loading', async () => {
  const seen = [];
  const page = fakePage({
    fetch() {
      seen.push(this);
      return Promise.resolve({ name: '转移登记' });
    },
    show(item) {
      seen.push(this);
      return { title: item.name };
    },
  });

  const loading = page.load();
  expect(page.data.loading).toBe(true);
  await loading;

  expect(page.data).toMatchObject({ title: '转移登记', loading: false, loaded: true, errorMessage: '' });
  expect(seen).toEqual([page, page]);
});

test('nothing to load: the message takes the page’s place and nothing is asked', async () => {
  const fetch = jest.fn();
  const page = fakePage({ fetch, missing: () => '缺少办件编号' });

  await page.load();

  expect(fetch).not.toHaveBeenCalled();
  expect(page.data).toMatchObject({ loading: false, loaded: true, errorMessage: '缺少办件编号' });
});

test('a failure with nothing on screen is told in the page, not in a toast', async () => {
  const page = fakePage({ fetch: () => Promise.reject(failure()) });

  await page.load();

  expect(page.data).toMatchObject({ errorMessage: '办件不存在或无权查看', loading: false, loaded: true });
  expect(wx.showToast).not.toHaveBeenCalled();
});

test('a failure while a copy is on screen keeps it and shows a toast', async () => {
  let answer = () => Promise.resolve(['甲']);
  const page = fakePage(
    { fetch: () => answer(), show: (items) => ({ items }), shown() { return this.data.items.length > 0; } },
    { items: [] },
  );
  await page.load();

  answer = () => Promise.reject(failure('网络连接失败'));
  await page.load();

  expect(page.data).toMatchObject({ items: ['甲'], errorMessage: '', loading: false });
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '网络连接失败', icon: 'none' }));
});

test('by default a copy is on screen once a load succeeded and no error replaced it', async () => {
  const answers = [Promise.reject(failure('第一次失败')), Promise.resolve(1), Promise.reject(failure('第二次失败'))];
  answers[0].catch(() => {});
  answers[2].catch(() => {});
  const page = fakePage({ fetch: () => answers.shift(), show: (value) => ({ value }) });

  await page.load();
  expect(page.data.errorMessage).toBe('第一次失败');

  await page.load();
  expect(page.data).toMatchObject({ value: 1, errorMessage: '' });

  await page.load();
  expect(page.data).toMatchObject({ value: 1, errorMessage: '' });
  expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '第二次失败' }));
});

test('trying again clears the error in the page while loading, and sets it again on failure', async () => {
  const held = deferred();
  const answers = [Promise.reject(failure('服务暂时不可用')), held.promise];
  answers[0].catch(() => {});
  const page = fakePage({ fetch: () => answers.shift() });
  await page.load();

  const retry = page.onReload();
  expect(page.data).toMatchObject({ loading: true, errorMessage: '' });
  held.resolve(Promise.reject(failure('服务暂时不可用')));
  await retry;

  expect(page.data).toMatchObject({ loading: false, errorMessage: '服务暂时不可用' });
});

test('the latest load wins: an overtaken answer is dropped and does not end the loading', async () => {
  const first = deferred();
  const second = deferred();
  const answers = [first.promise, second.promise];
  const page = fakePage({ fetch: () => answers.shift(), show: (value) => ({ value }) });

  const one = page.load();
  const two = page.load();
  first.resolve('old');
  await one;
  expect(page.data).toMatchObject({ loading: true });
  expect(page.data.value).toBeUndefined();

  second.resolve('new');
  await two;
  expect(page.data).toMatchObject({ value: 'new', loading: false });
});

test('afterShow runs before the loading ends and learns whether its load is still the latest', async () => {
  const followUp = deferred();
  const calls = [];
  const page = fakePage({
    fetch: () => Promise.resolve('answer'),
    afterShow(result, sequence) {
      calls.push([result, this.isCurrentLoad(sequence)]);
      return followUp.promise;
    },
  });

  const loading = page.load();
  await settle();
  expect(calls).toEqual([['answer', true]]);
  expect(page.data.loading).toBe(true);

  followUp.resolve();
  await loading;
  expect(page.data.loading).toBe(false);
  expect(page.isCurrentLoad(page.loadSequence)).toBe(true);
  expect(page.isCurrentLoad(page.loadSequence - 1)).toBe(false);
});

test('an error key of the page’s own, and an error thrown while showing', async () => {
  const page = fakePage(
    {
      errorKey: 'loadError',
      fetch: () => Promise.resolve({}),
      show() {
        throw new Error('a bug');
      },
    },
    { loadError: '' },
  );
  jest.spyOn(console, 'error').mockImplementation(() => {});

  await page.load();

  expect(page.data).toMatchObject({ loadError: '操作失败，请稍后重试', errorMessage: '', loading: false });
});

test('pull-down refresh loads, then stops the animation, also after a failure', async () => {
  const fetch = jest.fn(() => Promise.reject(failure()));
  const page = fakePage({ fetch });

  await page.onPullDownRefresh();

  expect(fetch).toHaveBeenCalledTimes(1);
  expect(wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);
  expect(page.data.errorMessage).toBe('办件不存在或无权查看');
});

test('no page writes its own load() or pull-down refresh (pageLoader, or pagedList for lists)', () => {
  const fs = require('fs');
  const path = require('path');
  const { ROOT } = require('./helpers/page');
  const appJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
  const routes = appJson.pages.concat(...(appJson.subpackages || []).map((pkg) => pkg.pages.map((page) => `${pkg.root}/${page}`)));
  const sources = routes.map((route) => [route, fs.readFileSync(path.join(ROOT, `${route}.js`), 'utf8')]);

  // A load() or a pull-down refresh written by hand is the pattern again.
  const repeated = sources.filter(([, source]) => /\n {2}(async )?load\(|wx\.stopPullDownRefresh/.test(source)).map(([route]) => route);
  expect(repeated).toEqual([]);
});
