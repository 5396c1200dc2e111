// 5. Every page opens without script errors (read-only visits), with a screenshot of each,
//    and the video-wall mode switches to the dark theme.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  VIEWPORTS,
  assertServerUp,
  byTestId,
  launchBrowser,
  login,
  newPage,
  openModule,
  screenshot,
} from '../lib/browser.js';

const PAGES = [
  ['duty', 'duty-page'],
  ['users', 'users-page'],
  ['tokens', 'tokens-page'],
  ['audit', 'audit-page'],
  ['profile', 'profile-page'],
  ['reports', 'reports-page'],
  ['reports-stats', 'stats-page'],
  ['reports-admin', 'reports-admin-page'],
];

let browser;
before(async () => {
  await assertServerUp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const vp of Object.keys(VIEWPORTS)) {
  describe(`all pages (${vp})`, () => {
    test('admin opens every module page; wall mode', async () => {
      const page = await newPage(browser, vp);
      try {
        await login(page, 'admin');
        for (const [module, testId] of PAGES) {
          await openModule(page, module);
          await byTestId(page, testId).waitFor();
          // Let the page's own requests settle (no spinner left) before the picture.
          await page.waitForFunction(() => !document.querySelector('.spinner'), undefined, { timeout: 10000 }).catch(() => undefined);
          assert.equal(await byTestId(page, 'forbidden').count(), 0, `${module} is allowed for admin`);
          await screenshot(page, `${vp}-page-${module}`);
        }
        // The audit page shows the hash-chain verification result.
        await openModule(page, 'audit');
        await byTestId(page, 'audit-verify-result').waitFor();

        // Video-wall mode: dark theme, large type; the header button turns it off again.
        await page.goto('/?wall=1');
        await byTestId(page, 'home-page').waitFor();
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
        await screenshot(page, `${vp}-home-wall`);
        await byTestId(page, 'wall-toggle').click();
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
        assert.deepEqual(page.jsErrors, []);
      } finally {
        await page.context().close();
      }
    });
  });
}
