// Field reports, the citizen's pages without an account: reached from the login page, the
// portal's map and list, the report form's own checks (nothing is sent while it is incomplete,
// wrong files are refused before upload), an unknown tracking code, and English.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VIEWPORTS, assertServerUp, byTestId, launchBrowser, newPage, screenshot, waitForLang } from '../lib/browser.js';
import { pngBuffer } from '../lib/reports.js';

let browser;
before(async () => {
  await assertServerUp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const vp of Object.keys(VIEWPORTS)) {
  describe(`public report pages (${vp})`, () => {
    test('portal, form checks, unknown code, English', async () => {
      const page = await newPage(browser, vp);
      const posted = [];
      page.on('request', (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/public/reports') posted.push(r);
      });
      try {
        // From the login page to the portal: a map and a list, no staff navigation.
        await page.goto('/login');
        await byTestId(page, 'login-public-portal').click();
        await byTestId(page, 'portal-page').waitFor();
        await byTestId(page, 'portal-map').locator('.leaflet-container, .leaflet-pane').first().waitFor({ state: 'attached' });
        await byTestId(page, 'portal-table').waitFor();
        assert.equal(await byTestId(page, 'main-nav').count(), 0, 'no staff navigation');
        await screenshot(page, `${vp}-public-portal`);

        // The form refuses to send while incomplete, and says why next to the fields.
        await byTestId(page, 'public-nav-new').click();
        await byTestId(page, 'new-report-form').waitFor();
        await page.getByRole('button', { name: 'Gửi phản ánh', exact: true }).click();
        await byTestId(page, 'form-invalid').waitFor();
        const form = byTestId(page, 'new-report-form');
        for (const text of ['Hãy chọn một lĩnh vực.', 'Hãy mô tả vấn đề', 'Hãy đặt ghim vị trí', 'Cần đồng ý để gửi phản ánh.']) {
          assert.ok(await form.getByText(text).first().isVisible(), `error shown: ${text}`);
        }
        assert.equal(posted.length, 0, 'nothing sent');

        // A tap on the map places the pin; the focused pin moves with the arrow keys.
        await byTestId(page, 'pin-map').click();
        const coords = byTestId(page, 'pin-coords');
        await coords.waitFor();
        const placed = await coords.innerText();
        await byTestId(page, 'pin-marker').focus();
        await page.keyboard.press('ArrowRight');
        await page.waitForFunction((t) => document.querySelector('[data-testid="pin-coords"]')?.textContent !== t, placed, { timeout: 5000 });

        // A GIF is refused before upload; a PNG gets a preview and can be removed.
        const input = byTestId(page, 'photo-input');
        await input.setInputFiles({ name: 'hoat-hinh.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a') });
        await form.getByText(/hoat-hinh\.gif: chỉ nhận ảnh/).waitFor();
        assert.equal(await byTestId(page, 'photo-preview').count(), 0);
        await input.setInputFiles({ name: 'anh.png', mimeType: 'image/png', buffer: pngBuffer(40, 30) });
        await byTestId(page, 'photo-preview').first().waitFor();
        await page.getByRole('button', { name: 'Gỡ ảnh 1' }).click();
        assert.equal(await byTestId(page, 'photo-preview').count(), 0);
        await screenshot(page, `${vp}-public-form-errors`);

        // An unknown tracking code.
        await byTestId(page, 'public-nav-track').click();
        await byTestId(page, 'track-page').waitFor();
        await page.getByLabel('Mã tra cứu').fill('khong-co-ma-nay');
        await page.getByRole('button', { name: 'Tra cứu', exact: true }).click();
        await byTestId(page, 'track-not-found').waitFor();
        assert.match(new URL(page.url()).pathname, /^\/p\/track\/KHONGCOMANAY$/);

        // English beside Vietnamese.
        await byTestId(page, 'lang-en').click();
        await waitForLang(page, 'en');
        await byTestId(page, 'public-nav-new').click();
        await page.getByRole('heading', { name: 'Report a problem' }).waitFor();
        await byTestId(page, 'lang-vi').click();
        await waitForLang(page, 'vi');
        assert.deepEqual(page.jsErrors, []);
      } finally {
        await page.context().close();
      }
    });
  });
}
