// The checks WeChat DevTools would make when it compiles the project.
const fs = require('fs');
const path = require('path');
const { ROOT, loadPage, renderPage, textOf } = require('./helpers/page');

const appJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
const FOUR_FILES = ['.js', '.json', '.wxml', '.wxss'];
const SUBPACKAGES = appJson.subpackages || [];
const SUBPACKAGE_PAGES = SUBPACKAGES.flatMap((pkg) => pkg.pages.map((page) => `${pkg.root}/${page}`));
const ALL_PAGES = appJson.pages.concat(SUBPACKAGE_PAGES);

// Pages the server opens by path (subscription messages, short links, SMS links:
// app/notifications/templates.yaml, app/links/service.py): moving one breaks them.
const LINKED_BY_THE_SERVER = [
  'pages/cases/index',
  'pages/case-detail/index',
  'pages/case-payment/index',
  'pages/receipts/index',
  'pages/certificate/index',
  'pages/delivery/index',
];

function exists(route, ext) {
  return fs.existsSync(path.join(ROOT, `${route}${ext}`));
}

// The mini-program's own files, tests and tooling left out.
function sourceFiles(directory = ROOT) {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const fullPath = path.join(directory, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'tests', 'coverage'].includes(entry.name) ? [] : sourceFiles(fullPath);
    return /\.(js|wxml|json)$/.test(entry.name) ? [fullPath] : [];
  });
}

test('the login page opens first', () => {
  expect(appJson.pages[0]).toBe('pages/login/index');
});

test.each(ALL_PAGES)('%s has its four files, a Chinese title and components that exist', (route) => {
  FOUR_FILES.forEach((ext) => expect(exists(route, ext)).toBe(true));
  const pageJson = JSON.parse(fs.readFileSync(path.join(ROOT, `${route}.json`), 'utf8'));
  expect(pageJson.navigationBarTitleText).toMatch(/[\u4e00-\u9fa5]/);
  Object.values(pageJson.usingComponents || {}).forEach((componentPath) => {
    expect(componentPath).toMatch(/^\//); // absolute: the same from any package
    FOUR_FILES.forEach((ext) => expect(exists(componentPath.replace(/^\//, ''), ext)).toBe(true));
  });
});

test('the tab bar offers 我的办件 and 我的, as text only', () => {
  const tabs = appJson.tabBar.list;

  expect(tabs.map((tab) => tab.text)).toEqual(['我的办件', '我的']);
  tabs.forEach((tab) => {
    expect(appJson.pages).toContain(tab.pagePath); // tab pages must be in the main package
    expect(tab).not.toHaveProperty('iconPath');
  });
});

describe('subpackages', () => {
  test('identity verification and the certificate pages are subpackages of their own', () => {
    expect(SUBPACKAGES.map((pkg) => [pkg.root, pkg.name])).toEqual([
      ['packageKyc', 'kyc'],
      ['packageCertificate', 'certificate'],
    ]);
    SUBPACKAGES.forEach((pkg) => {
      expect(fs.statSync(path.join(ROOT, pkg.root)).isDirectory()).toBe(true);
      expect(pkg).not.toHaveProperty('independent'); // they use the main package's services
    });
  });

  test('no page is in two packages, and nothing in the main package lives under a subpackage root', () => {
    expect(new Set(ALL_PAGES).size).toBe(ALL_PAGES.length);
    appJson.pages.forEach((page) => SUBPACKAGES.forEach((pkg) => expect(page.startsWith(`${pkg.root}/`)).toBe(false)));
  });

  test('every page folder is declared (no page left behind by a move)', () => {
    const folders = ['pages', ...SUBPACKAGES.map((pkg) => `${pkg.root}/pages`)].flatMap((dir) =>
      fs.readdirSync(path.join(ROOT, dir)).map((name) => `${dir}/${name}/index`),
    );
    expect(folders.sort()).toEqual(ALL_PAGES.slice().sort());
  });

  test('preloadRule preloads declared packages from declared pages', () => {
    const packages = SUBPACKAGES.flatMap((pkg) => [pkg.root, pkg.name]);
    const rules = appJson.preloadRule || {};

    expect(rules['pages/case-detail/index'].packages).toEqual(expect.arrayContaining(['packageCertificate', 'packageKyc']));
    expect(rules['pages/me/index'].packages).toEqual(expect.arrayContaining(['packageKyc']));
    Object.keys(rules).forEach((page) => {
      expect(ALL_PAGES).toContain(page);
      expect(['all', 'wifi']).toContain(rules[page].network);
      rules[page].packages.forEach((name) => expect(packages).toContain(name));
    });
  });

  test('a subpackage requires only the main package and itself, never another subpackage', () => {
    SUBPACKAGES.forEach((pkg) => {
      sourceFiles(path.join(ROOT, pkg.root))
        .filter((file) => file.endsWith('.js'))
        .forEach((file) => {
          const source = fs.readFileSync(file, 'utf8');
          for (const [, target] of source.matchAll(/require\('([^']+)'\)/g)) {
            const resolved = path.relative(ROOT, path.resolve(path.dirname(file), target));
            const other = SUBPACKAGES.find((candidate) => candidate !== pkg && resolved.startsWith(`${candidate.root}/`));
            expect(other).toBeUndefined();
            expect(fs.existsSync(`${path.join(ROOT, resolved)}.js`)).toBe(true);
          }
        });
    });
  });
});

test('every page URL in the code names a declared page', () => {
  const urls = sourceFiles()
    .filter((file) => !file.endsWith('.json'))
    .flatMap((file) => Array.from(fs.readFileSync(file, 'utf8').matchAll(/['"`](\/(?:pages|package\w+\/pages)\/[\w-]+\/index)/g), (match) => [path.relative(ROOT, file), match[1]]));

  expect(urls.length).toBeGreaterThan(20);
  urls.forEach(([file, url]) => expect([file, ALL_PAGES.includes(url.slice(1))]).toEqual([file, true]));
});

test.each(LINKED_BY_THE_SERVER)('%s stays where the server’s links open it', (route) => {
  expect(appJson.pages).toContain(route);
});

test('the privacy text linked from the login page says what personal information is used for', () => {
  const page = renderPage(loadPage('pages/privacy/index'));

  expect(textOf(page)).toContain('个人信息保护说明');
  expect(textOf(page)).toContain('身份证号码');
});
