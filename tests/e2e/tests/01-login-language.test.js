// 1. Log in as admin, see the home page in Vietnamese, switch to English and back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  VIEWPORTS,
  assertServerUp,
  byTestId,
  htmlLang,
  launchBrowser,
  login,
  newPage,
  resetLocale,
  screenshot,
  waitForLang,
} from '../lib/browser.js';

let browser;
before(async () => {
  await assertServerUp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const vp of Object.keys(VIEWPORTS)) {
  describe(`home page and language switch (${vp})`, () => {
    test('admin sees Vietnamese, switches to English and back', async () => {
      const page = await newPage(browser, vp);
      try {
        await page.goto('/login');
        await byTestId(page, 'login-page').waitFor();
        assert.equal(await byTestId(page, 'product-name').innerText(), 'Hải Đăng');
        assert.match(await byTestId(page, 'product-subtitle').innerText(), /Trung tâm giám sát, điều hành thông minh/);
        await screenshot(page, `${vp}-login`);

        await login(page, 'admin');
        assert.equal(await htmlLang(page), 'vi');
        assert.match(await byTestId(page, 'home-welcome').innerText(), /Xin chào/);
        assert.match(await byTestId(page, 'tile-org').innerText(), /Cơ cấu tổ chức/);
        assert.ok(await byTestId(page, 'tile-users').isVisible(), 'admin sees the users module');
        assert.match(await byTestId(page, 'demo-banner').innerText(), /Dữ liệu minh họa/);
        await screenshot(page, `${vp}-home-vi`);

        // The choice is saved to the account (PATCH /api/auth/me {locale}).
        const saved = page.waitForResponse(
          (r) => new URL(r.url()).pathname === '/api/auth/me' && r.request().method() === 'PATCH',
        );
        await byTestId(page, 'lang-en').click();
        const res = await saved;
        assert.ok(res.ok(), `PATCH /api/auth/me answered ${res.status()}`);
        assert.equal(JSON.parse(res.request().postData() ?? '{}').locale, 'en');
        await waitForLang(page, 'en');
        assert.match(await byTestId(page, 'home-welcome').innerText(), /Welcome/);
        assert.match(await byTestId(page, 'tile-org').innerText(), /Organisation/);
        // The choice survives a reload (localStorage and the account's preference).
        await page.reload();
        await byTestId(page, 'home-page').waitFor();
        await waitForLang(page, 'en');
        assert.match(await byTestId(page, 'tile-org').innerText(), /Organisation/);
        await screenshot(page, `${vp}-home-en`);

        const savedVi = page.waitForResponse(
          (r) => new URL(r.url()).pathname === '/api/auth/me' && r.request().method() === 'PATCH',
        );
        await byTestId(page, 'lang-vi').click();
        await savedVi;
        await waitForLang(page, 'vi');
        assert.match(await byTestId(page, 'home-welcome').innerText(), /Xin chào/);
        assert.match(await byTestId(page, 'tile-org').innerText(), /Cơ cấu tổ chức/);
        assert.deepEqual(page.jsErrors, []);
      } finally {
        await resetLocale(page);
        await page.context().close();
      }
    });
  });
}
