// Shared helpers for the browser end-to-end tests: one Chromium from the system (no browser
// download), two viewports, login and navigation helpers, screenshots.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE_URL = (process.env.HAIDANG_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const PASSWORD = process.env.HAIDANG_DEMO_PASSWORD || 'demo-Password-2025';
export const TIMEOUT = Number(process.env.HAIDANG_E2E_TIMEOUT || 15000);

const here = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.resolve(here, '..', 'test-results');

/** The two viewports every scenario runs in. */
export const VIEWPORTS = {
  desktop: { viewport: { width: 1366, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh context (no cookies, no localStorage) in the given viewport; `extra` adds context
 * options (e.g. `geolocation` and `permissions`).
 */
export async function newPage(browser, viewportName, extra = {}) {
  const context = await browser.newContext({
    ...VIEWPORTS[viewportName],
    ...extra,
    baseURL: BASE_URL,
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
    serviceWorkers: 'block',
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.jsErrors = errors;
  return page;
}

/** Fail early, with a clear message, when no server answers at HAIDANG_URL. */
export async function assertServerUp() {
  try {
    const res = await fetch(`${BASE_URL}/api/ui-config`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    throw new Error(`No Hải Đăng server at ${BASE_URL} (${e.message}); start the demo server or set HAIDANG_URL`);
  }
}

export const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);

/**
 * Fill and submit the login form; returns the answer to POST /api/auth/login. The server
 * limits login attempts (by default 10 a minute per address, successful ones included): on a
 * 429 this waits for Retry-After and submits again, so the suite's dozen logins fit.
 */
export async function submitLogin(page, username, password = PASSWORD, { maxWaits = 3 } = {}) {
  for (let attempt = 0; ; attempt++) {
    await byTestId(page, 'login-username').fill(username);
    await byTestId(page, 'login-password').fill(password);
    const answer = page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/auth/login' && r.request().method() === 'POST',
    );
    await byTestId(page, 'login-submit').click();
    const res = await answer;
    if (res.status() !== 429 || attempt >= maxWaits) return res;
    const wait = Math.min(65, Number(res.headers()['retry-after']) || 30);
    await page.waitForTimeout(wait * 1000 + 250);
  }
}

/** Log in through the login form and wait for the home page. */
export async function login(page, username, password = PASSWORD) {
  await page.goto('/login');
  await byTestId(page, 'login-page').waitFor();
  const res = await submitLogin(page, username, password);
  if (!res.ok()) {
    const text = await byTestId(page, 'login-error').innerText().catch(() => '');
    throw new Error(`login as ${username} failed: HTTP ${res.status()} ${text}`);
  }
  await byTestId(page, 'home-page').waitFor();
}

/** Open a module from the main navigation (through the menu button on a phone). */
export async function openModule(page, module) {
  const toggle = byTestId(page, 'nav-toggle');
  if (await toggle.isVisible()) {
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  }
  const link = byTestId(page, `nav-${module}`);
  // On a wide screen "profile" is reached through the user chip in the header.
  if (module === 'profile' && !(await link.isVisible())) {
    await byTestId(page, 'user-chip').click();
    return;
  }
  // ... and the report settings through the reports page.
  if (module === 'reports-admin' && !(await link.isVisible())) {
    await byTestId(page, 'nav-reports').click();
    await byTestId(page, 'reports-admin-link').click();
    return;
  }
  // ... and the device list through the monitoring page.
  if (module === 'devices' && !(await link.isVisible())) {
    await byTestId(page, 'nav-monitoring').click();
    await byTestId(page, 'mon-devices-link').click();
    return;
  }
  await link.click();
}

/** Full-page screenshot into test-results/<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  // From the top, so the sticky header sits where it belongs in the full-page picture.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

/** Text of the <html lang> attribute. */
export const htmlLang = (page) => page.evaluate(() => document.documentElement.lang);

/** Wait until the <html lang> attribute is `lang`. */
export async function waitForLang(page, lang) {
  await page.waitForFunction((l) => document.documentElement.lang === l, lang, { timeout: TIMEOUT });
}

/** Put the signed-in account's language back to Vietnamese (best effort, for test hygiene). */
export async function resetLocale(page) {
  try {
    await page.evaluate(async () => {
      const m = document.cookie.match(/(?:^|;\s*)hd_csrf=([^;]*)/);
      await fetch('/api/auth/me', {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json', ...(m ? { 'X-CSRF-Token': decodeURIComponent(m[1]) } : {}) },
        body: JSON.stringify({ locale: 'vi' }),
      });
      localStorage.setItem('hd_locale', 'vi');
    });
  } catch {
    /* the page may be gone */
  }
}
