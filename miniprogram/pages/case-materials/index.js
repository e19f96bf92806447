// One set of materials (一套材料): the checklist of the case by item and
// applicant role, each with its uploaded files. Files are uploaded once and
// read by every department; the server checks their type and size.
const { downloadFile, errorMessageOf, showError } = require('../../services/http');
const { getCase } = require('../../services/cases');
const { listMaterials, uploadMaterial, withdrawMaterial } = require('../../services/materials');
const { callWx } = require('../../utils/wx-async');
const { decodeQueryValue } = require('../../utils/kyc');
const { formatDateTime } = require('../../utils/time');
const { openPdf, previewImage, formatSize } = require('../../utils/files');
const { CASE_PAGES, caseUrl } = require('../../utils/case-actions');
const { pageLoader } = require('../../utils/page-loader');

const SOURCES = ['拍照或从相册选择图片', '从微信聊天选择 PDF 文件'];

function isCancel(err) {
  return /cancel/i.test(String((err && err.errMsg) || ''));
}

// One chosen file, {path, name}, or null when the citizen cancelled. `name` is
// the original file name of a file picked from a chat; photos from the camera
// or the album have only temporary names, so theirs is left empty.
async function chooseFile() {
  let tapIndex;
  try {
    ({ tapIndex } = await callWx('showActionSheet', { itemList: SOURCES }));
  } catch (err) {
    return null;
  }
  try {
    if (tapIndex === 0) {
      const { tempFiles } = await callWx('chooseMedia', {
        count: 1,
        mediaType: ['image'],
        sourceType: ['album', 'camera'],
      });
      return tempFiles && tempFiles[0] ? { path: tempFiles[0].tempFilePath, name: '' } : null;
    }
    const { tempFiles } = await callWx('chooseMessageFile', { count: 1, type: 'file', extension: ['pdf'] });
    return tempFiles && tempFiles[0] ? { path: tempFiles[0].path, name: tempFiles[0].name || '' } : null;
  } catch (err) {
    if (isCancel(err)) return null;
    throw err;
  }
}

function returnedReasonFor(returnedItems, item, role) {
  return (returnedItems || [])
    .filter((entry) => entry.kind === 'material' && entry.code === item && (!entry.role || entry.role === role))
    .map((entry) => (entry.department_label ? `${entry.department_label}：${entry.reason}` : entry.reason))
    .join('；');
}

function presentFile(material) {
  return {
    id: material.id,
    name: material.original_filename || '未命名文件',
    isPdf: material.detected_type === 'pdf',
    fileUrl: material.file_url,
    thumbnailUrl: material.thumbnail_url || '',
    thumbPath: '',
    sizeText: formatSize(material.size_bytes),
    uploadedText: formatDateTime(material.uploaded_at),
  };
}

// The server decides which entries this citizen may change now
// (`may_upload`: their own role's, and after a return only the returned ones);
// the case detail only adds the return's reasons.
function presentEntries(view, detail) {
  const materials = {};
  (view.materials || []).forEach((material) => {
    materials[material.id] = material;
  });
  const returnedItems = detail.returned_items || [];
  return (view.checklist || []).map((entry) => {
    const returnedReason = returnedReasonFor(returnedItems, entry.item, entry.role);
    return {
      key: `${entry.item}-${entry.role}`,
      item: entry.item,
      role: entry.role,
      name: entry.name,
      roleLabel: entry.role_label,
      required: Boolean(entry.required),
      present: Boolean(entry.present),
      files: (entry.material_ids || [])
        .filter((id) => materials[id])
        .map((id) => presentFile(materials[id])),
      returnedReason,
      editable: Boolean(entry.may_upload),
      error: '',
      uploading: false,
      progress: 0,
    };
  });
}

