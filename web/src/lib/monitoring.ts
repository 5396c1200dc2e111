// Smart-city monitoring: the domains (Smart Data Models entity types), how each entity's state
// is decided from its latest values, and the colour of each state. Pure: no React, no I/O.

import type { Observed } from '../api/ngsi';

/** URL slug of a domain: `/monitoring/{domain}`. */
export type DomainId = 'air' | 'weather' | 'water' | 'water-quality' | 'traffic' | 'streetlight' | 'waste' | 'device';

/**
 * Every state an entity can be in, across domains. The key is its CSS class (`state-{key}`) and
 * its message (`monState.{key}`).
 */
export type StateKey =
  | 'aqi-good'
  | 'aqi-moderate'
  | 'aqi-poor'
  | 'aqi-bad'
  | 'aqi-verybad'
  | 'aqi-hazardous'
  | 'rain-none'
  | 'rain-light'
  | 'rain-moderate'
  | 'rain-heavy'
  | 'rain-veryheavy'
  | 'flood-normal'
  | 'flood-1'
  | 'flood-2'
  | 'flood-3'
  | 'wq-ok'
  | 'wq-bad'
  | 'traffic-free'
  | 'traffic-busy'
  | 'traffic-congested'
  | 'light-on'
  | 'light-off'
  | 'light-fault'
  | 'waste-low'
  | 'waste-half'
  | 'waste-full'
  | 'waste-alert'
  | 'battery-ok'
  | 'battery-low'
  | 'battery-critical'
  | 'unknown';

/** Marker colours. The AQI colours are those of the VN_AQI guidance (QĐ 1459/QĐ-TCMT). */
export const STATE_COLORS: Record<StateKey, string> = {
  'aqi-good': '#00e400',
  'aqi-moderate': '#ffff00',
  'aqi-poor': '#ff7e00',
  'aqi-bad': '#ff0000',
  'aqi-verybad': '#8f3f97',
  'aqi-hazardous': '#7e0023',
  'rain-none': '#cfd8dc',
  'rain-light': '#9ecae1',
  'rain-moderate': '#4292c6',
  'rain-heavy': '#08519c',
  'rain-veryheavy': '#6a1b9a',
  'flood-normal': '#22a34a',
  'flood-1': '#facc15',
  'flood-2': '#f97316',
  'flood-3': '#dc2626',
  'wq-ok': '#22a34a',
  'wq-bad': '#dc2626',
  'traffic-free': '#22a34a',
  'traffic-busy': '#f97316',
  'traffic-congested': '#dc2626',
  'light-on': '#facc15',
  'light-off': '#8a96a3',
  'light-fault': '#dc2626',
  'waste-low': '#22a34a',
  'waste-half': '#f97316',
  'waste-full': '#dc2626',
  'waste-alert': '#dc2626',
  'battery-ok': '#22a34a',
  'battery-low': '#f97316',
  'battery-critical': '#dc2626',
  unknown: '#b8c2cc',
};

/** Whether a state needs someone's attention (drawn on top, counted in the summary). */
export const ALERT_STATES: ReadonlySet<StateKey> = new Set<StateKey>([
  'aqi-bad',
  'aqi-verybad',
  'aqi-hazardous',
  'rain-heavy',
  'rain-veryheavy',
  'flood-2',
  'flood-3',
  'wq-bad',
  'traffic-congested',
  'light-fault',
  'waste-full',
  'waste-alert',
  'battery-critical',
]);

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * VN_AQI band (Vietnam Environment Administration): 0–50 good, 51–100 moderate, 101–150 poor
 * (unhealthy for sensitive groups), 151–200 bad, 201–300 very bad, above 300 hazardous.
 * The index is an integer; a fractional value is rounded first.
 */
export function aqiState(aqi: unknown): StateKey {
  const n = num(aqi);
  if (n === null || n < 0) return 'unknown';
  const i = Math.round(n);
  if (i <= 50) return 'aqi-good';
  if (i <= 100) return 'aqi-moderate';
  if (i <= 150) return 'aqi-poor';
  if (i <= 200) return 'aqi-bad';
  if (i <= 300) return 'aqi-verybad';
  return 'aqi-hazardous';
}

