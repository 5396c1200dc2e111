// Pure logic of the field-report pages (no React, no DOM): the citizen's stepper, deadline
// colours and countdowns, photo checks, field-error mapping, map bounds, category tree and
// looks, query building, the working-calendar month grid and the stats chart scale.
import type { Query } from '../api/client';
import type {
  Category,
  CategoryRef,
  DeadlineState,
  PublicConfig,
  ReportStatus,
} from '../api/reports';
import type { Locale } from '../api/types';
import { vnInputToUtc } from './time';

/** The steps a citizen sees, in order. */
export const STEPS = ['received', 'verified', 'assigned', 'in_progress', 'resolved', 'published', 'closed'] as const;
export type Step = (typeof STEPS)[number];

/** Index in STEPS reached by a status; -1 for rejected and merged (shown apart). */
export function stepIndex(status: ReportStatus): number {
  switch (status) {
    case 'received':
      return 0;
    case 'verified':
    case 'returned':
      return 1;
    case 'assigned':
      return 2;
    case 'in_progress':
      return 3;
    case 'resolved':
    case 'approved':
      return 4;
    case 'published':
      return 5;
    case 'closed':
      return 6;
    default:
      return -1;
  }
}

export const FINAL_STATUSES: readonly ReportStatus[] = ['rejected', 'merged', 'closed'];
export const OPEN_STATUSES: readonly ReportStatus[] = ['received', 'verified', 'assigned', 'returned', 'in_progress', 'resolved', 'approved', 'published'];

/** Tone of a status badge: colour family used by the stylesheet (`status-tone-*`). */
export function statusTone(status: ReportStatus): 'new' | 'work' | 'done' | 'stop' | 'wait' {
  switch (status) {
    case 'received':
    case 'verified':
      return 'new';
    case 'assigned':
    case 'in_progress':
      return 'work';
    case 'returned':
    case 'resolved':
    case 'approved':
      return 'wait';
    case 'published':
    case 'closed':
      return 'done';
    default:
      return 'stop';
  }
}

/** Marker colour for a status (same families as the badges, readable on a map). */
export function statusColor(status: ReportStatus): string {
  return { new: '#1d5a8c', work: '#b45309', wait: '#7c3aed', done: '#17663a', stop: '#6b7280' }[statusTone(status)];
}

/** Colour class for a deadline state: green, amber, red; met/missed are grey/red. */
export function deadlineTone(state: DeadlineState | null | undefined): 'ok' | 'warn' | 'late' | 'none' {
  switch (state) {
    case 'on_track':
      return 'ok';
    case 'due_soon':
      return 'warn';
    case 'overdue':
    case 'missed':
      return 'late';
    default:
      return 'none';
  }
}

export interface Countdown {
  overdue: boolean;
  days: number;
  hours: number;
  minutes: number;
}

/** Time left until `due` (or past it), split into days, hours and minutes. */
export function countdown(due: string | Date, now: Date | number): Countdown {
  const d = due instanceof Date ? due.getTime() : new Date(due).getTime();
  const n = now instanceof Date ? now.getTime() : now;
  const diff = d - n;
  const total = Math.floor(Math.abs(diff) / 60_000);
  return {
    overdue: diff < 0,
    days: Math.floor(total / 1440),
    hours: Math.floor((total % 1440) / 60),
    minutes: total % 60,
  };
}

/** "2 ngày 3 giờ 5 phút" / "2d 3h 5m" (largest two units). */
export function formatDuration(c: Countdown, locale: Locale): string {
  const u = locale === 'vi' ? { d: ' ngày', h: ' giờ', m: ' phút' } : { d: 'd', h: 'h', m: 'm' };
  const parts: string[] = [];
  if (c.days) parts.push(`${c.days}${u.d}`);
  if (c.hours || c.days) parts.push(`${c.hours}${u.h}`);
  if (!c.days) parts.push(`${c.minutes}${u.m}`);
  return parts.slice(0, 2).join(' ');
}

export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
export const VIDEO_TYPES = ['video/mp4'];

export type FileProblem = 'type' | 'photoSize' | 'videoSize' | 'tooMany' | 'twoVideos' | null;

/** Why a file cannot be attached to a report (checked before upload), or null. */
export function fileProblem(
  file: { type: string; size: number },
  already: readonly { type: string }[],
  cfg: Pick<PublicConfig, 'max_photos' | 'max_photo_bytes' | 'max_video_bytes'>,
): FileProblem {
  if (already.length >= cfg.max_photos) return 'tooMany';
  const video = VIDEO_TYPES.includes(file.type);
  if (!video && !IMAGE_TYPES.includes(file.type)) return 'type';
  if (video) {
    if (already.some((f) => VIDEO_TYPES.includes(f.type))) return 'twoVideos';
    if (file.size > cfg.max_video_bytes) return 'videoSize';
  } else if (file.size > cfg.max_photo_bytes) return 'photoSize';
  return null;
}

/** `file[2]` → 2; anything else → null. */
export function fileFieldIndex(field: string): number | null {
  const m = /^file\[(\d+)\]$/.exec(field);
  return m ? Number(m[1]) : null;
}

