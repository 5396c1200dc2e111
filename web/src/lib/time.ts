import type { Locale } from '../api/types';

// All times are stored and sent as UTC ISO strings and shown in Vietnam time.
export const TIME_ZONE = 'Asia/Ho_Chi_Minh';
/** Vietnam has used UTC+7 without daylight saving since 1975. */
const VN_OFFSET_MS = 7 * 60 * 60 * 1000;

function intlLocale(locale: Locale): string {
  return locale === 'vi' ? 'vi-VN' : 'en-GB';
}

const cache = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: Locale, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = locale + JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(intlLocale(locale), { timeZone: TIME_ZONE, ...opts });
    cache.set(key, f);
  }
  return f;
}

function toDate(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** e.g. "02/01/2025 00:30" (vi) / "02/01/2025, 00:30" (en), in Vietnam time. */
export function formatDateTime(value: string | Date | null | undefined, locale: Locale): string {
  const d = toDate(value);
  if (!d) return '';
  return formatter(locale, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(d);
}

/** Date only, in Vietnam time: "02/01/2025". */
export function formatDate(value: string | Date | null | undefined, locale: Locale): string {
  const d = toDate(value);
  if (!d) return '';
  return formatter(locale, { year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/** Time only, in Vietnam time: "00:30". */
export function formatTime(value: string | Date | null | undefined, locale: Locale): string {
  const d = toDate(value);
  if (!d) return '';
  return formatter(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

/** Weekday and date: "Thứ Năm, 02/01" / "Thu, 02/01". */
export function formatWeekday(value: string | Date | null | undefined, locale: Locale): string {
  const d = toDate(value);
  if (!d) return '';
  return formatter(locale, { weekday: locale === 'vi' ? 'long' : 'short', day: '2-digit', month: '2-digit' }).format(d);
}

/** Number with locale grouping, e.g. 1.234,5 (vi). */
export function formatNumber(n: number, locale: Locale, maxFractionDigits = 2): string {
  return new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: maxFractionDigits }).format(n);
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * A UTC instant as the value of an `<input type="datetime-local">` in Vietnam time,
 * "YYYY-MM-DDTHH:mm".
 */
export function utcToVnInput(value: string | Date | null | undefined): string {
  const d = toDate(value);
  if (!d) return '';
  const v = new Date(d.getTime() + VN_OFFSET_MS);
  return `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())}T${pad(v.getUTCHours())}:${pad(v.getUTCMinutes())}`;
}

/**
 * The value of a `datetime-local` (or `date`) input, read as Vietnam time, to a UTC ISO string
 * ("2025-01-01T17:30:00.000Z"). Returns null for an empty or malformed value.
 */
export function vnInputToUtc(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - VN_OFFSET_MS;
  const out = new Date(ms);
  return Number.isNaN(out.getTime()) ? null : out.toISOString();
}

/** Monday 00:00 Vietnam time of the week containing `at`, as a UTC Date. */
export function startOfVnWeek(at: Date): Date {
  const v = new Date(at.getTime() + VN_OFFSET_MS);
  const dow = (v.getUTCDay() + 6) % 7; // Monday = 0
  const midnight = Date.UTC(v.getUTCFullYear(), v.getUTCMonth(), v.getUTCDate()) - dow * 86_400_000;
  return new Date(midnight - VN_OFFSET_MS);
}

/** `days` × 24 h later. Vietnam has no DST, so days are always 24 h long. */
export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * 86_400_000);
}

/** The Vietnam calendar day ("YYYY-MM-DD") of a UTC instant. */
export function vnDayKey(value: string | Date): string {
  return utcToVnInput(value).slice(0, 10);
}

const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Infinity],
];

/**
 * How long ago (or ahead) `value` is from `now`, in the largest whole unit: "5 phút trước",
 * "2 hours ago". Under 10 seconds is "now". Empty for no time.
 */
export function formatRelative(value: string | Date | null | undefined, now: number, locale: Locale): string {
  const d = toDate(value);
  if (!d) return '';
  const rtf = new Intl.RelativeTimeFormat(intlLocale(locale), { numeric: 'auto' });
  let diff = (d.getTime() - now) / 1000;
  if (Math.abs(diff) < 10) return rtf.format(0, 'second');
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(diff) < size) return rtf.format(Math.trunc(diff), unit);
    diff /= size;
  }
  return '';
}
