// The device registry (`/api/devices`, crates/api/src/devices/routes.rs).

import type { UnitRef } from './types';

export type DeviceHealth = 'reporting' | 'silent' | 'never_seen' | 'disabled';
export const DEVICE_HEALTHS: readonly DeviceHealth[] = ['reporting', 'silent', 'never_seen', 'disabled'];

export interface MappingTarget {
  attr: string;
  unitCode?: string;
  datasetId?: string;
}

export interface TopicRule {
  topic: string;
  entityId?: string;
  entityType?: string;
  attributes?: Record<string, MappingTarget>;
  passThrough?: boolean;
}

export interface DeviceMapping {
  rules: TopicRule[];
}

export interface DeviceConnection {
  connected: boolean;
  since: string;
  peer: string | null;
  last_disconnect: string | null;
}

export interface Device {
  id: string;
  tenant: string;
  name: string;
  model: string;
  owner: UnitRef;
  entity_id: string;
  /** Expanded IRI, e.g. https://uri.etsi.org/ngsi-ld/default-context/AirQualityObserved */
  entity_type: string;
  mapping: DeviceMapping;
  silence_secs: number;
  enabled: boolean;
  demo: boolean;
  last_seen: string | null;
  last_error: string | null;
  last_error_at: string | null;
  messages: number;
  rejected: number;
  created_at: string;
  health: DeviceHealth;
  connection: DeviceConnection | null;
}

export interface DeviceCreate {
  id: string;
  name: string;
  unit_id: number;
  entity_type: string;
  location?: { lon: number; lat: number };
  silence_secs?: number;
}

export interface ProvisionedDevice extends Device {
  key: string;
  mqtt: { username: string; client_id: string; publish_to: string[]; commands_from?: string };
}

export interface NewKey {
  key: string;
  rotated_at: string;
}

/** A device id as the server accepts it: 1–64 of A–Z a–z 0–9 _ - . */
export function isDeviceId(s: string): boolean {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(s);
}

/** The short name of an expanded type IRI (`…/default-context/AirQualityObserved` → `AirQualityObserved`). */
export function shortType(iri: string): string {
  return iri.slice(Math.max(iri.lastIndexOf('/'), iri.lastIndexOf('#')) + 1);
}

/** One line per measure of a mapping, for people: topic, measure → attribute (unit). */
export interface MappingLine {
  topic: string;
  entity: string | null;
  measure: string;
  attr: string;
  unitCode: string | null;
}

/**
 * A mapping as rows to read: each named measure of each rule, and for a rule that passes other
 * measures through, one row with measure `*` (kept under their own names).
 */
export function mappingLines(m: DeviceMapping | null | undefined): MappingLine[] {
  const out: MappingLine[] = [];
  for (const r of m?.rules ?? []) {
    const entity = r.entityId ?? null;
    for (const [measure, target] of Object.entries(r.attributes ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      out.push({ topic: r.topic, entity, measure, attr: target.attr, unitCode: target.unitCode ?? null });
    }
    if (r.passThrough !== false) out.push({ topic: r.topic, entity, measure: '*', attr: '*', unitCode: null });
  }
  return out;
}

/** A connector of `/api/connectors`: a scheduled pull or a file import, with its health. */
export interface Connector {
  id: string;
  tenant: string;
  kind: 'pull' | 'import';
  name: string;
  owner: UnitRef;
  config: Record<string, unknown>;
  enabled: boolean;
  last_run: string | null;
  last_ok: string | null;
  last_error: string | null;
  runs: number;
  failures: number;
  items: number;
  created_at: string;
}

export type ConnectorState = 'ok' | 'failing' | 'never_run' | 'disabled';

/** How a connector is doing: switched off, never run, its last run failed, or fine. */
export function connectorState(c: Pick<Connector, 'enabled' | 'last_run' | 'last_error'>): ConnectorState {
  if (!c.enabled) return 'disabled';
  if (!c.last_run) return 'never_run';
  return c.last_error ? 'failing' : 'ok';
}

export interface RunOutcome {
  written: number;
  refused: string[];
  refused_count: number;
  error: string | null;
}

export interface Imported {
  rows: number;
  written: number;
}
