// The checks WeChat DevTools would make when it compiles the project.
const fs = require('fs');
const path = require('path');
const { ROOT, loadPage, renderPage, textOf } = require('./helpers/page');

const appJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
const FOUR_FILES = ['.js', '.json', '.wxml', '.wxss'];

function exists(route, ext) {
  return fs.existsSync(path.join(ROOT, `${route}${ext}`));
}

test('the login page opens first', () => {
  expect(appJson.pages[0]).toBe('pages/login/index');
});

test.each(appJson.pages)('%s has its four files, a Chinese title and components that exist', (route) => {
  FOUR_FILES.forEach((ext) => expect(exists(route, ext)).toBe(true));
  const pageJson = JSON.parse(fs.readFileSync(path.join(ROOT, `${route}.json`), 'utf8'));
  expect(pageJson.navigationBarTitleText).toMatch(/[\u4e00-\u9fa5]/);
  Object.values(pageJson.usingComponents || {}).forEach((componentPath) => {
    FOUR_FILES.forEach((ext) => expect(exists(componentPath.replace(/^\//, ''), ext)).toBe(true));
  });
});

test('the tab bar offers 我的办件 and 我的, as text only', () => {
  const tabs = appJson.tabBar.list;

  expect(tabs.map((tab) => tab.text)).toEqual(['我的办件', '我的']);
  tabs.forEach((tab) => {
    expect(appJson.pages).toContain(tab.pagePath);
    expect(tab).not.toHaveProperty('iconPath');
  });
});

test('the privacy text linked from the login page says what personal information is used for', () => {
  const page = renderPage(loadPage('pages/privacy/index'));

  expect(textOf(page)).toContain('个人信息保护说明');
  expect(textOf(page)).toContain('身份证号码');
});
