import { describe, expect, it } from 'vitest';
import type { Category } from '../api/reports';
import {
  EMPTY_REPORT_FILTERS,
  categoryLook,
  categoryTree,
  clampToBounds,
  countdown,
  deadlineTone,
  fileFieldIndex,
  fileProblem,
  filtersFromSearch,
  filtersToSearch,
  formatDuration,
  insideBounds,
  monthGrid,
  nextDay,
  parseAlarm,
  niceScale,
  normaliseCode,
  reportQuery,
  rootOf,
  satisfactionPercent,
  splitFieldErrors,
  stepIndex,
  type Bounds,
} from '../lib/reports';

const cat = (id: number, parent_id: number | null, code: string): Category => ({
  id,
  code,
  parent_id,
  name_vi: code,
  name_en: code,
  description_vi: '',
  description_en: '',
  rule: { kind: 'by_place' },
  field: null,
  normal_working_hours: 16,
  urgent_hours: 4,
  accept_within_minutes: 30,
  urgent_by_default: false,
  attributes: [],
  active: true,
  keywords: [],
});

describe('report stepper', () => {
  it('maps statuses to the citizen steps', () => {
    expect(stepIndex('received')).toBe(0);
    expect(stepIndex('returned')).toBe(1);
    expect(stepIndex('approved')).toBe(4);
    expect(stepIndex('closed')).toBe(6);
    expect(stepIndex('rejected')).toBe(-1);
    expect(stepIndex('merged')).toBe(-1);
  });
});

describe('deadlines', () => {
  it('colours states', () => {
    expect(deadlineTone('on_track')).toBe('ok');
    expect(deadlineTone('due_soon')).toBe('warn');
    expect(deadlineTone('overdue')).toBe('late');
    expect(deadlineTone(null)).toBe('none');
  });
  it('counts down and past the due time', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0);
    const c = countdown(new Date(now + (26 * 60 + 5) * 60_000), now);
    expect(c).toEqual({ overdue: false, days: 1, hours: 2, minutes: 5 });
    expect(formatDuration(c, 'vi')).toBe('1 ngày 2 giờ');
    const late = countdown(new Date(now - 45 * 60_000).toISOString(), now);
    expect(late.overdue).toBe(true);
    expect(formatDuration(late, 'en')).toBe('45m');
    expect(formatDuration(countdown(new Date(now + 90 * 60_000), now), 'en')).toBe('1h 30m');
  });
});

describe('photos', () => {
  const cfg = { max_photos: 2, max_photo_bytes: 1000, max_video_bytes: 5000 };
  it('checks type, size and count before upload', () => {
    expect(fileProblem({ type: 'image/png', size: 10 }, [], cfg)).toBeNull();
    expect(fileProblem({ type: 'image/gif', size: 10 }, [], cfg)).toBe('type');
    expect(fileProblem({ type: 'image/jpeg', size: 1001 }, [], cfg)).toBe('photoSize');
    expect(fileProblem({ type: 'video/mp4', size: 4000 }, [], cfg)).toBeNull();
    expect(fileProblem({ type: 'video/mp4', size: 6000 }, [], cfg)).toBe('videoSize');
    expect(fileProblem({ type: 'video/mp4', size: 10 }, [{ type: 'video/mp4' }], cfg)).toBe('twoVideos');
    expect(fileProblem({ type: 'image/png', size: 10 }, [{ type: 'image/png' }, { type: 'image/png' }], cfg)).toBe('tooMany');
  });
  it('maps file[n] problems to the n-th photo', () => {
    expect(fileFieldIndex('file[2]')).toBe(2);
    expect(fileFieldIndex('file')).toBeNull();
    const { fields, files } = splitFieldErrors([
      { field: 'description', reason: 'too short' },
      { field: 'file[2]', reason: 'not an image' },
      { field: 'contact.phone', reason: 'bad phone' },
    ]);
    expect(fields).toEqual({ description: 'too short', 'contact.phone': 'bad phone' });
    expect(files).toEqual({ 2: 'not an image' });
  });
});

describe('bounds', () => {
  const b: Bounds = [
    [12.5, 107.5],
    [14.7, 109.4],
  ];
  it('tests and clamps points', () => {
    expect(insideBounds(13.77, 109.22, b)).toBe(true);
    expect(insideBounds(10.8, 106.6, b)).toBe(false);
    expect(clampToBounds(10.8, 110, b)).toEqual([12.5, 109.4]);
  });
});