/** Rain intensity from mm in the last hour: 0 none, < 2.5 light, < 7.6 moderate, < 50 heavy, ≥ 50 very heavy. */
export function rainState(mmPerHour: unknown): StateKey {
  const n = num(mmPerHour);
  if (n === null || n < 0) return 'unknown';
  if (n === 0) return 'rain-none';
  if (n < 2.5) return 'rain-light';
  if (n < 7.6) return 'rain-moderate';
  if (n < 50) return 'rain-heavy';
  return 'rain-veryheavy';
}

export interface FloodLevels {
  I?: number;
  II?: number;
  III?: number;
}

/** The alert levels of a `floodAlertLevels` value `{"I": m, "II": m, "III": m}`, or null. */
export function floodLevels(v: unknown): FloodLevels | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const out: FloodLevels = {};
  for (const k of ['I', 'II', 'III'] as const) {
    const n = num(o[k]);
    if (n !== null) out[k] = n;
  }
  return out.I === undefined && out.II === undefined && out.III === undefined ? null : out;
}

/**
 * River level against Vietnam's flood alert levels (Báo động I/II/III): below I normal, at or
 * above I, II, III the highest level reached. Unknown without a height or without levels.
 */
export function floodState(height: unknown, levels: unknown): StateKey {
  const h = num(height);
  const l = floodLevels(levels);
  if (h === null || !l) return 'unknown';
  if (l.III !== undefined && h >= l.III) return 'flood-3';
  if (l.II !== undefined && h >= l.II) return 'flood-2';
  if (l.I !== undefined && h >= l.I) return 'flood-1';
  return 'flood-normal';
}

/** pH a surface water should stay within (QCVN 08:2023/BTNMT keeps 6–8.5 for most uses). */
export const PH_RANGE: readonly [number, number] = [6, 8.5];
/** Dissolved oxygen below this (mg/L) stresses aquatic life. */
export const MIN_DISSOLVED_OXYGEN = 4;

/**
 * Water quality: bad when pH is outside 6–8.5 or dissolved oxygen is below 4 mg/L, otherwise
 * ok. A missing figure does not count against the water; with neither figure it is unknown.
 */
export function waterQualityState(pH: unknown, o2: unknown): StateKey {
  const p = num(pH);
  const o = num(o2);
  if (p === null && o === null) return 'unknown';
  if (p !== null && (p < PH_RANGE[0] || p > PH_RANGE[1])) return 'wq-bad';
  if (o !== null && o < MIN_DISSOLVED_OXYGEN) return 'wq-bad';
  return 'wq-ok';
}

/** Traffic: congested → congested; occupancy above 50 % → busy; otherwise free. */
export function trafficState(congested: unknown, occupancy: unknown): StateKey {
  if (congested === true) return 'traffic-congested';
  const o = num(occupancy);
  if (o === null) return congested === false ? 'traffic-free' : 'unknown';
  return o > 0.5 ? 'traffic-busy' : 'traffic-free';
}

/** Streetlight: any status other than ok is a fault; otherwise on or off by powerState. */
export function streetlightState(powerState: unknown, status: unknown): StateKey {
  if (typeof status === 'string' && status !== '' && status !== 'ok') return 'light-fault';
  if (powerState === 'on') return 'light-on';
  if (powerState === 'off') return 'light-off';
  return 'unknown';
}

/** Waste container: a status other than ok (lid open, dropped, burning) first; then fill < 50 %, < 80 %, ≥ 80 %. */
export function wasteState(fillingLevel: unknown, status: unknown): StateKey {
  if (typeof status === 'string' && status !== '' && status !== 'ok') return 'waste-alert';
  const f = num(fillingLevel);
  if (f === null) return 'unknown';
  if (f < 0.5) return 'waste-low';
  if (f < 0.8) return 'waste-half';
  return 'waste-full';
}

