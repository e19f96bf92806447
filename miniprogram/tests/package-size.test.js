// WeChat refuses an upload whose main package, or any subpackage, is over 2 MB,
// or whose packages together are over 20 MB. This measures what would be
// uploaded: the project folder minus what packOptions.ignore leaves out, the
// main package without the subpackages' folders.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ROOT } = require('./helpers/page');

const PACKAGE_LIMIT_BYTES = 2 * 1024 * 1024;
const TOTAL_LIMIT_BYTES = 20 * 1024 * 1024;
const EXCLUDED_DIRECTORIES = new Set(['node_modules', 'tests', 'coverage']);
const EXCLUDED_FILES = new Set(['package.json', 'package-lock.json', 'jest.config.js', 'eslint.config.js', 'README.md']);

const appJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
const SUBPACKAGE_ROOTS = (appJson.subpackages || []).map((pkg) => pkg.root);

// `skip`: folders of the root left out besides the excluded ones (the subpackages).
function packageBytes(directory, { isRoot = true, skip = [] } = {}) {
  let total = 0;
  fs.readdirSync(directory, { withFileTypes: true }).forEach((entry) => {
    const fullPath = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (isRoot && (EXCLUDED_DIRECTORIES.has(entry.name) || skip.includes(entry.name))) return;
      total += packageBytes(fullPath, { isRoot: false });
    } else if (entry.isFile()) {
      if (isRoot && EXCLUDED_FILES.has(entry.name)) return;
      total += fs.statSync(fullPath).size;
    }
  });
  return total;
}

function kib(bytes) {
  return `${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`;
}

test('the main package stays within WeChat’s 2 MB limit', () => {
  const bytes = packageBytes(ROOT, { skip: SUBPACKAGE_ROOTS });

  console.log(`main package: ${kib(bytes)}`);
  expect(bytes).toBeGreaterThan(0);
  expect(bytes).toBeLessThanOrEqual(PACKAGE_LIMIT_BYTES);
});

test.each(SUBPACKAGE_ROOTS)('the subpackage %s stays within 2 MB', (root) => {
  const bytes = packageBytes(path.join(ROOT, root), { isRoot: false });

  console.log(`${root}: ${kib(bytes)}`);
  expect(bytes).toBeGreaterThan(0);
  expect(bytes).toBeLessThanOrEqual(PACKAGE_LIMIT_BYTES);
});

test('all packages together stay within 20 MB', () => {
  const bytes = packageBytes(ROOT);

  expect(bytes).toBe(
    packageBytes(ROOT, { skip: SUBPACKAGE_ROOTS }) +
      SUBPACKAGE_ROOTS.reduce((sum, root) => sum + packageBytes(path.join(ROOT, root), { isRoot: false }), 0),
  );
  expect(bytes).toBeLessThanOrEqual(TOTAL_LIMIT_BYTES);
});

test('the measurement counts nested files and skips only the excluded ones and the subpackages', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-size-'));
  try {
    fs.mkdirSync(path.join(dir, 'pages', 'big'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'pages', 'big', 'index.js'), Buffer.alloc(PACKAGE_LIMIT_BYTES + 1));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.writeFileSync(path.join(dir, 'node_modules', 'huge.js'), Buffer.alloc(1000));
    fs.writeFileSync(path.join(dir, 'package-lock.json'), Buffer.alloc(500));
    fs.mkdirSync(path.join(dir, 'packageX', 'pages', 'a'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'packageX', 'pages', 'a', 'index.js'), Buffer.alloc(300));

    expect(packageBytes(dir, { skip: ['packageX'] })).toBe(PACKAGE_LIMIT_BYTES + 1);
    expect(packageBytes(path.join(dir, 'packageX'), { isRoot: false })).toBe(300);
    expect(packageBytes(dir)).toBe(PACKAGE_LIMIT_BYTES + 301);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('packOptions.ignore leaves the same files out of the upload', () => {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8'));
  const ignored = config.packOptions.ignore.map(({ type, value }) => `${type}:${value}`);

  EXCLUDED_DIRECTORIES.forEach((name) => expect(ignored).toContain(`folder:${name}`));
  EXCLUDED_FILES.forEach((name) => expect(ignored).toContain(`file:${name}`));
});
