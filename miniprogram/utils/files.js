// Files the server keeps behind the bearer token (materials, thumbnails, the
// application PDF): downloaded with the token, then opened by WeChat.
const { downloadFile } = require('../services/http');
const { callWx } = require('./wx-async');

async function openPdf(url) {
  const filePath = await downloadFile(url);
  await callWx('openDocument', { filePath, fileType: 'pdf', showMenu: true });
}

async function previewImage(url) {
  const filePath = await downloadFile(url);
  await callWx('previewImage', { urls: [filePath], current: filePath });
}

// 1536 -> "1.5 KB", 2621440 -> "2.5 MB".
function formatSize(bytes) {
  const size = Number(bytes) || 0;
  if (size >= 1024 * 1024) return `${(size / (1024 * 1024)).toFixed(1)} MB`;
  if (size >= 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${size} B`;
}

module.exports = { openPdf, previewImage, formatSize };
