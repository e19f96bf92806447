// A case's materials (一套材料): the checklist with the uploaded files, uploading
// (wx.uploadFile with the bearer token) and withdrawing a file.
const { request, upload } = require('./http');
const { casePath } = require('./cases');

const FILENAME_MAX_LENGTH = 200; // POST /cases/<n>/materials: filename

async function listMaterials(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/materials'));
  return data;
}

// The server takes at most 200 characters (code points) of the original file
// name. A longer one loses the end of its stem but keeps its extension (the
// server compares the extension with the content); a blank one is not sent.
function fitFilename(name) {
  const chars = Array.from(String(name || '').trim());
  if (chars.length <= FILENAME_MAX_LENGTH) return chars.join('');
  const dot = chars.lastIndexOf('.');
  const extension = dot > 0 && chars.length - dot <= 16 ? chars.slice(dot) : [];
  return chars.slice(0, FILENAME_MAX_LENGTH - extension.length).concat(extension).join('');
}

// `replaces`: the id of the material the new file takes the place of.
// `filename`: the file's original name when WeChat tells it (a file picked from
// a chat); photos have only temporary names, so nothing is sent for them.
async function uploadMaterial(caseNumber, { filePath, item, role, replaces, filename, onProgress }) {
  const formData = { item, role };
  if (replaces !== undefined && replaces !== null && replaces !== '') formData.replaces = String(replaces);
  const name = fitFilename(filename);
  if (name) formData.filename = name;
  return upload(casePath(caseNumber, '/materials'), { filePath, formData, onProgress });
}

async function withdrawMaterial(caseNumber, materialId) {
  const { data } = await request(casePath(caseNumber, `/materials/${encodeURIComponent(materialId)}`), {
    method: 'DELETE',
  });
  return data;
}

module.exports = { listMaterials, uploadMaterial, withdrawMaterial };
