// Time ranges of the history charts: presets, zooming in by a dragged span, zooming out.

import type { Locale } from '../api/types';
import { formatDate, formatDateTime, formatTime } from './time';

export type RangePreset = '24h' | '7d' | '30d';
export const RANGE_PRESETS: readonly RangePreset[] = ['24h', '7d', '30d'];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const PRESET_MS: Record<RangePreset, number> = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY };

/** The shortest span a zoom may reach, and the longest a zoom-out may reach. */
export const MIN_SPAN_MS = 10 * 60_000;
export const MAX_SPAN_MS = 366 * DAY;

/** A time range in milliseconds; `preset` while it follows "the last 24 h" etc. */
export interface TimeRange {
  from: number;
  to: number;
  preset: RangePreset | null;
}

export function presetRange(preset: RangePreset, now: number): TimeRange {
  return { from: now - PRESET_MS[preset], to: now, preset };
}

/**
 * The range dragged across a chart (Unix seconds, in either order), or null when it is too
 * short to be meant (a click) — under a tenth of the shortest span.
 */
export function zoomTo(aSec: number, bSec: number): TimeRange | null {
  let from = Math.min(aSec, bSec) * 1000;
  let to = Math.max(aSec, bSec) * 1000;
  if (!Number.isFinite(from) || !Number.isFinite(to) || to - from < MIN_SPAN_MS / 10) return null;
  if (to - from < MIN_SPAN_MS) {
    const mid = (from + to) / 2;
    from = mid - MIN_SPAN_MS / 2;
    to = mid + MIN_SPAN_MS / 2;
  }
  return { from: Math.round(from), to: Math.round(to), preset: null };
}

/** Twice the span around the same middle, not past `now`, at most a year. */
export function zoomOut(r: TimeRange, now: number): TimeRange {
  const span = Math.min(MAX_SPAN_MS, (r.to - r.from) * 2);
  const to = Math.min(now, (r.from + r.to) / 2 + span / 2);
  const from = to - span;
  return { from: Math.round(from), to: Math.round(to), preset: null };
}

/**
 * A tick of the time axis in Vietnam time: hours within two days (with the date at midnight),
 * dates beyond (with the hour when a tick is not at midnight).
 */
export function axisLabel(sec: number, spanSec: number, locale: Locale): string {
  const d = new Date(sec * 1000);
  const time = formatTime(d, locale);
  const date = formatDate(d, locale).slice(0, 5);
  if (spanSec <= 2 * 86_400) return time === '00:00' ? date : time;
  return time === '00:00' ? date : `${date} ${time}`;
}

/** "01/06/2025 08:00 – 02/06/2025 08:00" */
export function rangeText(r: TimeRange, locale: Locale): [string, string] {
  return [formatDateTime(new Date(r.from), locale), formatDateTime(new Date(r.to), locale)];
}
