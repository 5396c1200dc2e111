// 2. Browse the org tree: the province, its 135 commune-level units, a search without
//    diacritics, a commune's detail and its map with the approximate-boundary label.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  TIMEOUT,
  VIEWPORTS,
  assertServerUp,
  byTestId,
  launchBrowser,
  login,
  newPage,
  openModule,
  screenshot,
} from '../lib/browser.js';

const COMMUNE_LEVEL = '[data-testid="org-node"][data-type="ward"], [data-testid="org-node"][data-type="commune"], [data-testid="org-node"][data-type="special_zone"]';

let browser;
before(async () => {
  await assertServerUp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const vp of Object.keys(VIEWPORTS)) {
  describe(`org tree and map (${vp})`, () => {
    test('province with 135 communes, search "Quy Nhon", detail and map', async () => {
      const page = await newPage(browser, vp);
      try {
        await login(page, 'admin');
        await openModule(page, 'org');
        await byTestId(page, 'org-page').waitFor();

        // The province is the root of the admin's tree; opening it lists its units.
        const province = page.locator('[data-testid="org-node"][data-code="52"]');
        await province.waitFor();
        assert.match(await province.locator('[data-testid="org-node-select"]').first().innerText(), /Gia Lai/);
        await province.locator('[data-testid="org-node-select"]').first().click();
        const detail = page.locator('[data-testid="org-detail"][data-code="52"]');
        await detail.waitFor();
        const count = byTestId(page, 'org-commune-count');
        await count.waitFor();
        assert.equal(await count.getAttribute('data-count'), '135');
        await page.waitForFunction(
          (sel) => document.querySelectorAll(sel).length === 135,
          COMMUNE_LEVEL,
          { timeout: TIMEOUT },
        );
        await screenshot(page, `${vp}-org-province`);

        // The type filter lists the same 135 commune-level units.
        await byTestId(page, 'org-type-filter').selectOption('commune-level');
        await page.locator('[data-testid="org-results-count"][data-count="135"]').waitFor();
        await byTestId(page, 'org-type-filter').selectOption('');

        // Search without diacritics.
        await byTestId(page, 'org-search').fill('Quy Nhon');
        const result = byTestId(page, 'org-result').filter({
          has: page.locator('.result-name', { hasText: /^Phường Quy Nhơn$/ }),
        });
        await result.first().waitFor();
        await screenshot(page, `${vp}-org-search`);
        await result.first().click();

        const name = byTestId(page, 'org-detail-name');
        await page.waitForFunction(
          () => document.querySelector('[data-testid="org-detail-name"]')?.textContent?.trim() === 'Phường Quy Nhơn',
          undefined,
          { timeout: TIMEOUT },
        );
        assert.equal((await name.innerText()).trim(), 'Phường Quy Nhơn');
        assert.match(await byTestId(page, 'org-detail-code').innerText(), /21583/);
        assert.match(await byTestId(page, 'org-breadcrumb').innerText(), /Gia Lai/);

        // The map draws its own layers (no tile server needed) and labels approximate areas.
        const map = byTestId(page, 'org-map');
        await map.locator('.leaflet-container').waitFor();
        await map.locator('path.unit-area, path.unit-centre').first().waitFor({ state: 'attached' });
        const legend = byTestId(page, 'map-legend-approximate');
        await legend.waitFor();
        assert.match(await legend.innerText(), /Ranh giới gần đúng/);
        assert.match(await byTestId(page, 'org-detail-boundary').innerText(), /Ranh giới gần đúng/);
        await map.scrollIntoViewIfNeeded();
        await screenshot(page, `${vp}-org-quy-nhon`);
        assert.deepEqual(page.jsErrors, []);
      } finally {
        await page.context().close();
      }
    });
  });
}