/** `contact.phone` / `attributes.depth` → the key the form uses; a form field name as is. */
export function splitFieldErrors(errors: readonly { field: string; reason: string }[] | undefined): {
  fields: Record<string, string>;
  files: Record<number, string>;
} {
  const fields: Record<string, string> = {};
  const files: Record<number, string> = {};
  for (const e of errors ?? []) {
    const i = fileFieldIndex(e.field);
    if (i !== null) files[i] = files[i] ? `${files[i]}; ${e.reason}` : e.reason;
    else if (e.field === 'file') files[-1] = e.reason;
    else fields[e.field] = fields[e.field] ? `${fields[e.field]}; ${e.reason}` : e.reason;
  }
  return { fields, files };
}

/** "1,5 MB" style sizes. */
export function formatBytes(n: number, locale: Locale): string {
  const fmt = (v: number) => new Intl.NumberFormat(locale === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 1 }).format(v);
  if (n >= 1024 * 1024) return `${fmt(n / (1024 * 1024))} MB`;
  if (n >= 1024) return `${fmt(n / 1024)} KB`;
  return `${n} B`;
}

export type Bounds = [[number, number], [number, number]];

export function insideBounds(lat: number, lon: number, b: Bounds): boolean {
  return lat >= b[0][0] && lat <= b[1][0] && lon >= b[0][1] && lon <= b[1][1];
}

/** The nearest point inside the bounds. */
export function clampToBounds(lat: number, lon: number, b: Bounds): [number, number] {
  return [Math.min(b[1][0], Math.max(b[0][0], lat)), Math.min(b[1][1], Math.max(b[0][1], lon))];
}

export function boundsCentre(b: Bounds): [number, number] {
  return [(b[0][0] + b[1][0]) / 2, (b[0][1] + b[1][1]) / 2];
}

export function categoryName(c: CategoryRef | null | undefined, locale: Locale): string {
  if (!c) return '';
  return (locale === 'en' ? c.name_en : c.name_vi) || c.name_vi || c.name_en || c.code;
}

export interface CategoryNode {
  category: Category;
  children: Category[];
}

/** Top-level categories with their children, in the order given. */
export function categoryTree(categories: readonly Category[]): CategoryNode[] {
  const ids = new Set(categories.map((c) => c.id));
  const roots = categories.filter((c) => c.parent_id === null || !ids.has(c.parent_id));
  return roots.map((r) => ({ category: r, children: categories.filter((c) => c.parent_id === r.id) }));
}

/** The top-level ancestor of a category. */
export function rootOf(id: number, categories: readonly Category[]): Category | undefined {
  const byId = new Map(categories.map((c) => [c.id, c]));
  let c = byId.get(id);
  for (let i = 0; c && c.parent_id !== null && byId.has(c.parent_id) && i < 20; i++) c = byId.get(c.parent_id);
  return c;
}

const PALETTE = ['#0f766e', '#b45309', '#1d4ed8', '#9333ea', '#be123c', '#15803d', '#0e7490', '#a16207', '#4338ca', '#57534e'];

const ICON_RULES: [RegExp, string][] = [
  [/moi[-_ ]?truong|environment|rac|waste|o[-_ ]?nhiem|pollut/, 'leaf'],
  [/giao[-_ ]?thong|traffic|road|duong/, 'road'],
  [/xay[-_ ]?dung|construct|do[-_ ]?thi|urban|building/, 'building'],
  [/dien|electric|chieu[-_ ]?sang|light/, 'bolt'],
  [/nuoc|water|ngap|flood|thoat/, 'drop'],
  [/an[-_ ]?ninh|trat[-_ ]?tu|security|order|police/, 'shield'],
  [/y[-_ ]?te|health|dich/, 'health'],
];

/**
 * Icon name and colour of a top-level category. The contract gives neither: the server's
 * `icon`/`color` are used if present, else the icon is guessed from the code and the colour
 * comes from a fixed palette by position.
 */
export function categoryLook(c: Category, index: number): { icon: string; color: string } {
  const key = `${c.code} ${c.name_en}`.toLowerCase();
  const icon = c.icon || ICON_RULES.find(([re]) => re.test(key))?.[1] || 'pin';
  const color = c.color && /^#[0-9a-f]{3,8}$/i.test(c.color) ? c.color : PALETTE[index % PALETTE.length]!;
  return { icon, color };
}

export interface ReportFilters {
  view: 'inbox' | 'all';
  status: string[];
  category: string;
  urgent: '' | 'true' | 'false';
  deadline: '' | 'overdue' | 'due_soon' | 'on_track';
  channel: string;
  commune: string;
  from: string;
  to: string;
  q: string;
  sort: 'due' | '-received' | 'received' | '-updated';
}

export const EMPTY_REPORT_FILTERS: ReportFilters = {
  view: 'inbox',
  status: [],
  category: '',
  urgent: '',
  deadline: '',
  channel: '',
  commune: '',
  from: '',
  to: '',
  q: '',
  sort: 'due',
};