describe('categories', () => {
  const cats = [cat(1, null, 'moi-truong'), cat(2, 1, 'rac-thai'), cat(3, null, 'giao-thong'), cat(4, 99, 'orphan')];
  it('builds the tree and finds roots', () => {
    const tree = categoryTree(cats);
    expect(tree.map((n) => n.category.id)).toEqual([1, 3, 4]);
    expect(tree[0]!.children.map((c) => c.id)).toEqual([2]);
    expect(rootOf(2, cats)?.id).toBe(1);
  });
  it('guesses an icon and picks a colour', () => {
    expect(categoryLook(cats[0]!, 0).icon).toBe('leaf');
    expect(categoryLook(cats[2]!, 1).icon).toBe('road');
    expect(categoryLook({ ...cats[2]!, color: '#123456' }, 1).color).toBe('#123456');
    expect(categoryLook(cats[0]!, 0).color).not.toBe(categoryLook(cats[2]!, 1).color);
  });
});

describe('staff filters', () => {
  it('turns filters into the query, dates as Vietnam days', () => {
    const q = reportQuery({ ...EMPTY_REPORT_FILTERS, status: ['received', 'verified'], from: '2026-01-01', to: '2026-01-31', q: ' đường ' });
    expect(q.status).toBe('received,verified');
    expect(q.from).toBe('2025-12-31T17:00:00.000Z');
    expect(q.to).toBe('2026-01-31T17:00:00.000Z');
    expect(q.q).toBe('đường');
    expect(q.view).toBe('inbox');
    expect(nextDay('2026-02-28')).toBe('2026-03-01');
  });
  it('round-trips through the URL', () => {
    const f = { ...EMPTY_REPORT_FILTERS, view: 'all' as const, urgent: 'true' as const, status: ['assigned'] };
    const s = filtersToSearch(f);
    expect(s).toBe('?view=all&status=assigned&urgent=true');
    expect(filtersFromSearch(new URLSearchParams(s))).toEqual(f);
    expect(filtersFromSearch(new URLSearchParams('view=bogus&sort=x'))).toEqual(EMPTY_REPORT_FILTERS);
  });
});

describe('calendar grid', () => {
  it('lays out a month Monday first with weekends, holidays and make-up days', () => {
    // February 2026 starts on a Sunday.
    const weeks = monthGrid(2026, 2, [
      { date: '2026-02-16', kind: 'holiday', name: 'Tết' },
      { date: '2026-02-07', kind: 'workday', name: 'Làm bù' },
    ]);
    expect(weeks[0]!.slice(0, 6)).toEqual([null, null, null, null, null, null]);
    expect(weeks[0]![6]).toMatchObject({ date: '2026-02-01', kind: 'weekend', weekday: 6 });
    const all = weeks.flat().filter((d) => d !== null);
    expect(all).toHaveLength(28);
    expect(all.find((d) => d.date === '2026-02-16')?.kind).toBe('holiday');
    expect(all.find((d) => d.date === '2026-02-07')?.kind).toBe('workday');
    expect(all.find((d) => d.date === '2026-02-09')?.kind).toBe('normal');
    expect(weeks.every((w) => w.length === 7)).toBe(true);
  });
});

describe('stats', () => {
  it('picks a nice axis and a satisfaction figure', () => {
    expect(niceScale(0)).toEqual({ max: 1, step: 1 });
    expect(niceScale(37)).toEqual({ max: 40, step: 10 });
    expect(niceScale(7)).toEqual({ max: 8, step: 2 });
    expect(satisfactionPercent({ satisfied: 3, unsatisfied: 1, satisfaction_rate: null })).toBe(75);
    expect(satisfactionPercent({ satisfied: 0, unsatisfied: 0 })).toBeNull();
    expect(satisfactionPercent({ satisfied: 0, unsatisfied: 0, satisfaction_rate: 0.5 })).toBe(50);
  });
  it('normalises tracking codes', () => {
    expect(normaliseCode(' pa7k-3f9 qx2 ')).toBe('PA7K3F9QX2');
  });
});

describe('alarms', () => {
  it('reads urgent-report alarms from the live channel', () => {
    expect(parseAlarm({ kind: 'urgent_report', id: 7, code: 'PA1', title: 'Cây đổ' })).toEqual({ kind: 'urgent_report', id: 7, code: 'PA1', title: 'Cây đổ' });
    expect(parseAlarm({ id: 8 })).toEqual({ kind: 'urgent_report', id: 8, code: '8', title: '' });
    expect(parseAlarm({ id: '8' })).toBeNull();
    expect(parseAlarm(undefined)).toBeNull();
  });
});
