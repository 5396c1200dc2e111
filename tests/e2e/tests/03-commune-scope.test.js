// 3. A commune officer sees only their own commune and no admin modules.
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

// Modules for administrators and the IOC only. (A commune officer may hold `users.read` for
// their own commune; then the users list is read-only: see below.)
const ADMIN_MODULES = ['tokens', 'audit'];

let browser;
before(async () => {
  await assertServerUp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const vp of Object.keys(VIEWPORTS)) {
  describe(`commune officer scope (${vp})`, () => {
    test('commune sees only Phường Quy Nhơn and no admin modules', async () => {
      const page = await newPage(browser, vp);
      try {
        await login(page, 'commune');
        for (const m of ADMIN_MODULES) {
          assert.equal(await byTestId(page, `tile-${m}`).count(), 0, `no ${m} tile`);
          assert.equal(await byTestId(page, `nav-${m}`).count(), 0, `no ${m} link`);
        }
        assert.ok(await byTestId(page, 'tile-org').isVisible());
        await screenshot(page, `${vp}-commune-home`);

        await openModule(page, 'org');
        const tree = byTestId(page, 'org-tree');
        await tree.waitFor();
        const nodes = tree.locator('[data-testid="org-node"]');
        await nodes.first().waitFor();
        assert.match(await nodes.first().locator('[data-testid="org-node-select"]').innerText(), /Phường Quy Nhơn/);
        assert.equal(await tree.locator('[data-testid="org-node"][data-type="province"]').count(), 0, 'no province node');
        await page.locator('[data-testid="org-detail"]').waitFor();
        assert.equal((await byTestId(page, 'org-detail-name').innerText()).trim(), 'Phường Quy Nhơn');
        assert.equal(await page.getByText('Phường Pleiku').count(), 0, 'another commune is not shown');

        // Searching for another commune finds nothing.
        await byTestId(page, 'org-search').fill('Pleiku');
        await page.locator('[data-testid="org-results-count"][data-count="0"]').waitFor();
        await screenshot(page, `${vp}-commune-org`);

        // Admin pages are refused even by direct address.
        await page.goto('/admin/tokens');
        await byTestId(page, 'forbidden').waitFor();
        await page.goto('/audit');
        await byTestId(page, 'forbidden').waitFor();
        // User management: either not offered at all, or a read-only list without create/edit.
        await page.goto('/admin/users');
        await page.locator('[data-testid="forbidden"], [data-testid="users-page"]').first().waitFor();
        assert.equal(await byTestId(page, 'user-create').count(), 0, 'no "add user" for a commune officer');
        assert.equal(await byTestId(page, 'user-edit').count(), 0, 'no "edit user" for a commune officer');
        assert.deepEqual(page.jsErrors, []);
      } finally {
        await page.context().close();
      }
    });
  });
}
