import { describe, expect, it } from 'vitest';
import { mappingLines, shortType, isDeviceId } from '../api/devices';
import type { Observed } from '../api/ngsi';
import {
  DOMAINS,
  STATE_COLORS,
  aqiState,
  batteryState,
  domainById,
  domainOfType,
  floodLevels,
  floodState,
  formatFigure,
  isSimulated,
  rainState,
  stateCounts,
  streetlightState,
  trafficState,
  waterQualityState,
  wasteState,
} from '../lib/monitoring';
import { formatRelative } from '../lib/time';
import { en } from '../i18n/en';
import { vi } from '../i18n/vi';

const obs = (values: Record<string, unknown>): Pick<Observed, 'values'> => ({ values });

describe('VN_AQI bands', () => {
  it('follows the bands 0–50, 51–100, 101–150, 151–200, 201–300, >300', () => {
    expect([0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500].map(aqiState)).toEqual([
      'aqi-good',
      'aqi-good',
      'aqi-moderate',
      'aqi-moderate',
      'aqi-poor',
      'aqi-poor',
      'aqi-bad',
      'aqi-bad',
      'aqi-verybad',
      'aqi-verybad',
      'aqi-hazardous',
      'aqi-hazardous',
    ]);
  });
  it('rounds a fractional index and refuses what is not one', () => {
    expect(aqiState(50.4)).toBe('aqi-good');
    expect(aqiState(50.5)).toBe('aqi-moderate');
    expect(aqiState(undefined)).toBe('unknown');
    expect(aqiState('80')).toBe('unknown');
    expect(aqiState(-1)).toBe('unknown');
    expect(aqiState(Number.NaN)).toBe('unknown');
  });
  it('uses the official colours', () => {
    expect(STATE_COLORS['aqi-good']).toBe('#00e400');
    expect(STATE_COLORS['aqi-hazardous']).toBe('#7e0023');
  });
});

describe('rain intensity', () => {
  it('maps mm in the last hour to none, light, moderate, heavy, very heavy', () => {
    expect([0, 0.1, 2.49, 2.5, 7.59, 7.6, 49.9, 50, 120].map(rainState)).toEqual([
      'rain-none',
      'rain-light',
      'rain-light',
      'rain-moderate',
      'rain-moderate',
      'rain-heavy',
      'rain-heavy',
      'rain-veryheavy',
      'rain-veryheavy',
    ]);
    expect(rainState(null)).toBe('unknown');
  });
});

describe('flood alert levels', () => {
  const levels = { I: 5, II: 6.5, III: 8 };
  it('is normal below I and reaches I, II, III at their heights', () => {
    expect(floodState(4.99, levels)).toBe('flood-normal');
    expect(floodState(5, levels)).toBe('flood-1');
    expect(floodState(6.5, levels)).toBe('flood-2');
    expect(floodState(7.9, levels)).toBe('flood-2');
    expect(floodState(8, levels)).toBe('flood-3');
    expect(floodState(12, levels)).toBe('flood-3');
  });
  it('needs a height and levels', () => {
    expect(floodState(undefined, levels)).toBe('unknown');
    expect(floodState(5, undefined)).toBe('unknown');
    expect(floodState(5, { foo: 1 })).toBe('unknown');
    expect(floodLevels({ I: 1, II: 'x' })).toEqual({ I: 1 });
    expect(floodState(3, { II: 2 })).toBe('flood-2');
  });
});

describe('water quality', () => {
  it('is bad when pH is outside 6–8.5 or O2 < 4 mg/L', () => {
    expect(waterQualityState(7, 6)).toBe('wq-ok');
    expect(waterQualityState(6, 4)).toBe('wq-ok');
    expect(waterQualityState(8.5, 4)).toBe('wq-ok');
    expect(waterQualityState(5.9, 6)).toBe('wq-bad');
    expect(waterQualityState(8.6, 6)).toBe('wq-bad');
    expect(waterQualityState(7, 3.9)).toBe('wq-bad');
  });
  it('judges on what it has', () => {
    expect(waterQualityState(undefined, 3)).toBe('wq-bad');
    expect(waterQualityState(7, undefined)).toBe('wq-ok');
    expect(waterQualityState(undefined, undefined)).toBe('unknown');
  });
});

describe('traffic, streetlights, waste, devices', () => {
  it('traffic: congested red, occupancy > 0.5 orange, else green', () => {
    expect(trafficState(true, 0.1)).toBe('traffic-congested');
    expect(trafficState(false, 0.51)).toBe('traffic-busy');
    expect(trafficState(false, 0.5)).toBe('traffic-free');
    expect(trafficState(undefined, 0.2)).toBe('traffic-free');
    expect(trafficState(false, undefined)).toBe('traffic-free');
    expect(trafficState(undefined, undefined)).toBe('unknown');
  });
  it('streetlight: a fault wins over on/off', () => {
    expect(streetlightState('on', 'ok')).toBe('light-on');
    expect(streetlightState('off', 'ok')).toBe('light-off');
    expect(streetlightState('on', 'defectiveLamp')).toBe('light-fault');
    expect(streetlightState('off', 'columnIssue')).toBe('light-fault');
    expect(streetlightState('on', undefined)).toBe('light-on');
    expect(streetlightState(undefined, undefined)).toBe('unknown');
  });
  it('waste: status other than ok first, then fill < 0.5, < 0.8, ≥ 0.8', () => {
    expect(wasteState(0.49, 'ok')).toBe('waste-low');
    expect(wasteState(0.5, 'ok')).toBe('waste-half');
    expect(wasteState(0.79, 'ok')).toBe('waste-half');
    expect(wasteState(0.8, 'ok')).toBe('waste-full');
    expect(wasteState(0.1, 'burning')).toBe('waste-alert');
    expect(wasteState(undefined, 'ok')).toBe('unknown');
  });
  it('battery: < 20 % critical, < 50 % low', () => {
    expect(batteryState(0.19)).toBe('battery-critical');
    expect(batteryState(0.2)).toBe('battery-low');
    expect(batteryState(0.5)).toBe('battery-ok');
    expect(batteryState(null)).toBe('unknown');
  });
});