Page({
  data: {
    caseNumber: '',
    loading: true,
    loaded: false,
    loadError: '',
    editable: false,
    lockedNotice: '',
    complete: false,
    missingCount: 0,
    returnedCount: 0,
    returnedSections: false,
    entries: [],
  },

  onLoad(query) {
    this.caseNumber = decodeQueryValue(query && query.case_number);
    this.thumbs = {};
    this.setData({ caseNumber: this.caseNumber });
    return this.load();
  },

  ...pageLoader({
    errorKey: 'loadError',
    missing() {
      return this.caseNumber ? '' : '缺少办件编号';
    },
    // The view says what may change; the detail, what was returned and why.
    fetch() {
      return Promise.all([listMaterials(this.caseNumber), getCase(this.caseNumber)]);
    },
    show([view, detail]) {
      const entries = presentEntries(view, detail);
      const returnedItems = detail.returned_items || [];
      return {
        editable: Boolean(view.editable),
        lockedNotice: view.editable ? '' : view.locked_notice || '',
        complete: Boolean(view.complete),
        missingCount: (view.missing || []).length,
        returnedCount: entries.filter((entry) => entry.returnedReason).length,
        returnedSections: returnedItems.some((entry) => entry.kind === 'section'),
        entries,
      };
    },
    // The thumbnails follow; the list does not wait for them.
    afterShow() {
      this.loadThumbnails();
    },
    shown() {
      return this.data.entries.length > 0;
    },
  }),

  // Thumbnails need the bearer token, so <image> cannot fetch them itself.
  loadThumbnails() {
    const jobs = [];
    this.data.entries.forEach((entry, entryIndex) => {
      entry.files.forEach((file, fileIndex) => {
        if (!file.thumbnailUrl) return;
        const path = `entries[${entryIndex}].files[${fileIndex}].thumbPath`;
        if (this.thumbs[file.id]) {
          this.setData({ [path]: this.thumbs[file.id] });
          return;
        }
        jobs.push(
          downloadFile(file.thumbnailUrl)
            .then((tempPath) => {
              this.thumbs[file.id] = tempPath;
              const current = this.data.entries[entryIndex];
              if (current && current.files[fileIndex] && current.files[fileIndex].id === file.id) {
                this.setData({ [path]: tempPath });
              }
            })
            .catch(() => {
              // The file is listed without its picture.
            }),
        );
      });
    });
    return Promise.all(jobs);
  },

  entryAt(event) {
    const index = Number(event.currentTarget.dataset.index);
    return { index, entry: this.data.entries[index] };
  },

  async onUpload(event) {
    const { index, entry } = this.entryAt(event);
    if (!entry || !entry.editable || entry.uploading) return;
    const replaces = event.currentTarget.dataset.replaces;
    let file;
    try {
      file = await chooseFile();
    } catch (err) {
      this.setData({ [`entries[${index}].error`]: '未能读取所选文件，请重新选择' });
      return;
    }
    if (!file || !file.path) return;
    await this.upload(index, entry, file, replaces);
  },

  async upload(index, entry, file, replaces) {
    this.setData({
      [`entries[${index}].uploading`]: true,
      [`entries[${index}].progress`]: 0,
      [`entries[${index}].error`]: '',
    });
    try {
      await uploadMaterial(this.caseNumber, {
        filePath: file.path,
        filename: file.name,
        item: entry.item,
        role: entry.role,
        replaces,
        onProgress: (progress) => this.setData({ [`entries[${index}].progress`]: progress }),
      });
      wx.showToast({ title: replaces ? '已替换' : '上传成功', icon: 'success' });
      await this.load();
    } catch (err) {
      this.setData({ [`entries[${index}].error`]: errorMessageOf(err) });
    } finally {
      if (this.data.entries[index]) this.setData({ [`entries[${index}].uploading`]: false });
    }
  },

  async onWithdraw(event) {
    const { index, entry } = this.entryAt(event);
    const { id, name } = event.currentTarget.dataset;
    if (!entry || !entry.editable) return;
    const { confirm } = await callWx('showModal', {
      title: '撤回材料',
      content: `确定撤回“${name}”吗？撤回后需要重新上传。`,
      confirmText: '撤回',
      cancelText: '取消',
    });
    if (!confirm) return;
    try {
      await withdrawMaterial(this.caseNumber, id);
      wx.showToast({ title: '已撤回', icon: 'success' });
      await this.load();
    } catch (err) {
      this.setData({ [`entries[${index}].error`]: errorMessageOf(err) });
    }
  },

  async onPreview(event) {
    const { url, pdf } = event.currentTarget.dataset;
    wx.showLoading({ title: '正在打开', mask: true });
    try {
      if (pdf) await openPdf(url);
      else await previewImage(url);
    } catch (err) {
      if (!isCancel(err)) showError(err);
    } finally {
      wx.hideLoading();
    }
  },

  onOpenForm() {
    wx.navigateTo({ url: caseUrl(CASE_PAGES.form, this.caseNumber) });
  },
});
