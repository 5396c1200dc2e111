// 6. The smart-city data hub in the browser. The test writes its own stations through NGSI-LD
//    (a batch upsert per hour over the past six hours, so there is history), then:
//    the operator sees them on the map coloured by state, filters and sorts a list, opens a
//    station (values, commune, history chart, drag-to-zoom); the commune officer of Phường Quy
//    Nhơn does not see a station in Phường Pleiku; the admin provisions a device in the UI, sees
//    its key once, rotates it and deletes the device. Desktop and phone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VIEWPORTS, assertServerUp, byTestId, launchBrowser, login, newPage, openModule, screenshot } from '../lib/browser.js';
import { communeByName, contextToken, entityAt, hasTemporalApi, pointIn, upsert } from '../lib/ngsi.js';
import { apiSession } from '../lib/reports.js';

const RUN = `e2e${Date.now().toString(36)}`;
const urn = (type, name) => `urn:ngsi-ld:${type}:${RUN}-${name}`;
const HOURS = 6;

/** The stations, each with its final state (the last value of each series). */
const specs = (qn, pk) => [
  {
    id: urn('AirQualityObserved', 'good'),
    type: 'AirQualityObserved',
    name: `Trạm không khí ${RUN} A`,
    coordinates: qn[0],
    series: { airQualityIndex: [80, 70, 60, 55, 48, 45, 42], pm25: [30, 28, 25, 22, 18, 15, 12], pm10: [50, 45, 40, 38, 30, 28, 25] },
    units: { pm25: 'GQ', pm10: 'GQ' },
    state: 'aqi-good',
  },
  {
    id: urn('AirQualityObserved', 'bad'),
    type: 'AirQualityObserved',
    name: `Trạm không khí ${RUN} B`,
    coordinates: qn[1],
    static: { dataProvider: 'Hải Đăng demo' },
    series: { airQualityIndex: [90, 110, 130, 150, 160, 170, 175], pm25: [40, 55, 70, 85, 95, 100, 103.4], pm10: [60, 80, 100, 120, 130, 140, 150] },
    units: { pm25: 'GQ', pm10: 'GQ' },
    state: 'aqi-bad',
  },
  {
    id: urn('WaterObserved', 'river'),
    type: 'WaterObserved',
    name: `Trạm mực nước ${RUN}`,
    coordinates: qn[2],
    static: { floodAlertLevels: { I: 5, II: 6.5, III: 8 } },
    series: { height: [4.2, 4.8, 5.3, 5.9, 6.3, 6.6, 6.8], flow: [300, 350, 420, 500, 560, 600, 640] },
    state: 'flood-2',
  },
  {
    id: urn('Streetlight', 'lamp'),
    type: 'Streetlight',
    name: `Đèn đường ${RUN}`,
    coordinates: qn[3],
    series: { powerState: ['on'], status: ['ok', 'ok', 'ok', 'ok', 'ok', 'defectiveLamp'], illuminanceLevel: [0.8, 0.8, 0.8, 0.8, 0.8, 0.2] },
    state: 'light-fault',
  },
  {
    id: urn('WasteContainer', 'bin'),
    type: 'WasteContainer',
    name: `Thùng rác ${RUN}`,
    coordinates: qn[4],
    series: { fillingLevel: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.86], status: ['ok'] },
    state: 'waste-full',
  },
  {
    id: urn('WeatherObserved', 'rain'),
    type: 'WeatherObserved',
    name: `Trạm đo mưa ${RUN}`,
    coordinates: qn[5],
    series: { precipitation: [0, 0.5, 3, 8, 15, 20, 12] },
    state: 'rain-heavy',
  },
  {
    id: urn('AirQualityObserved', 'pleiku'),
    type: 'AirQualityObserved',
    name: `Trạm không khí ${RUN} Pleiku`,
    coordinates: [pk.lon, pk.lat],
    series: { airQualityIndex: [60], pm25: [20] },
    state: 'aqi-moderate',
    pleiku: true,
  },
];

let browser;
let stations;
let temporal = false;
let release = async () => {};