describe('domains', () => {
  it('each domain has a colour and both messages for every state, and its own type', () => {
    const types = new Set<string>();
    for (const d of DOMAINS) {
      expect(types.has(d.type), d.type).toBe(false);
      types.add(d.type);
      for (const s of [...d.states, 'unknown' as const]) {
        expect(STATE_COLORS[s], s).toMatch(/^#[0-9a-f]{6}$/);
        expect(Object.keys(vi), s).toContain(`monState.${s}`);
      }
      expect(Object.keys(vi)).toContain(`monDomain.${d.id}`);
      for (const a of d.attrs) expect(Object.keys(en), a.name).toContain(`attr.${a.name}`);
    }
  });
  it('finds a domain by slug and by short or expanded type', () => {
    expect(domainById('water-quality')?.type).toBe('WaterQualityObserved');
    expect(domainById('nope')).toBeUndefined();
    expect(domainOfType('AirQualityObserved')?.id).toBe('air');
    expect(domainOfType('https://uri.etsi.org/ngsi-ld/default-context/Streetlight')?.id).toBe('streetlight');
    expect(domainOfType('Other')).toBeUndefined();
  });
  it('counts states in legend order, unknown last', () => {
    const air = domainById('air')!;
    const counts = stateCounts(air, [
      obs({ airQualityIndex: 160 }),
      obs({ airQualityIndex: 20 }),
      obs({}),
      obs({ airQualityIndex: 30 }),
    ]);
    expect(counts).toEqual([
      ['aqi-good', 2],
      ['aqi-bad', 1],
      ['unknown', 1],
    ]);
  });
  it('formats figures with units, ratios as percent', () => {
    const air = domainById('air')!;
    expect(formatFigure(air.attrs.find((a) => a.name === 'pm25')!, 12.345, 'en')).toBe('12.3 µg/m³');
    expect(formatFigure(air.attrs.find((a) => a.name === 'pm25')!, 12.345, 'vi')).toBe('12,3 µg/m³');
    expect(formatFigure({ name: 'x', ratio: true }, 0.426, 'vi')).toBe('43 %');
    expect(formatFigure({ name: 'x' }, 'on', 'vi')).toBeNull();
  });
  it('marks simulated data by dataProvider or by a demo device as source', () => {
    expect(isSimulated(obs({ dataProvider: 'Hải Đăng demo' }))).toBe(true);
    expect(isSimulated(obs({ dataProvider: 'Sở TN&MT' }))).toBe(false);
    expect(isSimulated(obs({ source: 'device:aq-1' }), new Set(['aq-1']))).toBe(true);
    expect(isSimulated(obs({ source: 'device:aq-2' }), new Set(['aq-1']))).toBe(false);
  });
});

describe('devices', () => {
  it('checks ids and shortens type IRIs', () => {
    expect(isDeviceId('aq-QN.01_x')).toBe(true);
    expect(isDeviceId('a b')).toBe(false);
    expect(isDeviceId('')).toBe(false);
    expect(shortType('https://uri.etsi.org/ngsi-ld/default-context/AirQualityObserved')).toBe('AirQualityObserved');
    expect(shortType('Streetlight')).toBe('Streetlight');
  });
  it('lists a mapping measure by measure', () => {
    expect(
      mappingLines({
        rules: [
          { topic: 'measures', attributes: { t: { attr: 'temperature', unitCode: 'CEL' }, rh: { attr: 'relativeHumidity' } } },
          { topic: 'lamps/3', entityId: 'urn:ngsi-ld:Streetlight:3', passThrough: false, attributes: { p: { attr: 'powerState' } } },
        ],
      }),
    ).toEqual([
      { topic: 'measures', entity: null, measure: 'rh', attr: 'relativeHumidity', unitCode: null },
      { topic: 'measures', entity: null, measure: 't', attr: 'temperature', unitCode: 'CEL' },
      { topic: 'measures', entity: null, measure: '*', attr: '*', unitCode: null },
      { topic: 'lamps/3', entity: 'urn:ngsi-ld:Streetlight:3', measure: 'p', attr: 'powerState', unitCode: null },
    ]);
    expect(mappingLines(undefined)).toEqual([]);
  });
});

describe('relative time', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  it('says how long ago in the largest unit', () => {
    expect(formatRelative('2025-06-01T11:59:55Z', now, 'en')).toBe('now');
    expect(formatRelative('2025-06-01T11:55:00Z', now, 'en')).toBe('5 minutes ago');
    expect(formatRelative('2025-06-01T09:00:00Z', now, 'vi')).toBe('3 giờ trước');
    expect(formatRelative('2025-05-30T12:00:00Z', now, 'en')).toBe('2 days ago');
    expect(formatRelative(null, now, 'en')).toBe('');
  });
});
