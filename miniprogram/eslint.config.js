const js = require('@eslint/js');
const globals = require('globals');
const wxml = require('eslint-plugin-wxml');
const wxmlParser = require('@wxml/parser');

const miniProgramGlobals = {
  wx: 'readonly',
  App: 'readonly',
  Page: 'readonly',
  Component: 'readonly',
  Behavior: 'readonly',
  getApp: 'readonly',
  getCurrentPages: 'readonly',
  requirePlugin: 'readonly',
  console: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
};

module.exports = [
  {
    ignores: ['node_modules/**', 'coverage/**', 'miniprogram_npm/**'],
  },
  {
    files: ['**/*.js'],
    ...js.configs.recommended,
    languageOptions: {
      // ES2018 is what every supported base library runs without transpiling.
      ecmaVersion: 2018,
      sourceType: 'commonjs',
      globals: { ...globals.commonjs, ...miniProgramGlobals },
    },
    rules: {
      ...js.configs.recommended.rules,
      'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'none' }],
      'prefer-const': 'error',
      'no-var': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['tests/**/*.js', '*.config.js'],
    languageOptions: {
      ecmaVersion: 2022,
      globals: { ...globals.node, ...globals.jest, ...globals.browser, ...miniProgramGlobals },
    },
  },
  {
    files: ['**/*.wxml'],
    plugins: { wxml },
    languageOptions: { parser: wxmlParser },
    rules: {
      'wxml/wx-key': 'error',
      'wxml/report-wxml-syntax-error': 'error',
      'wxml/report-wxs-syntax-error': 'error',
    },
  },
];
