// The NGSI-LD API (ETSI GS CIM 009) as the monitoring pages use it: entity queries and the
// temporal API. The fetches are thin; the conversions from NGSI-LD shapes to what the pages
// draw are pure and unit-tested.

import { ApiError, api, withQuery } from './client';

export const NGSI_BASE = '/ngsi-ld/v1';

/** One attribute instance of a normalized entity (clause 4.5.2). */
export interface NgsiAttribute {
  type?: string;
  value?: unknown;
  object?: unknown;
  languageMap?: Record<string, string>;
  unitCode?: string;
  observedAt?: string;
  datasetId?: string;
}

export interface NormalizedEntity {
  id: string;
  type: string | string[];
  [attr: string]: unknown;
}

/** An entity flattened for display: latest values, their times and units, and its place. */
export interface Observed {
  id: string;
  /** The first type, compacted (e.g. `AirQualityObserved`). */
  type: string;
  name: string;
  lat: number | null;
  lon: number | null;
  values: Record<string, unknown>;
  observedAt: Record<string, string>;
  unitCode: Record<string, string>;
  /** The latest `observedAt` of any attribute. */
  lastObserved: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Of a multi-attribute (several datasetIds), the default instance, else the first. */
function pickInstance(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const instances = v.filter(isObject);
  return instances.find((i) => i.datasetId === undefined) ?? instances[0];
}

const ATTR_TYPES = new Set([
  'Property',
  'GeoProperty',
  'Relationship',
  'LanguageProperty',
  'ListProperty',
  'ListRelationship',
  'VocabProperty',
  'JsonProperty',
]);

/** The value an attribute instance holds, or the member itself when it is not in normalized form. */
function valueOf(inst: unknown, locale = 'vi'): unknown {
  if (!isObject(inst) || typeof inst.type !== 'string' || !ATTR_TYPES.has(inst.type)) return inst;
  if ('value' in inst) return inst.value;
  if ('object' in inst) return inst.object;
  if (isObject(inst.languageMap)) return inst.languageMap[locale] ?? Object.values(inst.languageMap)[0];
  if ('vocab' in inst) return inst.vocab;
  if ('json' in inst) return inst.json;
  return undefined;
}

/** `[lat, lon]` of a GeoJSON Point (or the first position of another geometry). */
export function pointOf(geo: unknown): [number, number] | null {
  if (!isObject(geo)) return null;
  let c: unknown = geo.coordinates;
  while (Array.isArray(c) && Array.isArray(c[0])) c = c[0];
  if (!Array.isArray(c) || c.length < 2) return null;
  const [lon, lat] = c;
  return typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon)
    ? [lat, lon]
    : null;
}

/** Flatten a normalized (or keyValues) entity. */
export function simplify(e: NormalizedEntity): Observed {
  const values: Record<string, unknown> = {};
  const observedAt: Record<string, string> = {};
  const unitCode: Record<string, string> = {};
  let last: string | null = null;
  let lastMs = -Infinity;
  for (const [k, raw] of Object.entries(e)) {
    if (k === 'id' || k === 'type' || k === '@context') continue;
    const inst = pickInstance(raw);
    values[k] = valueOf(inst);
    if (isObject(inst)) {
      if (typeof inst.unitCode === 'string') unitCode[k] = inst.unitCode;
      if (typeof inst.observedAt === 'string') {
        observedAt[k] = inst.observedAt;
        const ms = Date.parse(inst.observedAt);
        if (ms > lastMs) {
          lastMs = ms;
          last = inst.observedAt;
        }
      }
    }
  }
  const type = Array.isArray(e.type) ? (e.type[0] ?? '') : e.type;
  const at = pointOf(values.location);
  return {
    id: e.id,
    type,
    name: typeof values.name === 'string' && values.name ? values.name : e.id,
    lat: at?.[0] ?? null,
    lon: at?.[1] ?? null,
    values,
    observedAt,
    unitCode,
    lastObserved: last,
  };
}

/** Entities of one type a page holds at most (10 pages of the API's maximum 1000). */
export const MAX_ENTITIES = 10_000;
const PAGE = 1000;

/** All entities of `type` the caller may see (normalized, so observation times come along). */
export async function listEntities(type: string, signal?: AbortSignal): Promise<Observed[]> {
  const out: Observed[] = [];
  for (let offset = 0; offset < MAX_ENTITIES; offset += PAGE) {
    const page = await api.get<NormalizedEntity[]>(`${NGSI_BASE}/entities`, { type, limit: PAGE, offset }, signal);
    out.push(...page.map(simplify));
    if (page.length < PAGE) break;
  }
  return out;
}

export async function getEntity(id: string, signal?: AbortSignal): Promise<Observed> {
  return simplify(await api.get<NormalizedEntity>(`${NGSI_BASE}/entities/${encodeURIComponent(id)}`, undefined, signal));
}

// ---------------------------------------------------------------------------------------------
// Temporal API (clause 6.18–6.19): simplified temporal representation (temporalValues,
// clause 4.5.9) for raw values and aggregated representation (clause 4.5.19).

/** Raw values, or averages (with min and max) per hour or per day. */
export type Resolution = 'raw' | 'PT1H' | 'P1D';

