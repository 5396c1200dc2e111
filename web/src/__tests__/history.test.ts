import { describe, expect, it } from 'vitest';
import { MAX_SPAN_MS, MIN_SPAN_MS, axisLabel, presetRange, zoomOut, zoomTo } from '../lib/history';

const H = 3_600_000;
const now = Date.parse('2025-06-10T12:00:00Z');

describe('history ranges', () => {
  it('presets end now', () => {
    expect(presetRange('24h', now)).toEqual({ from: now - 24 * H, to: now, preset: '24h' });
    expect(presetRange('30d', now).from).toBe(now - 30 * 24 * H);
  });
  it('zooms to a dragged span in either direction, widening a very short one', () => {
    const a = now / 1000 - 7200;
    const b = now / 1000 - 3600;
    expect(zoomTo(b, a)).toEqual({ from: now - 2 * H, to: now - H, preset: null });
    const short = zoomTo(a, a + 120)!;
    expect(short.to - short.from).toBe(MIN_SPAN_MS);
    expect(zoomTo(a, a + 5)).toBeNull();
    expect(zoomTo(Number.NaN, a)).toBeNull();
  });
  it('zooms out around the middle, never past now, at most a year', () => {
    expect(zoomOut({ from: now - 10 * H, to: now - 8 * H, preset: null }, now)).toEqual({ from: now - 11 * H, to: now - 7 * H, preset: null });
    expect(zoomOut({ from: now - 2 * H, to: now, preset: '24h' }, now)).toEqual({ from: now - 4 * H, to: now, preset: null });
    const big = zoomOut({ from: now - 300 * 24 * H, to: now, preset: null }, now);
    expect(big.to - big.from).toBe(MAX_SPAN_MS);
  });
  it('labels ticks with hours in Vietnam time for short spans, dates for long ones', () => {
    const t = Date.parse('2025-06-10T01:30:00Z') / 1000; // 08:30 in Vietnam
    expect(axisLabel(t, 86_400, 'vi')).toBe('08:30');
    expect(axisLabel(t, 5 * 86_400, 'vi')).toBe('10/06 08:30');
    expect(axisLabel(t, 30 * 86_400, 'en')).toBe('10/06 08:30');
    const midnight = Date.parse('2025-06-09T17:00:00Z') / 1000; // 00:00 on 10/06 in Vietnam
    expect(axisLabel(midnight, 86_400, 'vi')).toBe('10/06');
    expect(axisLabel(midnight, 7 * 86_400, 'vi')).toBe('10/06');
  });
});
