import { describe, expect, it } from 'vitest';
import {
  aggregatedSeries,
  historyUrl,
  pointOf,
  rawSeries,
  resolutionFor,
  seriesRows,
  simplify,
  type NormalizedEntity,
} from '../api/ngsi';
import { columnName, crc32, sheetXml, toXlsx, zipStored } from '../lib/xlsx';

const H = 3_600_000;

describe('simplify', () => {
  const e: NormalizedEntity = {
    id: 'urn:ngsi-ld:AirQualityObserved:QN-01',
    type: 'AirQualityObserved',
    name: { type: 'Property', value: 'Trạm Quy Nhơn' },
    pm25: { type: 'Property', value: 35.2, unitCode: 'GQ', observedAt: '2025-06-01T10:00:00Z' },
    airQualityIndex: { type: 'Property', value: 87, observedAt: '2025-06-01T10:05:00Z' },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [109.22, 13.77] } },
    refDevice: { type: 'Relationship', object: 'urn:ngsi-ld:Device:1' },
    temperature: [
      { type: 'Property', value: 30, datasetId: 'urn:ngsi-ld:Dataset:b' },
      { type: 'Property', value: 29 },
    ],
    floodAlertLevels: { type: 'Property', value: { I: 1, II: 2, III: 3 } },
  };
  it('flattens values, times, units and the place', () => {
    const o = simplify(e);
    expect(o.name).toBe('Trạm Quy Nhơn');
    expect(o.type).toBe('AirQualityObserved');
    expect(o.values.pm25).toBe(35.2);
    expect(o.unitCode.pm25).toBe('GQ');
    expect(o.values.refDevice).toBe('urn:ngsi-ld:Device:1');
    expect(o.values.temperature).toBe(29);
    expect(o.values.floodAlertLevels).toEqual({ I: 1, II: 2, III: 3 });
    expect([o.lat, o.lon]).toEqual([13.77, 109.22]);
    expect(o.lastObserved).toBe('2025-06-01T10:05:00Z');
  });
  it('copes with keyValues, several types, no name and no place', () => {
    const o = simplify({ id: 'x', type: ['A', 'B'], pm25: 3, location: { type: 'Point', coordinates: [1] } });
    expect(o.type).toBe('A');
    expect(o.name).toBe('x');
    expect(o.values.pm25).toBe(3);
    expect(o.lat).toBeNull();
    expect(o.lastObserved).toBeNull();
  });
  it('takes the first position of other geometries', () => {
    expect(pointOf({ type: 'Polygon', coordinates: [[[108, 14], [108.1, 14], [108, 14.1], [108, 14]]] })).toEqual([14, 108]);
    expect(pointOf(null)).toBeNull();
  });
});

