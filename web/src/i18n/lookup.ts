import type { Locale } from '../api/types';
import { en } from './en';
import { vi, type MessageKey, type Messages } from './vi';

export type { MessageKey, Messages };
export type Params = Record<string, string | number>;

export const CATALOGUES: Record<Locale, Messages> = { vi, en };
export const LOCALES: readonly Locale[] = ['vi', 'en'];
export const DEFAULT_LOCALE: Locale = 'vi';
export const LOCALE_STORAGE_KEY = 'hd_locale';

export function isLocale(x: unknown): x is Locale {
  return x === 'vi' || x === 'en';
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(vi, key);
}

/** Replace `{name}` placeholders; unknown placeholders are left as they are. */
export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** Look a key up in a locale's catalogue, falling back to Vietnamese, then to the key itself. */
export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  const template = CATALOGUES[locale]?.[key] ?? vi[key] ?? key;
  return interpolate(template, params);
}

/**
 * Look up a key built at run time (e.g. `role.${code}`); if no such key exists, return
 * `fallback` (or the last segment of the key).
 */
export function translateDynamic(locale: Locale, key: string, fallback?: string, params?: Params): string {
  if (isMessageKey(key)) return translate(locale, key, params);
  return fallback ?? key.slice(key.lastIndexOf('.') + 1);
}

/** Locale stored in localStorage, else Vietnamese (the browser's language is not consulted:
 * the product is Vietnamese first, English by an explicit switch). */
export function initialLocale(stored: string | null): Locale {
  return isLocale(stored) ? stored : DEFAULT_LOCALE;
}
