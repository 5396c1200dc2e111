// Field reports (issue 3), the whole loop in a real browser: a citizen reports from a phone,
// the IOC operator verifies and assigns it to the commune, the commune officer accepts and
// resolves it with a photo, the operator approves and publishes, the citizen sees the result
// and rates it; and another commune never sees the report.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BASE_URL, assertServerUp, byTestId, launchBrowser, login, newPage, screenshot } from '../lib/browser.js';
import {
  apiSession,
  byPlaceCategory,
  communeCentre,
  fillRequiredAttributes,
  findInInbox,
  openAction,
  pickUnit,
  pngFile,
  publicConfig,
  requiredAttributeValues,
  submitAction,
  submitPublicReport,
} from '../lib/reports.js';

const QUY_NHON = { q: 'Quy Nhon', code: '21583', name: 'Phường Quy Nhơn' };

let browser;
let config;
let category;
let centre;
before(async () => {
  await assertServerUp();
  browser = await launchBrowser();
  config = await publicConfig();
  category = byPlaceCategory(config);
  const operator = await apiSession('operator');
  try {
    centre = await communeCentre(operator, QUY_NHON.q, QUY_NHON.code);
  } finally {
    await operator.logout();
  }
});
after(async () => {
  await browser?.close();
});

describe('field reports', () => {
  test('citizen → operator → commune → operator → citizen: reported, handled, published, rated, closed', async () => {
    const citizen = await newPage(browser, 'phone', {
      geolocation: { latitude: centre.lat, longitude: centre.lon, accuracy: 10 },
      permissions: ['geolocation'],
    });
    const operator = await newPage(browser, 'desktop');
    const officer = await newPage(browser, 'phone');
    try {
      // 1. The citizen, on a phone, without an account.
      await citizen.goto('/login');
      await byTestId(citizen, 'login-public-new').click();
      await byTestId(citizen, 'new-report-form').waitFor();
      const parent = category.parent_id ? config.categories.find((c) => c.id === category.parent_id) : null;
      await citizen.getByRole('radio', { name: (parent ?? category).name_vi, exact: true }).check();
      if (parent) await citizen.getByLabel('Loại cụ thể').selectOption(String(category.id));
      await fillRequiredAttributes(citizen, category);
      const description = `Kiểm thử e2e ${Date.now()}: ổ gà lớn trước số 12, nguy hiểm cho xe máy.`;
      await citizen.getByLabel('Mô tả', { exact: true }).fill(description);
      await citizen.getByRole('button', { name: 'Dùng vị trí của tôi' }).click();
      await byTestId(citizen, 'pin-coords').waitFor();
      await byTestId(citizen, 'pin-marker').waitFor();
      await citizen.getByLabel('Địa chỉ, mô tả vị trí').fill('Trước số 12');
      await byTestId(citizen, 'photo-input').setInputFiles(pngFile('o-ga.png', 1));
      await byTestId(citizen, 'photo-preview').first().waitFor();
      await citizen.getByLabel('Tôi đồng ý cho xử lý dữ liệu cá nhân như trên.').check();
      await screenshot(citizen, 'phone-report-form');
      const sent = citizen.waitForResponse((r) => new URL(r.url()).pathname === '/api/public/reports' && r.request().method() === 'POST');
      await citizen.getByRole('button', { name: 'Gửi phản ánh', exact: true }).click();
      const sentRes = await sent;
      assert.equal(sentRes.status(), 201, `POST /api/public/reports answered ${sentRes.status()}: ${await sentRes.text()}`);
      const code = (await byTestId(citizen, 'report-code').innerText()).trim();
      assert.match(code, /^[A-Z0-9]{6,}$/);
      assert.ok(await byTestId(citizen, 'report-qr').isVisible(), 'a QR code to the tracking page');
      assert.equal(await byTestId(citizen, 'report-track-link').getAttribute('href'), `/p/track/${code}`);
      await screenshot(citizen, 'phone-report-sent');

      // 2. The operator finds it in the IOC queue, verifies it and assigns it to the commune.
      await login(operator, 'operator');
      const opRow = await findInInbox(operator, code);
      await opRow.first().waitFor();
      await opRow.first().getByRole('link', { name: code }).click();
      await byTestId(operator, 'report-detail').waitFor();
      assert.equal(await byTestId(operator, 'report-detail').getAttribute('data-status'), 'received');
      assert.match(await byTestId(operator, 'report-description-text').innerText(), /Kiểm thử e2e/);
      await byTestId(operator, 'report-photos-item').first().waitFor();
      await openAction(operator, 'verify');
      await submitAction(operator, 'verified');
      await openAction(operator, 'assign');
      await pickUnit(operator, 'action-unit', QUY_NHON.q, QUY_NHON.name);
      await byTestId(operator, 'action-note').fill('Đề nghị phường kiểm tra, xử lý.');
      await submitAction(operator, 'assigned');
      assert.match(await byTestId(operator, 'report-handler').innerText(), /Quy Nhơn/);
      await screenshot(operator, 'desktop-report-assigned');

      // 3. The commune officer, on a phone: the report is in the inbox; accept, then resolve with a photo.
      await login(officer, 'commune');
      const row = await findInInbox(officer, code);
      await row.first().waitFor();
      await screenshot(officer, 'phone-commune-inbox');
      await row.first().getByRole('link', { name: code }).click();
      await byTestId(officer, 'report-detail').waitFor();
      await openAction(officer, 'accept');
      await submitAction(officer, 'in_progress');
      await openAction(officer, 'resolve');
      await byTestId(officer, 'action-result').fill('Đã vá ổ gà bằng bê tông nhựa, đảm bảo an toàn giao thông.');
      await byTestId(officer, 'action-files').setInputFiles(pngFile('da-va.png', 2));
      const uploaded = officer.waitForResponse((r) => /\/api\/reports\/\d+\/attachments$/.test(new URL(r.url()).pathname) && r.request().method() === 'POST');
      await byTestId(officer, 'action-submit').click();
      const upRes = await uploaded;
      assert.equal(upRes.status(), 201, `attachment upload answered ${upRes.status()}`);
      await officer.locator('[data-testid="report-detail"][data-status="resolved"]').waitFor();
      await screenshot(officer, 'phone-report-resolved');

      // 4. The operator approves the result with the result photo and publishes it.
      await operator.reload();
      await byTestId(operator, 'report-detail').waitFor();
      await openAction(operator, 'approve');
      const publicText = byTestId(operator, 'action-public-result');
      assert.match(await publicText.inputValue(), /Đã vá ổ gà/);
      assert.ok(await byTestId(operator, 'action-publish').isChecked(), 'publish is the default');
      const photoBoxes = byTestId(operator, 'action-publish-photo');
      assert.ok((await photoBoxes.count()) >= 1, 'the result photo can be published');
      await submitAction(operator, 'published');

      // 5. The citizen follows the code: result, photo, rating → closed.
      await citizen.goto(`/p/track/${code}`);
      const tracked = byTestId(citizen, 'tracked-report');
      await tracked.waitFor();
      assert.equal(await tracked.getAttribute('data-status'), 'published');
      assert.match(await byTestId(citizen, 'public-result').innerText(), /Đã vá ổ gà/);
      await byTestId(citizen, 'result-photos-item').first().waitFor();
      assert.equal(await citizen.getByText('Đề nghị phường kiểm tra').count(), 0, 'internal notes are not public');
      await citizen.getByLabel('Hài lòng', { exact: true }).check();
      await citizen.getByLabel('Ý kiến thêm').fill('Cảm ơn phường.');
      const rated = citizen.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/rating') && r.request().method() === 'POST');
      await byTestId(citizen, 'rating-submit').click();
      assert.ok((await rated).ok(), 'the rating is accepted');
      await byTestId(citizen, 'rating-done').waitFor();
      await citizen.reload();
      await citizen.locator('[data-testid="tracked-report"][data-status="closed"]').waitFor();
      assert.equal(await byTestId(citizen, 'rating-form').count(), 0, 'no second rating');
      await screenshot(citizen, 'phone-report-closed');

      for (const p of [citizen, operator, officer]) assert.deepEqual(p.jsErrors, []);
    } finally {
      await citizen.context().close();
      await operator.context().close();
      await officer.context().close();
    }
  });

  test('an urgent report reaches the commune live: alarm banner and a new row without reloading', async () => {
    const page = await newPage(browser, 'desktop');
    try {
      await login(page, 'commune');
      await page.goto('/reports?view=all&wall=1');
      await byTestId(page, 'reports-table').waitFor();
      await page.locator('[data-testid="live-status"][data-state="online"]').waitFor();
      const sent = await submitPublicReport({
        categoryId: category.id,
        lat: centre.lat,
        lon: centre.lon,
        urgent: true,
        description: `Kiểm thử e2e khẩn ${Date.now()}: cây đổ chắn ngang đường.`,
        attributes: requiredAttributeValues(category),
      });
      const banner = byTestId(page, 'alarm-banner');
      await banner.filter({ hasText: sent.code }).waitFor();
      const row = byTestId(page, 'report-row').filter({ hasText: sent.code });
      await row.waitFor();
      assert.equal(await row.locator('[data-testid="urgent-badge"]').count(), 1, 'the row carries the urgent badge');
      await screenshot(page, 'desktop-reports-alarm-wall');
      await banner.getByRole('link', { name: sent.code }).click();
      await page.locator(`[data-testid="report-detail-code"]`).filter({ hasText: sent.code }).waitFor();
      assert.equal(await byTestId(page, 'alarm-banner').count(), 0, 'the opened alarm is dismissed');
      assert.deepEqual(page.jsErrors, []);
    } finally {
      await page.context().close();
    }
  });

  test('another commune (Phường Pleiku) does not see a Quy Nhơn report', async () => {
    const sent = await submitPublicReport({
      categoryId: category.id,
      lat: centre.lat,
      lon: centre.lon,
      description: `Kiểm thử e2e phạm vi ${Date.now()}: đèn đường hỏng.`,
      attributes: requiredAttributeValues(category),
    });
    const tracked = await (await fetch(`${BASE_URL}/api/public/track/${sent.code}`)).json();
    assert.ok(tracked.id > 0, 'the public tracking answer names the report id');
    const page = await newPage(browser, 'phone');
    try {
      await login(page, 'commune2');
      for (const view of ['inbox', 'all']) {
        const rows = await findInInbox(page, sent.code, view);
        assert.equal(await rows.count(), 0, `commune2 sees no row for ${sent.code} (${view})`);
      }
      // Not by address either.
      await page.goto(`/reports/${tracked.id}`);
      await byTestId(page, 'report-error').waitFor();
      assert.equal(await byTestId(page, 'report-detail').count(), 0);
      assert.deepEqual(page.jsErrors, []);
    } finally {
      await page.context().close();
    }
  });
});