describe('temporal representations', () => {
  it('reads temporalValues in time order, dropping what is not a number', () => {
    const body = {
      id: 'x',
      type: 'AirQualityObserved',
      pm25: {
        type: 'Property',
        values: [
          [12, '2025-06-01T02:00:00Z'],
          [10, '2025-06-01T01:00:00Z'],
          ['n/a', '2025-06-01T03:00:00Z'],
          [11, 'not a time'],
        ],
      },
    };
    const s = rawSeries(body, 'pm25');
    expect(s.resolution).toBe('raw');
    expect(s.t).toEqual([Date.parse('2025-06-01T01:00:00Z') / 1000, Date.parse('2025-06-01T02:00:00Z') / 1000]);
    expect(s.v).toEqual([10, 12]);
    expect(rawSeries(body, 'pm10')).toEqual({ resolution: 'raw', t: [], v: [] });
    expect(rawSeries(null, 'pm25').t).toEqual([]);
  });
  it('reads aggregated values at the middle of each period', () => {
    const body = {
      pm25: {
        type: 'Property',
        avg: [
          [11, '2025-06-01T01:00:00Z', '2025-06-01T02:00:00Z'],
          [20, '2025-06-01T00:00:00Z', '2025-06-01T01:00:00Z'],
          [null, '2025-06-01T02:00:00Z', '2025-06-01T03:00:00Z'],
        ],
        min: [
          [10, '2025-06-01T01:00:00Z', '2025-06-01T02:00:00Z'],
          [15, '2025-06-01T00:00:00Z', '2025-06-01T01:00:00Z'],
        ],
        max: [[13, '2025-06-01T01:00:00Z', '2025-06-01T02:00:00Z']],
      },
    };
    const s = aggregatedSeries(body, 'pm25', 'PT1H');
    expect(s.t).toEqual([Date.parse('2025-06-01T00:30:00Z') / 1000, Date.parse('2025-06-01T01:30:00Z') / 1000]);
    expect(s.v).toEqual([20, 11]);
    expect(s.min).toEqual([15, 10]);
    expect(s.max).toEqual([null, 13]);
    expect(seriesRows(s)[1]).toEqual(['2025-06-01T01:30:00.000Z', 11, 10, 13]);
  });
  it('asks raw for short ranges, hourly then daily for long ones', () => {
    expect(resolutionFor(24 * H)).toBe('raw');
    expect(resolutionFor(48 * H)).toBe('raw');
    expect(resolutionFor(7 * 24 * H)).toBe('PT1H');
    expect(resolutionFor(30 * 24 * H)).toBe('P1D');
  });
  it('builds the temporal query', () => {
    const from = new Date('2025-06-01T00:00:00Z');
    const to = new Date('2025-06-02T00:00:00Z');
    const raw = new URL(historyUrl({ id: 'urn:ngsi-ld:X:1', attrs: ['pm25', 'pm10'], from, to, resolution: 'raw' }), 'http://h');
    expect(raw.pathname).toBe('/ngsi-ld/v1/temporal/entities/urn%3Angsi-ld%3AX%3A1');
    expect(raw.searchParams.get('attrs')).toBe('pm25,pm10');
    expect(raw.searchParams.get('timerel')).toBe('between');
    expect(raw.searchParams.get('timeAt')).toBe('2025-06-01T00:00:00.000Z');
    expect(raw.searchParams.get('endTimeAt')).toBe('2025-06-02T00:00:00.000Z');
    expect(raw.searchParams.get('options')).toBe('temporalValues');
    const agg = new URL(historyUrl({ id: 'x', attrs: ['pm25'], from, to, resolution: 'P1D' }), 'http://h');
    expect(agg.searchParams.get('options')).toBe('aggregatedValues');
    expect(agg.searchParams.get('aggrMethods')).toBe('avg,min,max');
    expect(agg.searchParams.get('aggrPeriodDuration')).toBe('P1D');
  });
});

describe('xlsx', () => {
  it('computes CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
  it('names columns', () => {
    expect([0, 25, 26, 27, 701, 702].map(columnName)).toEqual(['A', 'Z', 'AA', 'AB', 'ZZ', 'AAA']);
  });
  it('writes numbers as numbers and escapes text', () => {
    const x = sheetXml(['Tên', 'PM2.5'], [['A & <B>', 12.5], [null, true]]);
    expect(x).toContain('<c r="B2"><v>12.5</v></c>');
    expect(x).toContain('A &amp; &lt;B&gt;');
    expect(x).toContain('<c r="B3" t="b"><v>1</v></c>');
    expect(x).not.toContain('r="A3"');
  });
  it('zips entries that can be found again from the central directory', () => {
    const data = zipStored([
      { name: 'a.txt', data: new TextEncoder().encode('hello') },
      { name: 'b/c.xml', data: new TextEncoder().encode('<x/>') },
    ]);
    const v = new DataView(data.buffer);
    const end = data.length - 22;
    expect(v.getUint32(end, true)).toBe(0x06054b50);
    expect(v.getUint16(end + 10, true)).toBe(2);
    let at = v.getUint32(end + 16, true);
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      expect(v.getUint32(at, true)).toBe(0x02014b50);
      const n = v.getUint16(at + 28, true);
      const local = v.getUint32(at + 42, true);
      expect(v.getUint32(local, true)).toBe(0x04034b50);
      names.push(new TextDecoder().decode(data.subarray(at + 46, at + 46 + n)));
      at += 46 + n;
    }
    expect(names).toEqual(['a.txt', 'b/c.xml']);
    expect(toXlsx('x', ['a'], [[1]])[0]).toBe(0x50);
  });
});