before(async () => {
  await assertServerUp();
  browser = await launchBrowser();
  const operator = await apiSession('operator');
  const qnUnit = await communeByName(operator, 'Quy Nhon', 'Phường Quy Nhơn');
  const pkUnit = await communeByName(operator, 'Pleiku', 'Phường Pleiku');
  const offsets = [
    [0, 0],
    [0.0012, 0.0012],
    [-0.0012, 0.0012],
    [0.0012, -0.0012],
    [-0.0012, -0.0012],
    [0, 0.0024],
  ];
  const qn = [];
  for (const [a, b] of offsets) qn.push(await pointIn(operator, qnUnit, a, b));
  await operator.logout();
  stations = specs(qn, pkUnit);

  const tk = await contextToken(`e2e data hub ${RUN}`);
  release = tk.release;
  // One batch an hour over the past hours, the last one now: the history the charts draw.
  const now = Date.now();
  for (let step = 0; step <= HOURS; step++) {
    const at = new Date(now - (HOURS - step) * 3_600_000 + (step === HOURS ? -5_000 : 0));
    await upsert(
      tk.token,
      stations.map((s) => entityAt(s, step, at, step === 0)),
    );
  }
  temporal = await hasTemporalApi(tk.token, stations[1].id);

  // An import connector the admin uploads a file to in the UI.
  const admin = await apiSession('admin');
  const me = await admin.get('/api/auth/me');
  await admin.post('/api/connectors', {
    id: `${RUN}-csv`,
    name: `Nhập số liệu KTTV ${RUN}`,
    unit_id: me.home_unit.id,
    kind: 'import',
    config: {
      mapping: {
        entityType: 'WeatherObserved',
        id: `urn:ngsi-ld:WeatherObserved:${RUN}-{Mã trạm}`,
        lon: 'Kinh độ',
        lat: 'Vĩ độ',
        attributes: { temperature: { from: 'Nhiệt độ', unitCode: 'CEL', kind: 'number' } },
      },
    },
  });
  await admin.logout();
});

after(async () => {
  await release();
  await browser?.close();
});

/** Sort the air-quality list by VN_AQI, highest first: the column header on a desktop, the sort menu on a phone. */
async function sortDesc(page, vp) {
  if (vp === 'phone') {
    await byTestId(page, 'mon-table-sort').selectOption('airQualityIndex:desc');
    return;
  }
  const th = page.locator('[data-testid="mon-table"] th', { hasText: 'Chỉ số VN_AQI' });
  await th.locator('button').click();
  await th.locator('button').click();
  assert.equal(await th.getAttribute('aria-sort'), 'descending');
}

const marker = (page, id) => page.locator(`[data-testid="mon-marker"][data-entity-id="${id}"]`);