/** Device battery (0–1): below 20 % critical, below 50 % low, otherwise ok. */
export function batteryState(level: unknown): StateKey {
  const b = num(level);
  if (b === null) return 'unknown';
  if (b < 0.2) return 'battery-critical';
  if (b < 0.5) return 'battery-low';
  return 'battery-ok';
}

/** How an attribute's value is shown. `ratio`: a 0–1 fraction shown as %. */
export interface AttrDef {
  name: string;
  unit?: string;
  digits?: number;
  ratio?: boolean;
}

export interface Domain {
  id: DomainId;
  /** NGSI-LD entity type (a term of the default context). */
  type: string;
  icon: string;
  /** Attributes shown, in order; numeric ones get a history chart. */
  attrs: AttrDef[];
  /** The few figures of a popup and of the list. */
  key: string[];
  /** Legend order. */
  states: StateKey[];
  state: (v: Record<string, unknown>) => StateKey;
}

const GQ = 'µg/m³';

export const DOMAINS: readonly Domain[] = [
  {
    id: 'air',
    type: 'AirQualityObserved',
    icon: 'leaf',
    attrs: [
      { name: 'airQualityIndex', digits: 0 },
      { name: 'pm25', unit: GQ, digits: 1 },
      { name: 'pm10', unit: GQ, digits: 1 },
      { name: 'no2', unit: GQ, digits: 1 },
      { name: 'o3', unit: GQ, digits: 1 },
      { name: 'co', unit: GQ, digits: 0 },
      { name: 'so2', unit: GQ, digits: 1 },
      { name: 'temperature', unit: '°C', digits: 1 },
      { name: 'relativeHumidity', ratio: true },
    ],
    key: ['airQualityIndex', 'pm25', 'pm10'],
    states: ['aqi-good', 'aqi-moderate', 'aqi-poor', 'aqi-bad', 'aqi-verybad', 'aqi-hazardous'],
    state: (v) => aqiState(v.airQualityIndex),
  },
  {
    id: 'weather',
    type: 'WeatherObserved',
    icon: 'drop',
    attrs: [
      { name: 'precipitation', unit: 'mm', digits: 1 },
      { name: 'temperature', unit: '°C', digits: 1 },
      { name: 'relativeHumidity', ratio: true },
      { name: 'windSpeed', unit: 'm/s', digits: 1 },
      { name: 'windDirection', unit: '°', digits: 0 },
      { name: 'atmosphericPressure', unit: 'hPa', digits: 1 },
    ],
    key: ['precipitation', 'temperature', 'windSpeed'],
    states: ['rain-none', 'rain-light', 'rain-moderate', 'rain-heavy', 'rain-veryheavy'],
    state: (v) => rainState(v.precipitation),
  },
  {
    id: 'water',
    type: 'WaterObserved',
    icon: 'wave',
    attrs: [
      { name: 'height', unit: 'm', digits: 2 },
      { name: 'flow', unit: 'm³/s', digits: 1 },
    ],
    key: ['height', 'flow'],
    states: ['flood-normal', 'flood-1', 'flood-2', 'flood-3'],
    state: (v) => floodState(v.height, v.floodAlertLevels),
  },
  {
    id: 'water-quality',
    type: 'WaterQualityObserved',
    icon: 'flask',
    attrs: [
      { name: 'pH', digits: 2 },
      { name: 'O2', unit: 'mg/L', digits: 1 },
      { name: 'temperature', unit: '°C', digits: 1 },
      { name: 'conductivity', unit: 'µS/cm', digits: 0 },
      { name: 'turbidity', unit: 'NTU', digits: 1 },
    ],
    key: ['pH', 'O2', 'turbidity'],
    states: ['wq-ok', 'wq-bad'],
    state: (v) => waterQualityState(v.pH, v.O2),
  },
  {
    id: 'traffic',
    type: 'TrafficFlowObserved',
    icon: 'road',
    attrs: [
      { name: 'intensity', digits: 0 },
      { name: 'averageVehicleSpeed', unit: 'km/h', digits: 0 },
      { name: 'occupancy', ratio: true },
      { name: 'congested' },
    ],
    key: ['intensity', 'averageVehicleSpeed', 'occupancy'],
    states: ['traffic-free', 'traffic-busy', 'traffic-congested'],
    state: (v) => trafficState(v.congested, v.occupancy),
  },
  {
    id: 'streetlight',
    type: 'Streetlight',
    icon: 'bulb',
    attrs: [{ name: 'powerState' }, { name: 'status' }, { name: 'illuminanceLevel', ratio: true }],
    key: ['powerState', 'status', 'illuminanceLevel'],
    states: ['light-on', 'light-off', 'light-fault'],
    state: (v) => streetlightState(v.powerState, v.status),
  },
  {
    id: 'waste',
    type: 'WasteContainer',
    icon: 'bin',
    attrs: [{ name: 'fillingLevel', ratio: true }, { name: 'status' }, { name: 'temperature', unit: '°C', digits: 1 }],
    key: ['fillingLevel', 'status'],
    states: ['waste-low', 'waste-half', 'waste-full', 'waste-alert'],
    state: (v) => wasteState(v.fillingLevel, v.status),
  },
  {
    id: 'device',
    type: 'Device',
    icon: 'devices',
    attrs: [{ name: 'batteryLevel', ratio: true }, { name: 'rssi', unit: 'dBm', digits: 0 }, { name: 'deviceState' }],
    key: ['batteryLevel', 'rssi', 'deviceState'],
    states: ['battery-ok', 'battery-low', 'battery-critical'],
    state: (v) => batteryState(v.batteryLevel),
  },
];

