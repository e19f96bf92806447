const { loadComponent, textOf } = require('./helpers/page');
const simulate = require('miniprogram-simulate');

const CASE = {
  case_number: 'ZH2026112300001',
  business_type: { code: 'transfer', name: '转移登记' },
  status: 'under_review',
  status_label: '审核中',
  unit: { unit_number: '440402001001GB00001F00010001', location: '珠海市香洲区人民东路1号1栋101房' },
  created_at: '2026-11-20T01:00:00Z',
  updated_at: '2026-11-23T16:30:00Z',
};

let caseCardId;
let statusBadgeId;
let emptyStateId;

beforeAll(() => {
  caseCardId = loadComponent('components/case-card/index', 'case-card');
  statusBadgeId = loadComponent('components/status-badge/index', 'status-badge');
  emptyStateId = loadComponent('components/empty-state/index', 'empty-state');
});

function render(id, properties) {
  const comp = simulate.render(id, properties);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

describe('case-card', () => {
  test('shows number, business type, status, location and the update time in Beijing time', () => {
    const card = render(caseCardId, { item: CASE });

    expect(textOf(card.querySelector('.case-card__number'))).toBe('ZH2026112300001');
    expect(textOf(card.querySelector('.case-card__type'))).toBe('转移登记');
    expect(textOf(card.querySelector('.case-card__location'))).toBe('珠海市香洲区人民东路1号1栋101房');
    expect(textOf(card.querySelector('.case-card__updated'))).toBe('2026-11-24 00:30');
    expect(textOf(card)).toContain('审核中');
  });

  test('says so when the case has no real-estate unit yet', () => {
    const card = render(caseCardId, { item: { ...CASE, unit: null } });

    expect(textOf(card.querySelector('.case-card__location'))).toBe('尚未关联不动产单元');
  });

  test('tapping the card reports its case number', async () => {
    const card = render(caseCardId, { item: CASE });
    const onSelect = jest.fn();
    card.addEventListener('select', onSelect);

    card.querySelector('.case-card').dispatchEvent('tap');
    await simulate.sleep(0);

    expect(onSelect).toHaveBeenCalledTimes(1);
    expect(onSelect.mock.calls[0][0].detail).toEqual({ caseNumber: 'ZH2026112300001' });
  });
});

describe('status-badge', () => {
  test.each([
    ['draft', '草稿', 'badge--muted'],
    ['returned', '已退回', 'badge--warning'],
    ['rejected', '不予受理', 'badge--danger'],
    ['completed', '已办结', 'badge--success'],
    ['under_review', '审核中', 'badge--progress'],
    ['a_status_added_later', '新状态', 'badge--progress'],
  ])('%s shows the server label %s in the %s colour', (status, label, toneClass) => {
    const badge = render(statusBadgeId, { status, label });
    const node = badge.querySelector('.badge');

    expect(textOf(node)).toBe(label);
    expect(node.dom.className).toContain(toneClass);
  });

  test('changes colour when the status changes', () => {
    const badge = render(statusBadgeId, { status: 'draft', label: '草稿' });

    badge.setData({ status: 'completed', label: '已办结' });

    expect(badge.querySelector('.badge').dom.className).toContain('badge--success');
    expect(textOf(badge)).toBe('已办结');
  });
});

describe('empty-state', () => {
  test('shows its text and hint', () => {
    const empty = render(emptyStateId, { text: '暂无办件', hint: '您提交的申请会显示在这里' });

    expect(textOf(empty.querySelector('.empty-state__text'))).toBe('暂无办件');
    expect(textOf(empty.querySelector('.empty-state__hint'))).toBe('您提交的申请会显示在这里');
  });

  test('shows no hint line when there is none', () => {
    const empty = render(emptyStateId, { text: '暂无办件' });

    expect(empty.querySelector('.empty-state__hint')).toBeUndefined();
  });
});
