// WeChat refuses to upload a main package over 2 MB. This measures what would
// be uploaded: the project folder minus what packOptions.ignore leaves out.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ROOT } = require('./helpers/page');

const MAIN_PACKAGE_LIMIT_BYTES = 2 * 1024 * 1024;
const EXCLUDED_DIRECTORIES = new Set(['node_modules', 'tests', 'coverage']);
const EXCLUDED_FILES = new Set(['package.json', 'package-lock.json', 'jest.config.js', 'eslint.config.js']);

function mainPackageBytes(directory, isRoot = true) {
  let total = 0;
  fs.readdirSync(directory, { withFileTypes: true }).forEach((entry) => {
    const fullPath = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (isRoot && EXCLUDED_DIRECTORIES.has(entry.name)) return;
      total += mainPackageBytes(fullPath, false);
    } else if (entry.isFile()) {
      if (isRoot && EXCLUDED_FILES.has(entry.name)) return;
      total += fs.statSync(fullPath).size;
    }
  });
  return total;
}

test('the main package stays within WeChat’s 2 MB limit', () => {
  const bytes = mainPackageBytes(ROOT);

  console.log(`main package: ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`);
  expect(bytes).toBeGreaterThan(0);
  expect(bytes).toBeLessThanOrEqual(MAIN_PACKAGE_LIMIT_BYTES);
});

test('the measurement counts nested files and skips only the excluded ones', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-size-'));
  try {
    fs.mkdirSync(path.join(dir, 'pages', 'big'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'pages', 'big', 'index.js'), Buffer.alloc(MAIN_PACKAGE_LIMIT_BYTES + 1));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.writeFileSync(path.join(dir, 'node_modules', 'huge.js'), Buffer.alloc(1000));
    fs.writeFileSync(path.join(dir, 'package-lock.json'), Buffer.alloc(500));

    expect(mainPackageBytes(dir)).toBe(MAIN_PACKAGE_LIMIT_BYTES + 1);
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