/** Staff list filters as API query parameters (dates read as Vietnam days). */
export function reportQuery(f: ReportFilters): Query {
  return {
    view: f.view,
    status: f.status.join(','),
    category: f.category,
    urgent: f.urgent,
    deadline: f.deadline,
    channel: f.channel,
    commune: f.commune,
    from: f.from ? vnInputToUtc(f.from) : undefined,
    to: f.to ? vnInputToUtc(nextDay(f.to)) : undefined,
    q: f.q.trim(),
    sort: f.sort,
  };
}

/** "2026-02-28" → "2026-03-01" (an inclusive end date becomes the next midnight). */
export function nextDay(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return date;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1));
  return d.toISOString().slice(0, 10);
}

/** Filters from a URL's search params (so a filtered inbox can be linked). */
export function filtersFromSearch(s: URLSearchParams): ReportFilters {
  const pick = <T extends string>(v: string | null, allowed: readonly T[], dflt: T): T =>
    v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : dflt;
  return {
    view: pick(s.get('view'), ['inbox', 'all'] as const, 'inbox'),
    status: (s.get('status') ?? '').split(',').filter(Boolean),
    category: s.get('category') ?? '',
    urgent: pick(s.get('urgent'), ['', 'true', 'false'] as const, ''),
    deadline: pick(s.get('deadline'), ['', 'overdue', 'due_soon', 'on_track'] as const, ''),
    channel: s.get('channel') ?? '',
    commune: s.get('commune') ?? '',
    from: s.get('from') ?? '',
    to: s.get('to') ?? '',
    q: s.get('q') ?? '',
    sort: pick(s.get('sort'), ['due', '-received', 'received', '-updated'] as const, 'due'),
  };
}

/** The inverse of filtersFromSearch, leaving defaults out. */
export function filtersToSearch(f: ReportFilters): string {
  const p = new URLSearchParams();
  const d = EMPTY_REPORT_FILTERS;
  for (const k of Object.keys(d) as (keyof ReportFilters)[]) {
    const v = f[k];
    const s = Array.isArray(v) ? v.join(',') : v;
    const ds = Array.isArray(d[k]) ? (d[k] as string[]).join(',') : d[k];
    if (s !== ds) p.set(k, s as string);
  }
  const qs = p.toString();
  return qs ? `?${qs}` : '';
}

export type DayKind = 'weekend' | 'holiday' | 'workday' | 'normal';

export interface GridDay {
  date: string; // YYYY-MM-DD
  day: number;
  weekday: number; // 0 = Monday … 6 = Sunday
  kind: DayKind;
  name: string | null;
}

/**
 * The weeks (Monday first) of a month, with `null` padding; each day's kind from the calendar's
 * exceptions: a `workday` entry is a make-up working day (usually a Saturday), a `holiday` is
 * off, Saturdays and Sundays are off otherwise.
 */
export function monthGrid(year: number, month: number, days: readonly { date: string; kind: 'holiday' | 'workday'; name: string }[]): (GridDay | null)[][] {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const first = new Date(Date.UTC(year, month - 1, 1));
  const count = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const lead = (first.getUTCDay() + 6) % 7;
  const cells: (GridDay | null)[] = Array.from({ length: lead }, () => null);
  for (let d = 1; d <= count; d++) {
    const date = `${year}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    const weekday = (lead + d - 1) % 7;
    const ex = byDate.get(date);
    const kind: DayKind = ex ? ex.kind : weekday >= 5 ? 'weekend' : 'normal';
    cells.push({ date, day: d, weekday, kind, name: ex?.name ?? null });
  }
  while (cells.length % 7) cells.push(null);
  const weeks: (GridDay | null)[][] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

/** A "nice" upper bound for a bar chart axis (1, 2, 5 × 10^n) and its tick step. */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 1 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const stepInt = Math.max(1, Math.round(step));
  return { max: Math.ceil(max / stepInt) * stepInt, step: stepInt };
}

/** Satisfaction as a whole percentage, or null when nobody rated. */
export function satisfactionPercent(s: { satisfied: number; unsatisfied: number; satisfaction_rate?: number | null }): number | null {
  if (typeof s.satisfaction_rate === 'number') return Math.round(s.satisfaction_rate <= 1 ? s.satisfaction_rate * 100 : s.satisfaction_rate);
  const n = s.satisfied + s.unsatisfied;
  return n ? Math.round((s.satisfied / n) * 100) : null;
}

/** Tracking codes are shown and compared upper-case, without spaces. */
export function normaliseCode(code: string): string {
  return code.replace(/[\s-]+/g, '').toUpperCase();
}

export interface Alarm {
  kind: string;
  id: number;
  code: string;
  title: string;
}

/** Read an `alarm` event's data; null if it is not an urgent-report alarm we can show. */
export function parseAlarm(data: unknown): Alarm | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  if (typeof d.id !== 'number') return null;
  return {
    kind: typeof d.kind === 'string' ? d.kind : 'urgent_report',
    id: d.id,
    code: typeof d.code === 'string' ? d.code : String(d.id),
    title: typeof d.title === 'string' ? d.title : '',
  };
}
