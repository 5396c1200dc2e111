import { useMemo, useState } from 'react';
import { listEntities, type Observed } from '../../api/ngsi';
import type { Locale } from '../../api/types';
import { formatTime } from '../../lib/time';
import { useApp } from '../../app/AppContext';
import { useAsync, usePolling, type Async } from '../../app/hooks';
import type { BaseProps } from '../../components/ReportMap';
import {
  STATE_COLORS,
  attrDef,
  floodLevels,
  formatFigure,
  type Domain,
  type DomainId,
  type StateKey,
} from '../../lib/monitoring';
import type { Bounds } from '../../lib/reports';
import { useReportConfig } from '../reports/common';

/** How often the monitoring pages refresh (there is no live event for context data yet). */
export const REFRESH_MS = 15_000;

export type Observations = Partial<Record<DomainId, Observed[]>>;

/** The entities of some domains, refreshed every 15 s while the page is visible. */
export function useObservations(domains: readonly Domain[]): Async<Observations> & { updatedAt: number | null } {
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const ids = domains.map((d) => d.id).join(',');
  const res = useAsync(
    async (signal) => {
      const lists = await Promise.all(domains.map((d) => listEntities(d.type, signal)));
      const out: Observations = {};
      domains.forEach((d, i) => {
        out[d.id] = lists[i];
      });
      setUpdatedAt(Date.now());
      return out;
    },
    [ids],
  );
  usePolling(res.reload, REFRESH_MS);
  return { ...res, updatedAt };
}

export function StateChip({ state, testId = 'state-chip' }: { state: StateKey; testId?: string }) {
  const { td } = useApp();
  return (
    <span className={`state-chip state-${state}`} data-testid={testId} data-state={state}>
      <span className="state-dot" style={{ background: STATE_COLORS[state] }} aria-hidden="true" />
      {td(`monState.${state}`, state)}
    </span>
  );
}

export function SimulatedBadge() {
  const { t } = useApp();
  return (
    <span className="badge badge-warn" data-testid="simulated-badge">
      {t('mon.simulated')}
    </span>
  );
}

/** The label of an attribute ("Bụi PM2.5"), its name when the catalogue has none. */
export function useAttrLabel(): (name: string) => string {
  const { td } = useApp();
  return (name) => td(`attr.${name}`, name);
}

/** A value as people read it: figures with units, known words translated, alert levels spelled out. */
export function useFigure(): (domain: Domain | undefined, name: string, value: unknown) => string {
  const { td, locale } = useApp();
  return (domain, name, value) => figureText(domain, name, value, locale, td);
}

export function figureText(
  domain: Domain | undefined,
  name: string,
  value: unknown,
  locale: Locale,
  td: (key: string, fallback?: string) => string,
): string {
  if (value === null || value === undefined || value === '') return '—';
  const def = attrDef(domain, name);
  const n = formatFigure(def, value, locale);
  if (n !== null) return n;
  if (typeof value === 'boolean' || typeof value === 'string') return td(`monValue.${String(value)}`, String(value));
  if (name === 'floodAlertLevels') {
    const l = floodLevels(value);
    if (l) {
      const h = attrDef(domain, 'height');
      return (['I', 'II', 'III'] as const)
        .filter((k) => l[k] !== undefined)
        .map((k) => `${k}: ${formatFigure(h, l[k], locale) ?? ''}`)
        .join(' · ');
    }
  }
  const json = JSON.stringify(value);
  return json.length > 120 ? json.slice(0, 117) + '…' : json;
}

/** Attributes that are not figures to show (names, places, bookkeeping). */
export const HIDDEN_ATTRS = new Set(['name', 'location', 'dataProvider', 'source', 'address', 'description', 'refDevice']);

/** The map's tiles and the province's bounds (from the public configuration). */
export function useMapBase(): Omit<BaseProps, 'testId'> & { ready: boolean } {
  const { config } = useApp();
  const cfg = useReportConfig();
  return useMemo(
    () => ({
      tileUrl: cfg.data?.tile_url ?? config?.tile_url ?? null,
      tileAttribution: cfg.data?.tile_attribution ?? config?.tile_attribution ?? '',
      bounds: (cfg.data?.bounds ?? null) as Bounds | null,
      fallbackCentre: [config?.province.lat ?? 13.98, config?.province.lon ?? 108.0] as [number, number],
      ready: !cfg.loading,
    }),
    [cfg.data, cfg.loading, config],
  );
}

/** "Updated at 10:15 · refreshes every 15 s". */
export function UpdatedLine({ at }: { at: number | null }) {
  const { t, locale } = useApp();
  return (
    <p className="muted small" data-testid="mon-updated">
      {at ? t('mon.updated', { time: formatTime(new Date(at), locale) }) : t('app.loading')} · {t('mon.autoRefresh')}
    </p>
  );
}
