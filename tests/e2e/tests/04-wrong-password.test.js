// 4. A wrong password shows an error and keeps the user on the login page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  PASSWORD,
  VIEWPORTS,
  assertServerUp,
  byTestId,
  launchBrowser,
  newPage,
  screenshot,
  submitLogin,
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
  describe(`wrong password (${vp})`, () => {
    test('shows the error next to the form', async () => {
      const page = await newPage(browser, vp);
      try {
        await page.goto('/login');
        // An account the other tests do not use; the successful login below resets its
        // failure count, so repeated runs do not lock it.
        const res = await submitLogin(page, 'soc', 'not-the-password');
        assert.equal(res.status(), 401);
        const err = byTestId(page, 'login-error');
        await err.waitFor();
        assert.match(await err.innerText(), /không đúng/);
        assert.match(new URL(page.url()).pathname, /^\/login/);
        assert.equal(await byTestId(page, 'home-page').count(), 0);
        await screenshot(page, `${vp}-login-wrong-password`);

        assert.ok((await submitLogin(page, 'soc', PASSWORD)).ok());
        await byTestId(page, 'home-page').waitFor();
        assert.deepEqual(page.jsErrors, []);
      } finally {
        await page.context().close();
      }
    });
  });
}
