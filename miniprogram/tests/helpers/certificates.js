// Answers of the certificate API (我的证书) shared by the page tests.
const NUMBER = '粤(2026)珠海市不动产权第0000001号';
const NEW_NUMBER = '粤(2026)珠海市不动产权第0000009号';
const PROOF_NUMBER = '粤(2026)珠海市不动产证明第0000002号';
// How the number travels in a path (wx.request gets it percent-encoded).
const ENCODED = encodeURIComponent(NUMBER);
const BASE = `/certificates/${ENCODED}`;
// The fake server decodes nothing: paths are compared as sent.
const CLAIM = { token: 'claim-1', expiresAt: Date.now() + 3600000 };

function summary(overrides = {}) {
  return {
    number: NUMBER,
    kind: 'certificate',
    kind_label: '不动产权证书',
    status: 'valid',
    status_label: '有效',
    issue_date: '2026-11-24',
    location: '珠海市香洲区海滨南路 88 号 1 栋 2 单元 1203 房',
    unit_number: '440402003001GB00012F00010203',
    revoked_at: null,
    revoked_reason: null,
    replaced_by: null,
    ...overrides,
  };
}

function revokedSummary(overrides = {}) {
  return summary({
    status: 'revoked',
    status_label: '已作废',
    revoked_at: '2026-11-25T02:30:00Z',
    revoked_reason: '记载有误（坐落）：门牌号有误',
    replaced_by: NEW_NUMBER,
    ...overrides,
  });
}

function detail(overrides = {}, content = {}) {
  return {
    ...summary(overrides),
    content: {
      number: NUMBER,
      kind: 'certificate',
      authority: '珠海市自然资源局',
      seal_text: '珠海市不动产登记中心',
      issue_date: '2026-11-24',
      holders: [
        { name: '张三', id_number: '440402199001010018', share: '1/2' },
        { name: '李梅', id_number: '4404**********0026', share: '1/2' },
      ],
      co_ownership: '按份共有',
      location: '珠海市香洲区海滨南路 88 号 1 栋 2 单元 1203 房',
      unit_number: '440402003001GB00012F00010203',
      right_type: '国有建设用地使用权/房屋所有权',
      right_nature: '出让/存量商品房',
      use: '城镇住宅用地/住宅',
      area: '共有宗地面积 12000.00 平方米/房屋建筑面积 89.50 平方米',
      term: '国有建设用地使用权 2006年05月01日起 2076年04月30日止',
      other: '专有建筑面积 76.20 平方米，分摊建筑面积 13.30 平方米',
      notes: '',
      matter: '',
      obligors: [],
      ...content,
    },
    content_hash: 'a'.repeat(64),
  };
}

module.exports = { NUMBER, NEW_NUMBER, PROOF_NUMBER, ENCODED, BASE, CLAIM, summary, revokedSummary, detail };
