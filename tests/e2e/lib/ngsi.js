// Helpers for the data-hub tests: a bearer token for NGSI-LD writes, batch upserts, the
// commune a point falls in, and whether the server has the temporal API.
import { BASE_URL } from './browser.js';
import { apiSession } from './reports.js';

/**
 * A token that may write context data: HAIDANG_DEMO_TOKEN when the demo was started with
 * `--demo-token`, otherwise a short-lived one made by the demo admin (revoked by `release`).
 */
export async function contextToken(name) {
  if (process.env.HAIDANG_DEMO_TOKEN) return { token: process.env.HAIDANG_DEMO_TOKEN, release: async () => {} };
  const admin = await apiSession('admin');
  const me = await admin.get('/api/auth/me');
  const created = await admin.post('/api/tokens', {
    name,
    unit_id: me.home_unit.id,
    permissions: ['context.read', 'context.write'],
    expires_at: new Date(Date.now() + 86_400_000).toISOString(),
  });
  return {
    token: created.token,
    release: async () => {
      await admin.del(`/api/tokens/${created.id}`).catch(() => undefined);
      await admin.logout();
    },
  };
}

async function ngsi(token, method, path, body) {
  const res = await fetch(`${BASE_URL}/ngsi-ld/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** `POST /entityOperations/upsert?options=update` (attributes merged into existing entities). */
export async function upsert(token, entities) {
  const res = await ngsi(token, 'POST', '/entityOperations/upsert?options=update', entities);
  if (res.status >= 300) throw new Error(`upsert: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
  return res;
}

/** Whether `GET /temporal/entities/{id}` answers for an entity that exists. */
export async function hasTemporalApi(token, id) {
  const from = new Date(Date.now() - 86_400_000).toISOString();
  const res = await ngsi(
    token,
    'GET',
    `/temporal/entities/${encodeURIComponent(id)}?timerel=after&timeAt=${from}&options=temporalValues`,
  );
  return res.status === 200;
}

/**
 * A unit found by its name (`GET /api/org-units?q=`), with its centre checked by
 * `GET /api/geo/locate` to fall inside it.
 */
export async function communeByName(session, q, name) {
  const page = await session.get(`/api/org-units?q=${encodeURIComponent(q)}`);
  const unit = (Array.isArray(page) ? page : page.items).find((u) => u.name === name);
  if (!unit || unit.lat == null || unit.lon == null) throw new Error(`no centre for ${name}`);
  const at = await session.get(`/api/geo/locate?lat=${unit.lat}&lon=${unit.lon}`);
  if (at.unit?.id !== unit.id) throw new Error(`the centre of ${name} locates to ${at.unit?.name ?? 'nothing'}`);
  return { id: unit.id, code: unit.code, name: unit.name, lat: unit.lat, lon: unit.lon };
}

/** A point near `centre` (offsets in degrees) that still falls in the same unit; the centre otherwise. */
export async function pointIn(session, centre, dLat, dLon) {
  const lat = centre.lat + dLat;
  const lon = centre.lon + dLon;
  const at = await session.get(`/api/geo/locate?lat=${lat}&lon=${lon}`);
  return at.unit?.id === centre.id ? [lon, lat] : [centre.lon, centre.lat];
}

const prop = (value, observedAt, unitCode) => ({
  type: 'Property',
  value,
  ...(observedAt ? { observedAt } : {}),
  ...(unitCode ? { unitCode } : {}),
});

/**
 * One entity of `spec` as normalized NGSI-LD for step `step` of its series, observed at `at`;
 * with the static members (name, place, provider, alert levels) when `withStatic`.
 */
export function entityAt(spec, step, at, withStatic) {
  const e = { id: spec.id, type: spec.type };
  if (withStatic) {
    e.name = prop(spec.name);
    e.location = { type: 'GeoProperty', value: { type: 'Point', coordinates: spec.coordinates } };
    for (const [k, v] of Object.entries(spec.static ?? {})) e[k] = prop(v);
  }
  for (const [k, values] of Object.entries(spec.series)) {
    e[k] = prop(values[Math.min(step, values.length - 1)], at.toISOString(), spec.units?.[k]);
  }
  return e;
}