for (const vp of Object.keys(VIEWPORTS)) {
  describe(`data hub (${vp})`, () => {
    test('operator: map coloured by state, a list filtered and sorted, a station with its history', async () => {
      const page = await newPage(browser, vp);
      try {
        await login(page, 'operator');
        await openModule(page, 'monitoring');
        await byTestId(page, 'monitoring-page').waitFor();
        await byTestId(page, 'mon-map').waitFor();
        // Every station of Quy Nhơn and Pleiku is on the province's map, coloured by its state.
        for (const s of stations) {
          const m = marker(page, s.id);
          await m.waitFor({ state: 'attached' });
          assert.match((await m.getAttribute('class')) ?? '', new RegExp(`\\bstate-${s.state}\\b`), `${s.name} is ${s.state}`);
        }
        // The legend counts per state; the domain switcher keeps one layer.
        assert.ok(Number(await byTestId(page, 'mon-legend-air').getAttribute('data-count')) >= 3);
        await byTestId(page, 'mon-attention-air').waitFor();
        await screenshot(page, `${vp}-monitoring-map`);
        await byTestId(page, 'mon-switch-water').click();
        await marker(page, stations[0].id).waitFor({ state: 'detached' });
        await marker(page, stations[2].id).waitFor({ state: 'attached' });
        assert.equal(await marker(page, stations[2].id).getAttribute('data-state'), 'flood-2');
        // A popup from the map leads to the station.
        await marker(page, stations[2].id).dispatchEvent('click');
        await byTestId(page, 'mon-popup').filter({ hasText: stations[2].name }).waitFor();
        await byTestId(page, 'mon-switch-all').click();
        await marker(page, stations[0].id).waitFor({ state: 'attached' });

        // The air-quality list: the test's stations, sorted by index, filtered by state.
        await byTestId(page, 'mon-list-link-air').click();
        await byTestId(page, 'mon-list-page').waitFor();
        await byTestId(page, 'mon-table-filter').fill(RUN);
        const rows = byTestId(page, 'mon-row');
        await page.waitForFunction(
          () => document.querySelectorAll('[data-testid="mon-row"]').length === 3,
          undefined,
          { timeout: 15000 },
        );
        await sortDesc(page, vp);
        assert.match(await rows.nth(0).innerText(), / B\b/);
        assert.equal(await rows.nth(0).locator('[data-testid="state-chip"]').getAttribute('data-state'), 'aqi-bad');
        assert.match(await rows.nth(2).innerText(), / A\b/);
        await rows.nth(0).locator('[data-testid="simulated-badge"]').waitFor();
        await byTestId(page, 'mon-state-filter').selectOption('aqi-good');
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="mon-row"]').length === 1);
        assert.match(await rows.nth(0).innerText(), / A\b/);
        await screenshot(page, `${vp}-monitoring-list`);
        await byTestId(page, 'mon-state-filter').selectOption('');
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="mon-row"]').length === 3);

        // The station: values with units, the commune, simulated data, the history.
        await rows.nth(0).locator('[data-testid="mon-row-open"]').click();
        await byTestId(page, 'mon-entity-page').waitFor();
        assert.equal(await byTestId(page, 'mon-entity').getAttribute('data-state'), 'aqi-bad');
        assert.match(await byTestId(page, 'mon-value-pm25').innerText(), /103,4 µg\/m³/);
        await byTestId(page, 'simulated-badge').waitFor();
        await page.locator('[data-testid="mon-entity-commune"]', { hasText: 'Phường Quy Nhơn' }).waitFor();
        await byTestId(page, 'mon-history').waitFor();
        if (temporal) {
          const chart = page.locator('[data-testid="mon-history-pm25"] [data-testid="mon-chart"]');
          await chart.locator('canvas').waitFor();
          assert.ok(Number(await chart.getAttribute('data-points')) >= HOURS, 'the 24 h chart holds the hourly values');
          if (vp === 'desktop') {
            // Drag across the chart: the range narrows and raw values are asked for.
            const before = await byTestId(page, 'mon-history-range').innerText();
            const over = chart.locator('.u-over');
            await over.scrollIntoViewIfNeeded();
            const box = await over.boundingBox();
            await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
            await page.mouse.down();
            await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 8 });
            await page.mouse.up();
            await page.waitForFunction(
              (b) => document.querySelector('[data-testid="mon-history-range"]')?.textContent !== b,
              before,
            );
            assert.equal(await byTestId(page, 'mon-range-24h').getAttribute('aria-pressed'), 'false');
            await byTestId(page, 'mon-range-7d').click();
            await page.locator('[data-testid="mon-history"][data-resolution="PT1H"]').waitFor();
          }
        } else {
          await byTestId(page, 'history-unavailable').waitFor();
        }
        await screenshot(page, `${vp}-monitoring-station`);

        // English by the switch, then back.
        if (vp === 'desktop') {
          await byTestId(page, 'lang-en').click();
          await page.getByRole('link', { name: /City monitoring/ }).first().waitFor();
          await byTestId(page, 'lang-vi').click();
          await page.getByRole('link', { name: /Giám sát đô thị/ }).first().waitFor();
        }
        assert.deepEqual(page.jsErrors, []);
      } finally {
        await page.context().close();
      }
    });

    test('commune officer of Phường Quy Nhơn: own stations only', async () => {
      const page = await newPage(browser, vp);
      try {
        await login(page, 'commune');
        await openModule(page, 'monitoring');
        await marker(page, stations[0].id).waitFor({ state: 'attached' });
        const pleiku = stations.find((s) => s.pleiku);
        assert.equal(await marker(page, pleiku.id).count(), 0, 'no Pleiku marker');
        await byTestId(page, 'mon-list-link-air').click();
        await byTestId(page, 'mon-table-filter').fill(RUN);
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="mon-row"]').length === 2);
        assert.equal(await byTestId(page, 'mon-row').filter({ hasText: 'Pleiku' }).count(), 0);
        await screenshot(page, `${vp}-monitoring-commune-list`);
        await page.goto(`/monitoring/entity/${encodeURIComponent(pleiku.id)}`);
        await byTestId(page, 'mon-entity-error').waitFor();
        assert.equal(await byTestId(page, 'mon-entity').count(), 0);
        assert.deepEqual(page.jsErrors, []);
      } finally {
        await page.context().close();
      }
    });

    test('admin provisions a device, sees its key once, rotates it and deletes the device', async () => {
      const page = await newPage(browser, vp);
      page.on('dialog', (d) => void d.accept());
      const id = `${RUN}-${vp}`;
      try {
        await login(page, 'admin');
        await openModule(page, 'devices');
        await byTestId(page, 'devices-page').waitFor();
        await byTestId(page, 'connectors-card').waitFor();
        // A CSV file uploaded to the import connector: rows read, entities written, health fine.
        const connector = page.locator('[data-testid="connector-row"]', { hasText: `${RUN}-csv` });
        const csv = `Mã trạm;Kinh độ;Vĩ độ;Nhiệt độ\nKT-${vp};108,0;13,98;23,5\n`;
        await connector.locator('input[type=file]').setInputFiles({ name: 'kttv.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
        await page.locator('[data-testid="connector-message"]', { hasText: 'Đã đọc 1 dòng' }).waitFor();
        await page.locator('[data-testid="connector-row"]', { hasText: `${RUN}-csv` }).locator('[data-state="ok"]').waitFor();
        await byTestId(page, 'device-provision-open').click();
        const form = byTestId(page, 'device-provision-form');
        await form.waitFor();
        // Refused until complete, errors next to the fields.
        await byTestId(page, 'device-provision-submit').click();
        await form.locator('.field-error').first().waitFor();
        await byTestId(page, 'device-id').fill(id);
        await byTestId(page, 'device-name').fill(`Trạm đo mực nước ${vp}`);
        await byTestId(page, 'device-type').selectOption('WaterObserved');
        await byTestId(page, 'device-silence').fill('600');
        const map = byTestId(page, 'device-location-map');
        const box = await map.boundingBox();
        await map.click({ position: { x: box.width / 2, y: box.height / 2 } });
        assert.notEqual(await byTestId(page, 'device-lat').inputValue(), '', 'a tap on the map sets the place');
        await screenshot(page, `${vp}-device-provision`);
        await byTestId(page, 'device-provision-submit').click();
        const key = byTestId(page, 'device-key');
        await key.waitFor();
        const secret = (await byTestId(page, 'device-key-value').innerText()).trim();
        assert.match(secret, /^hdk_/);
        assert.match(await key.innerText(), new RegExp(`devices/${id}/measures`));
        await screenshot(page, `${vp}-device-key`);
        await key.getByRole('button', { name: 'Đóng' }).click();
        assert.equal(await byTestId(page, 'device-key').count(), 0);
        assert.equal(await page.getByText(secret).count(), 0, 'the key is shown once');

        await byTestId(page, 'devices-health-filter').selectOption('never_seen');
        const row = byTestId(page, 'device-row').filter({ hasText: id });
        await row.waitFor();
        assert.equal(await row.locator('[data-testid="device-health"]').getAttribute('data-health'), 'never_seen');
        await row.locator('[data-testid="device-open"]').click();
        await byTestId(page, 'device-page').waitFor();
        assert.equal(await byTestId(page, 'device-detail-health').getAttribute('data-health'), 'never_seen');
        assert.equal(await page.getByText(secret).count(), 0, 'not on the device page either');
        await byTestId(page, 'device-mapping').waitFor();
        await screenshot(page, `${vp}-device-page`);

        await byTestId(page, 'device-disable').click();
        await page.locator('[data-testid="device-detail-health"][data-health="disabled"]').waitFor();
        await byTestId(page, 'device-enable').click();
        await page.locator('[data-testid="device-detail-health"][data-health="never_seen"]').waitFor();
        await byTestId(page, 'device-rotate').click();
        const rotated = (await byTestId(page, 'device-key-value').innerText()).trim();
        assert.match(rotated, /^hdk_/);
        assert.notEqual(rotated, secret);

        // Its entity exists where it was placed.
        await byTestId(page, 'device-entity-link').click();
        await byTestId(page, 'mon-entity').waitFor();
        await page.goBack();
        await byTestId(page, 'device-delete').click();
        await byTestId(page, 'devices-page').waitFor();
        await page.waitForFunction((x) => !document.body.innerText.includes(x), id);
        assert.deepEqual(page.jsErrors, []);
      } finally {
        await page.context().close();
      }
    });
  });
}

describe('data hub on the video wall', () => {
  test('large map and legend in wall mode', async () => {
    const page = await newPage(browser, 'desktop');
    await page.setViewportSize({ width: 1920, height: 1080 });
    try {
      await login(page, 'leader');
      await page.goto('/monitoring?wall=1');
      await marker(page, stations[0].id).waitFor({ state: 'attached' });
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
      const map = await byTestId(page, 'mon-map').boundingBox();
      assert.ok(map.height > 700, `the map fills the wall (${map.height}px)`);
      await screenshot(page, 'wall-monitoring');
      await page.goto('/monitoring?wall=0');
      assert.deepEqual(page.jsErrors, []);
    } finally {
      await page.context().close();
    }
  });
});
