// Installs the global `wx` stubs (and Component/Behavior) in every test file.
require('miniprogram-simulate');
