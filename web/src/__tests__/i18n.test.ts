import { describe, expect, it } from 'vitest';
import { en } from '../i18n/en';
import { vi } from '../i18n/vi';
import { initialLocale, interpolate, translate, translateDynamic } from '../i18n/lookup';

describe('i18n lookup', () => {
  it('returns Vietnamese and English strings', () => {
    expect(translate('vi', 'login.title')).toBe('Đăng nhập');
    expect(translate('en', 'login.title')).toBe('Sign in');
  });

  it('interpolates placeholders and leaves unknown ones', () => {
    expect(translate('vi', 'home.welcome', { name: 'Lan' })).toBe('Xin chào, Lan');
    expect(interpolate('{a} và {b}', { a: 1 })).toBe('1 và {b}');
    expect(interpolate('không có', undefined)).toBe('không có');
  });

  it('looks up dynamic keys with a fallback', () => {
    expect(translateDynamic('en', 'role.administrator')).toBe('Administrator');
    expect(translateDynamic('vi', 'unitType.ward')).toBe('Phường');
    expect(translateDynamic('vi', 'role.unknown_role')).toBe('unknown_role');
    expect(translateDynamic('vi', 'role.x', 'X!')).toBe('X!');
  });

  it('has the same keys in both catalogues, none empty', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(vi).sort());
    for (const [k, v] of Object.entries(en)) expect(v, k).not.toBe('');
    for (const [k, v] of Object.entries(vi)) expect(v, k).not.toBe('');
  });

  it('uses the same placeholders in both catalogues', () => {
    const names = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const k of Object.keys(vi) as (keyof typeof vi)[]) expect(names(en[k]), k).toEqual(names(vi[k]));
  });

  it('defaults to Vietnamese unless English was chosen', () => {
    expect(initialLocale(null)).toBe('vi');
    expect(initialLocale('fr')).toBe('vi');
    expect(initialLocale('en')).toBe('en');
  });
});