export function domainById(id: string | undefined): Domain | undefined {
  return DOMAINS.find((d) => d.id === id);
}

/** The domain of an entity type, given short (`AirQualityObserved`) or expanded (an IRI). */
export function domainOfType(type: string | undefined): Domain | undefined {
  if (!type) return undefined;
  const short = type.slice(Math.max(type.lastIndexOf('/'), type.lastIndexOf('#')) + 1);
  return DOMAINS.find((d) => d.type === short);
}

/** The state of an observed entity in its domain. */
export function stateOf(domain: Domain, e: Pick<Observed, 'values'>): StateKey {
  return domain.state(e.values);
}

/** How an attribute is shown in a domain (a plain default for attributes the domain does not list). */
export function attrDef(domain: Domain | undefined, name: string): AttrDef {
  return domain?.attrs.find((a) => a.name === name) ?? { name };
}

/**
 * A value as text with its unit: 0.42 → "42 %" for ratios, 12.345 → "12,3 µg/m³" (vi) with
 * the attribute's digits. Booleans and strings are left to the caller (returned as null).
 */
export function formatFigure(def: AttrDef, value: unknown, locale: 'vi' | 'en'): string | null {
  const n = num(value);
  if (n === null) return null;
  const nf = (x: number, digits: number) =>
    new Intl.NumberFormat(locale === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: digits }).format(x);
  if (def.ratio) return `${nf(n * 100, 0)} %`;
  const text = nf(n, def.digits ?? 2);
  return def.unit ? `${text} ${def.unit}` : text;
}

/** Counts of entities per state, in the domain's legend order (unknown last). */
export function stateCounts(domain: Domain, entities: readonly Pick<Observed, 'values'>[]): [StateKey, number][] {
  const counts = new Map<StateKey, number>();
  for (const e of entities) {
    const s = stateOf(domain, e);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const order: StateKey[] = [...domain.states, 'unknown'];
  return order.filter((s) => counts.has(s)).map((s) => [s, counts.get(s) ?? 0]);
}

/** Whether an entity is marked as simulated data: its `dataProvider` mentions "demo", or its
 * `source` is `device:{id}` of a device flagged `demo`. */
export function isSimulated(e: Pick<Observed, 'values'>, demoDevices?: ReadonlySet<string>): boolean {
  const provider = e.values.dataProvider;
  if (typeof provider === 'string' && /demo/i.test(provider)) return true;
  const source = e.values.source;
  if (demoDevices && typeof source === 'string' && source.startsWith('device:')) {
    return demoDevices.has(source.slice('device:'.length));
  }
  return false;
}
