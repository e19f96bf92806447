// miniprogram-simulate only knows Component(). This shim turns the object a
// page passes to Page() into a component whose methods include the page hooks
// (onLoad, onShow, onReachBottom, ...), which the tests then call as WeChat would.
const path = require('path');
const simulate = require('miniprogram-simulate');

const ROOT = path.resolve(__dirname, '..', '..');

function installPageShim() {
  global.Page = (options) => {
    const methods = {};
    Object.keys(options).forEach((key) => {
      if (typeof options[key] === 'function') methods[key] = options[key];
    });
    global.Component({ data: options.data || {}, methods });
  };
}

// Jest keeps every module it has run, so a component file already loaded (say
// status-badge, as a child of case-card) would not call Component() again and
// a second load() would register nothing. A fresh module registry per load
// avoids that.
function load(route, tagName) {
  let id;
  jest.isolateModules(() => {
    id = simulate.load(path.join(ROOT, route), tagName, { rootPath: ROOT });
  });
  return id;
}

// Load once per test file (in beforeAll); render a fresh page per test.
function loadPage(route) {
  installPageShim();
  return load(route, 'page');
}

function loadComponent(route, tagName) {
  return load(route, tagName);
}

function renderPage(id) {
  const page = simulate.render(id);
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

// What the citizen reads, whitespace collapsed.
function textOf(node) {
  return (node.dom || node).textContent.replace(/\s+/g, ' ').trim();
}

// The texts of a node's <text> elements, one space apart: what textOf runs
// together ("出卖人张*") stays readable ("出卖人 张*").
function wordsOf(node) {
  return Array.from((node.dom || node).querySelectorAll('wx-text'))
    .map((element) => element.textContent.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join(' ');
}

// The text of the first element with `className` inside `node` (a node of a
// page, where querySelector only looks from the page itself), or null. The
// rendered DOM prefixes a page's classes with its tag name, "page--".
function textIn(node, className) {
  const element = node.dom.querySelector(`.page--${className}`);
  return element ? element.textContent.replace(/\s+/g, ' ').trim() : null;
}

module.exports = { ROOT, loadPage, loadComponent, renderPage, textOf, wordsOf, textIn };