const HOUR = 3_600_000;

/**
 * How finely to ask for a time range: raw values up to two days, hourly aggregates up to 16
 * days (≤ 384 points), daily beyond.
 */
export function resolutionFor(spanMs: number): Resolution {
  if (spanMs <= 48 * HOUR) return 'raw';
  if (spanMs <= 16 * 24 * HOUR) return 'PT1H';
  return 'P1D';
}

/** One attribute's history: times in Unix seconds (uPlot's x), values, and for aggregates min/max. */
export interface Series {
  resolution: Resolution;
  t: number[];
  v: (number | null)[];
  min?: (number | null)[];
  max?: (number | null)[];
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const secs = (iso: unknown): number | null => {
  if (typeof iso !== 'string') return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms / 1000;
};

/**
 * `{"pm25": {"type": "Property", "values": [[12, "2025-01-01T00:00:00Z"], …]}}` → a series of
 * the numeric values in time order. Pairs whose value is not a number or whose time does not
 * parse are left out.
 */
export function rawSeries(body: unknown, attr: string): Series {
  const member = isObject(body) ? pickInstance(body[attr]) : undefined;
  const pairs = isObject(member) && Array.isArray(member.values) ? member.values : [];
  const points: [number, number][] = [];
  for (const p of pairs) {
    if (!Array.isArray(p)) continue;
    const v = numOrNull(p[0]);
    const t = secs(p[1]);
    if (v !== null && t !== null) points.push([t, v]);
  }
  points.sort((a, b) => a[0] - b[0]);
  return { resolution: 'raw', t: points.map((p) => p[0]), v: points.map((p) => p[1]) };
}

/**
 * `{"pm25": {"type": "Property", "avg": [[v, start, end], …], "min": […], "max": […]}}` → one
 * point per period at its middle, with avg as the value and min/max beside it. Periods without
 * an average are left out.
 */
export function aggregatedSeries(body: unknown, attr: string, resolution: Exclude<Resolution, 'raw'>): Series {
  const member = isObject(body) ? pickInstance(body[attr]) : undefined;
  const byStart = new Map<number, { t: number; avg: number | null; min: number | null; max: number | null }>();
  const read = (method: 'avg' | 'min' | 'max') => {
    const list = isObject(member) && Array.isArray(member[method]) ? (member[method] as unknown[]) : [];
    for (const p of list) {
      if (!Array.isArray(p)) continue;
      const start = secs(p[1]);
      if (start === null) continue;
      const end = secs(p[2]) ?? start;
      const row = byStart.get(start) ?? { t: (start + end) / 2, avg: null, min: null, max: null };
      row[method] = numOrNull(p[0]);
      byStart.set(start, row);
    }
  };
  read('avg');
  read('min');
  read('max');
  const rows = [...byStart.values()].filter((r) => r.avg !== null).sort((a, b) => a.t - b.t);
  return {
    resolution,
    t: rows.map((r) => r.t),
    v: rows.map((r) => r.avg),
    min: rows.map((r) => r.min),
    max: rows.map((r) => r.max),
  };
}

export interface HistoryRequest {
  id: string;
  attrs: string[];
  from: Date;
  to: Date;
  resolution: Resolution;
}

/** The temporal API's URL for a request. */
export function historyUrl(r: HistoryRequest): string {
  const base = `${NGSI_BASE}/temporal/entities/${encodeURIComponent(r.id)}`;
  const common = {
    attrs: r.attrs.join(','),
    timerel: 'between',
    timeAt: r.from.toISOString(),
    endTimeAt: r.to.toISOString(),
  };
  if (r.resolution === 'raw') return withQuery(base, { ...common, options: 'temporalValues' });
  return withQuery(base, {
    ...common,
    options: 'aggregatedValues',
    aggrMethods: 'avg,min,max',
    aggrPeriodDuration: r.resolution,
  });
}

/**
 * The history of some attributes of one entity. When the server cannot aggregate (400/501), the
 * raw values are asked for instead.
 */
export async function fetchHistory(r: HistoryRequest, signal?: AbortSignal): Promise<Record<string, Series>> {
  let resolution = r.resolution;
  let body: unknown;
  try {
    body = await api.get<unknown>(historyUrl(r), undefined, signal);
  } catch (e) {
    if (resolution === 'raw' || !(e instanceof ApiError) || (e.status !== 400 && e.status !== 501)) throw e;
    resolution = 'raw';
    body = await api.get<unknown>(historyUrl({ ...r, resolution }), undefined, signal);
  }
  const out: Record<string, Series> = {};
  for (const a of r.attrs) out[a] = resolution === 'raw' ? rawSeries(body, a) : aggregatedSeries(body, a, resolution);
  return out;
}

/** Rows of a series for a CSV file: UTC time, then value (and min, max for aggregates). */
export function seriesRows(s: Series): (string | number | null)[][] {
  return s.t.map((t, i) => {
    const row: (string | number | null)[] = [new Date(t * 1000).toISOString(), s.v[i] ?? null];
    if (s.min && s.max) row.push(s.min[i] ?? null, s.max[i] ?? null);
    return row;
  });
}
