import { describe, expect, it } from 'vitest';
import {
  addDays,
  formatDate,
  formatDateTime,
  formatTime,
  startOfVnWeek,
  utcToVnInput,
  vnDayKey,
  vnInputToUtc,
} from '../lib/time';

describe('time in Asia/Ho_Chi_Minh', () => {
  it('shows UTC instants in Vietnam time (UTC+7)', () => {
    const s = formatDateTime('2025-01-01T17:30:00Z', 'vi');
    expect(s).toContain('02/01/2025');
    expect(s).toContain('00:30');
    expect(formatTime('2025-06-30T23:05:00Z', 'en')).toBe('06:05');
    expect(formatDate('2025-06-30T23:05:00Z', 'en')).toBe('01/07/2025');
  });

  it('returns empty text for missing or bad values', () => {
    expect(formatDateTime(null, 'vi')).toBe('');
    expect(formatDateTime('not a date', 'vi')).toBe('');
  });

  it('round-trips datetime-local values as Vietnam time', () => {
    expect(vnInputToUtc('2025-01-02T00:30')).toBe('2025-01-01T17:30:00.000Z');
    expect(vnInputToUtc('2025-01-02')).toBe('2025-01-01T17:00:00.000Z');
    expect(vnInputToUtc('')).toBeNull();
    expect(vnInputToUtc('garbage')).toBeNull();
    expect(utcToVnInput('2025-01-01T17:30:00Z')).toBe('2025-01-02T00:30');
  });

  it('finds Monday 00:00 Vietnam time', () => {
    // Sunday 2025-01-05 20:00 UTC is Monday 2025-01-06 03:00 in Vietnam.
    const monday = startOfVnWeek(new Date('2025-01-05T20:00:00Z'));
    expect(monday.toISOString()).toBe('2025-01-05T17:00:00.000Z');
    expect(vnDayKey(monday)).toBe('2025-01-06');
    // Sunday 2025-01-05 10:00 UTC is still Sunday in Vietnam: the week started 2024-12-30.
    expect(vnDayKey(startOfVnWeek(new Date('2025-01-05T10:00:00Z')))).toBe('2024-12-30');
    expect(vnDayKey(addDays(monday, 7))).toBe('2025-01-13');
  });
});
