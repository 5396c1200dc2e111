import { describe, expect, it } from 'vitest';
import { csrfHeaders, needsCsrf, readCookie } from '../api/csrf';
import { problemSlug, withQuery } from '../api/client';

describe('CSRF header helper', () => {
  const cookies = 'theme=dark; hd_csrf=abc%2B123; other=1';

  it('reads cookies', () => {
    expect(readCookie(cookies, 'hd_csrf')).toBe('abc+123');
    expect(readCookie(cookies, 'missing')).toBeNull();
    expect(readCookie('', 'hd_csrf')).toBeNull();
    expect(readCookie('xhd_csrf=1', 'hd_csrf')).toBeNull();
  });

  it('adds the header to unsafe methods only', () => {
    for (const m of ['POST', 'put', 'PATCH', 'DELETE']) {
      expect(needsCsrf(m)).toBe(true);
      expect(csrfHeaders(m, cookies)).toEqual({ 'X-CSRF-Token': 'abc+123' });
    }
    for (const m of ['GET', 'HEAD', 'OPTIONS']) expect(csrfHeaders(m, cookies)).toEqual({});
  });

  it('sends no header when there is no cookie', () => {
    expect(csrfHeaders('POST', 'a=b')).toEqual({});
  });
});

describe('API helpers', () => {
  it('takes the slug from the problem type', () => {
    expect(problemSlug({ type: 'https://haidang.vn/problems/totp-required' }, 401)).toBe('totp-required');
    expect(problemSlug({}, 423)).toBe('locked');
    expect(problemSlug({ type: 'about:blank' }, 500)).toBe('internal');
    expect(problemSlug({ type: 'https://haidang.vn/problems/internal' }, 429)).toBe('rate-limited');
    expect(problemSlug({ type: 'https://haidang.vn/problems/validation' }, 422)).toBe('validation');
  });

  it('builds query strings, skipping empty values', () => {
    expect(withQuery('/api/x', { a: 1, b: '', c: null, d: 'Quy Nhơn' })).toBe('/api/x?a=1&d=Quy+Nh%C6%A1n');
    expect(withQuery('/api/x', {})).toBe('/api/x');
  });
});
