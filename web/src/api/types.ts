// Shapes of the Hải Đăng API, as written in docs/api-contract.md.
// Times are RFC 3339 strings in UTC.

export type Locale = 'vi' | 'en';

export type ModuleName =
  | 'home'
  | 'org'
  | 'users'
  | 'duty'
  | 'audit'
  | 'tokens'
  | 'profile'
  | 'api-docs'
  | 'reports'
  | 'reports-stats'
  | 'reports-admin'
  | 'monitoring'
  | 'devices';

export type RoleCode =
  | 'administrator'
  | 'leader'
  | 'operator'
  | 'specialist'
  | 'commune_officer'
  | 'soc_analyst';

export interface UnitRef {
  id: number;
  code: string;
  name: string;
}

export interface Grant {
  id: number;
  role: RoleCode | string;
  unit: UnitRef;
  fields: string[];
}

export interface Me {
  id: number;
  username: string;
  display_name: string;
  home_unit: UnitRef | null;
  locale: Locale;
  must_change_password: boolean;
  totp_enabled: boolean;
  totp_required: boolean;
  grants: Grant[];
  permissions: string[];
  modules: ModuleName[];
  demo: boolean;
}

export interface Role {
  role: RoleCode | string;
  name_vi: string;
  name_en: string;
  permissions: string[];
}

export interface Field {
  code: string;
  name_vi: string;
  name_en: string;
}

export type OrgUnitType =
  | 'province'
  | 'department'
  | 'agency'
  | 'police'
  | 'ward'
  | 'commune'
  | 'special_zone'
  | 'division';

export const ORG_UNIT_TYPES: readonly OrgUnitType[] = [
  'province',
  'department',
  'agency',
  'police',
  'ward',
  'commune',
  'special_zone',
  'division',
];

/** The three kinds of commune-level unit (phường, xã, đặc khu). */
export const COMMUNE_LEVEL_TYPES: readonly OrgUnitType[] = ['ward', 'commune', 'special_zone'];

export type Boundary = 'none' | 'approximate' | 'official';

export interface Contact {
  phone?: string;
  email?: string;
  address?: string;
}

export interface OrgUnit {
  id: number;
  code: string;
  name: string;
  short_name: string;
  type: OrgUnitType;
  parent_id: number | null;
  level: number;
  lat: number | null;
  lon: number | null;
  area_km2: number | null;
  boundary: Boundary;
  demo_code: boolean;
  children: number;
  contact: Contact;
}

export interface OrgUnitDetail extends OrgUnit {
  path: UnitRef[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface UnitFeatureProperties {
  id: number;
  code: string;
  name: string;
  type: OrgUnitType;
  boundary: Boundary;
  area_km2: number | null;
}

export interface UnitFeature {
  type: 'Feature';
  geometry:
    | { type: 'MultiPolygon'; coordinates: number[][][][] }
    | { type: 'Polygon'; coordinates: number[][][] }
    | { type: 'Point'; coordinates: number[] };
  properties: UnitFeatureProperties;
}

export interface UnitFeatureCollection {
  type: 'FeatureCollection';
  features: UnitFeature[];
}

export interface LocateResult {
  inside_province: boolean;
  unit: OrgUnit | null;
  boundary: 'approximate' | 'official' | null;
}

export interface User {
  id: number;
  username: string;
  display_name: string;
  email: string | null;
  phone: string | null;
  home_unit: UnitRef;
  active: boolean;
  locked_until: string | null;
  must_change_password: boolean;
  totp_enabled: boolean;
  last_login_at: string | null;
  grants: Grant[];
}

export interface UserRef {
  id: number;
  username: string;
  display_name: string;
}

export interface Shift {
  id: number;
  unit: UnitRef;
  user: UserRef;
  starts_at: string;
  ends_at: string;
  handover_note: string | null;
}

/**
 * API token as listed by `GET /api/tokens`. The contract names only the create request and
 * answer; the fields below beyond `id` and `name` are read defensively (all optional).
 */
export interface ApiToken {
  id: number | string;
  name: string;
  unit?: UnitRef | null;
  unit_id?: number | null;
  permissions?: string[];
  expires_at?: string | null;
  created_at?: string | null;
  last_used_at?: string | null;
  revoked_at?: string | null;
  revoked?: boolean;
  created_by?: UserRef | null;
}

export interface CreatedToken {
  id: number | string;
  token: string;
}

export interface AuditActor {
  kind: 'user' | 'token' | 'system';
  id: number | string | null;
  name: string | null;
}

export interface AuditEntry {
  id: number | string;
  at: string;
  actor: AuditActor;
  action: string;
  object_type: string;
  object_id: string | number | null;
  unit_id: number | null;
  summary: { before?: unknown; after?: unknown } | null;
  ip: string | null;
  user_agent: string | null;
  hash: string;
}

export interface AuditVerify {
  ok: boolean;
  entries: number;
  /** Not in the contract; shown if the server sends it. */
  first_bad_id?: number | string | null;
}

export interface UiConfig {
  province: { code: string; name: string; lat: number; lon: number };
  tile_url: string | null;
  tile_attribution: string;
  demo: boolean;
  version: string;
}

export interface TotpSetup {
  secret: string;
  otpauth_url: string;
}

/** RFC 9457 problem details, as the server sends them. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  request_id?: string;
  errors?: { field: string; reason: string }[];
}
