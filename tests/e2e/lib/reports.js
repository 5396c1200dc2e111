// Helpers for the field-report tests: a tiny valid PNG, API sessions from Node (to look things
// up without clicking), the public configuration, and a few UI steps shared by the tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { BASE_URL, PASSWORD, TIMEOUT, byTestId } from './browser.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A valid RGB PNG of `width`×`height` with a colour gradient (decodes in any image library). */
export function pngBuffer(width = 64, height = 48, seed = 0) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 4 + seed) & 0xff;
      raw[row + 2 + x * 3] = (y * 5) & 0xff;
      raw[row + 3 + x * 3] = (128 + seed * 7) & 0xff;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Write a PNG into a fresh temporary directory and return its path. */
export function pngFile(name = 'photo.png', seed = 0) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'haidang-e2e-'));
  const file = path.join(dir, name);
  writeFileSync(file, pngBuffer(64, 48, seed));
  return file;
}

async function json(res, what) {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * Sign in over the API from Node (no browser) and return a tiny client with the session and
 * CSRF cookies. Waits out a 429 like the browser login does.
 */
export async function apiSession(username, password = PASSWORD) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${BASE_URL}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (res.status === 429 && attempt < 3) {
      const wait = Math.min(65, Number(res.headers.get('retry-after')) || 30);
      await new Promise((r) => setTimeout(r, wait * 1000 + 250));
      continue;
    }
    await json(res, `login ${username}`);
    const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
    const cookie = cookies.join('; ');
    const csrf = decodeURIComponent(cookies.find((c) => c.startsWith('hd_csrf='))?.slice(8) ?? '');
    const call = async (method, p, body) =>
      json(
        await fetch(`${BASE_URL}${p}`, {
          method,
          headers: { Cookie: cookie, 'X-CSRF-Token': csrf, ...(body ? { 'Content-Type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        }),
        `${method} ${p}`,
      );
    return {
      get: (p) => call('GET', p),
      post: (p, body) => call('POST', p, body ?? {}),
      del: (p) => call('DELETE', p),
      logout: () => call('POST', '/api/auth/logout').catch(() => undefined),
    };
  }
}

export async function publicConfig() {
  return json(await fetch(`${BASE_URL}/api/public/config`), 'GET /api/public/config');
}

/** A category routed by place (`rule.kind = by_place`), preferring one without required extras. */
export function byPlaceCategory(config) {
  const cats = config.categories.filter((c) => c.active !== false && c.rule?.kind === 'by_place');
  if (cats.length === 0) throw new Error('the demo has no active category handled by place');
  return cats.find((c) => !c.attributes?.some((a) => a.required)) ?? cats[0];
}

/**
 * The centre of a commune-level unit found by name through `GET /api/org-units?q=`, checked with
 * `GET /api/geo/locate` to fall inside that unit.
 */
export async function communeCentre(session, q, code) {
  const page = await session.get(`/api/org-units?q=${encodeURIComponent(q)}`);
  const items = Array.isArray(page) ? page : page.items;
  const unit = items.find((u) => u.code === code);
  if (!unit || unit.lat == null || unit.lon == null) throw new Error(`no centre for unit ${code} (${q})`);
  const at = await session.get(`/api/geo/locate?lat=${unit.lat}&lon=${unit.lon}`);
  if (at.unit?.code !== code) throw new Error(`the centre of ${unit.name} locates to ${at.unit?.name ?? 'nothing'}`);
  return { id: unit.id, name: unit.name, lat: unit.lat, lon: unit.lon };
}

/** Send a report through the public API (multipart, one PNG); returns `{code, status}`. */
export async function submitPublicReport({ categoryId, lat, lon, description, attributes, urgent = false }) {
  const form = new FormData();
  form.append(
    'report',
    JSON.stringify({ category_id: categoryId, description, lat, lon, urgent, consent: true, attributes }),
  );
  form.append('file', new Blob([pngBuffer(32, 32, 9)], { type: 'image/png' }), 'photo.png');
  const res = await fetch(`${BASE_URL}/api/public/reports`, { method: 'POST', body: form });
  return json(res, 'POST /api/public/reports');
}

/** Values for a category's required attributes, for the API. */
export function requiredAttributeValues(category) {
  const out = {};
  for (const a of category.attributes ?? []) {
    if (!a.required) continue;
    if (a.datatype === 'singlevaluelist') out[a.code] = a.values[0]?.key;
    else if (a.datatype === 'multivaluelist') out[a.code] = [a.values[0]?.key];
    else if (a.datatype === 'number') out[a.code] = '1';
    else if (a.datatype === 'datetime') out[a.code] = '2026-01-05T08:00:00Z';
    else out[a.code] = 'e2e';
  }
  return out;
}

/** Fill a category's required attributes in the report form (by their Vietnamese labels). */
export async function fillRequiredAttributes(page, category) {
  for (const a of category.attributes ?? []) {
    if (!a.required) continue;
    if (a.datatype === 'multivaluelist') {
      await page.getByRole('group', { name: a.label_vi }).getByLabel(a.values[0].name_vi).check();
      continue;
    }
    const input = page.locator(`[data-attribute="${a.code}"]`);
    if (a.datatype === 'singlevaluelist') await input.selectOption(a.values[0].key);
    else if (a.datatype === 'number') await input.fill('1');
    else if (a.datatype === 'datetime') await input.fill('2026-01-05T08:00');
    else await input.fill('e2e');
  }
}

/** Open the inbox filtered by a tracking code, through the filter form. */
export async function findInInbox(page, code, view = 'inbox') {
  await page.goto(view === 'all' ? '/reports?view=all' : '/reports');
  await byTestId(page, 'reports-page').waitFor();
  const form = byTestId(page, 'reports-filters');
  if (!(await form.isVisible())) await page.locator('.filter-panel > summary').click();
  await form.getByLabel('Từ khóa', { exact: true }).fill(code);
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/reports' && r.request().method() === 'GET');
  await byTestId(page, 'reports-apply').click();
  const res = await answer;
  if (!res.ok()) throw new Error(`GET /api/reports answered ${res.status()}`);
  // The table (or its "no rows" text) is drawn again after the answer.
  await page.waitForFunction(() => !document.querySelector('.spinner'), undefined, { timeout: TIMEOUT });
  return byTestId(page, 'report-row').filter({ hasText: code });
}

/**
 * Choose a unit in a UnitPicker (`testId`): type `query`, pick the option whose text contains
 * `name`. Works whether the picker starts empty or already holds a unit.
 */
export async function pickUnit(page, testId, query, name) {
  const picker = byTestId(page, testId);
  const chosen = byTestId(page, `${testId}-value`);
  if (await chosen.isVisible()) {
    if ((await chosen.innerText()).includes(name)) return;
    await picker.getByRole('button').first().click();
  }
  await byTestId(page, `${testId}-input`).fill(query);
  await byTestId(page, `${testId}-option`).filter({ hasText: name }).first().click();
  await chosen.filter({ hasText: name }).waitFor();
}

/** Click an action button of the report detail page and wait until the dialog is open. */
export async function openAction(page, action) {
  await byTestId(page, `action-${action}`).click();
  await byTestId(page, `action-form-${action}`).waitFor();
}

/** Submit the open action dialog; waits for the action's answer and the new status. */
export async function submitAction(page, status) {
  const answer = page.waitForResponse(
    (r) => /\/api\/reports\/\d+\/actions$/.test(new URL(r.url()).pathname) && r.request().method() === 'POST',
  );
  await byTestId(page, 'action-submit').click();
  const res = await answer;
  if (!res.ok()) throw new Error(`action answered ${res.status()}: ${await res.text()}`);
  await page.locator(`[data-testid="report-detail"][data-status="${status}"]`).waitFor();
}
