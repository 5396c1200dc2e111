import { useMemo } from 'react';
import { useApp } from '../../app/AppContext';
import { availableModules } from '../../components/Layout';
import { ErrorBox, Spinner } from '../../components/Forms';
import { Icon } from '../../components/Icons';
import { MonitorMap, type MonitorPoint } from '../../components/MonitorMap';
import { useNow } from '../../components/ReportBits';
import {
  ALERT_STATES,
  DOMAINS,
  STATE_COLORS,
  attrDef,
  isSimulated,
  stateCounts,
  stateOf,
  type DomainId,
} from '../../lib/monitoring';
import { formatRelative } from '../../lib/time';
import { Link, navigate, useLocation } from '../../router';
import { useAttrLabel, useFigure, UpdatedLine, useMapBase, useObservations } from './common';

const ALL_IDS = DOMAINS.map((d) => d.id);

/** `?layers=air,water` → the domains shown; absent: all. */
export function parseLayers(param: string | null): Set<DomainId> {
  if (param === null) return new Set(ALL_IDS);
  return new Set(ALL_IDS.filter((id) => param.split(',').includes(id)));
}

/** `/monitoring`: one map with a layer per domain, a legend with counts, a domain switcher. */
export function MonitoringPage() {
  const { t, td, locale, wall, me } = useApp();
  const { search } = useLocation();
  const layersParam = search.get('layers');
  const layers = useMemo(() => parseLayers(layersParam), [layersParam]);
  const obs = useObservations(DOMAINS);
  const base = useMapBase();
  const now = useNow(15_000);
  const label = useAttrLabel();
  const figure = useFigure();

  const setLayers = (next: Set<DomainId>) => {
    const all = next.size === ALL_IDS.length;
    navigate(all ? '/monitoring' : `/monitoring?layers=${ALL_IDS.filter((id) => next.has(id)).join(',')}`, { replace: true });
  };
  const toggle = (id: DomainId) => {
    const next = new Set(layers);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setLayers(next);
  };

  const points: MonitorPoint[] = useMemo(() => {
    const out: MonitorPoint[] = [];
    for (const d of DOMAINS) {
      if (!layers.has(d.id)) continue;
      for (const e of obs.data?.[d.id] ?? []) {
        if (e.lat === null || e.lon === null) continue;
        const state = stateOf(d, e);
        out.push({
          id: e.id,
          domain: d.id,
          lat: e.lat,
          lon: e.lon,
          state,
          color: STATE_COLORS[state],
          alert: ALERT_STATES.has(state),
          title: e.name,
          stateLabel: td(`monState.${state}`, state),
          lines: d.key
            .filter((k) => e.values[k] !== undefined)
            .map((k) => `${label(k)}: ${figure(d, k, e.values[k])}`),
          footnote: e.lastObserved ? `${t('mon.lastObserved')}: ${formatRelative(e.lastObserved, now, locale)}` : undefined,
          badge: isSimulated(e) ? t('mon.simulated') : undefined,
        });
      }
    }
    return out;
    // `label`/`figure` follow the locale.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [obs.data, layers, locale, now, t, td]);

  const total = (id: DomainId) => obs.data?.[id]?.length ?? 0;
  const showDevices = availableModules(me).includes('devices');

  return (
    <div className="page mon-page" data-testid="monitoring-page">
      <div className="page-head">
        <div>
          <h1>{t('mon.title')}</h1>
          <UpdatedLine at={obs.updatedAt} />
        </div>
        <div className="head-actions">
          <button type="button" className="btn btn-ghost" onClick={obs.reload} data-testid="mon-refresh">
            <Icon name="refresh" size={16} /> {t('common.refresh')}
          </button>
          {showDevices && (
            <Link to="/devices" className="btn btn-ghost" data-testid="mon-devices-link">
              <Icon name="devices" size={16} /> {t('module.devices')}
            </Link>
          )}
        </div>
      </div>

      <div className="domain-switch" role="group" aria-label={t('mon.domain')} data-testid="mon-domain-switch">
        <button
          type="button"
          className={`chip-button${layers.size === ALL_IDS.length ? ' on' : ''}`}
          aria-pressed={layers.size === ALL_IDS.length}
          onClick={() => setLayers(new Set(ALL_IDS))}
          data-testid="mon-switch-all"
        >
          {t('mon.allDomains')}
        </button>
        {DOMAINS.map((d) => {
          const only = layers.size === 1 && layers.has(d.id);
          return (
            <button
              key={d.id}
              type="button"
              className={`chip-button${only ? ' on' : ''}`}
              aria-pressed={only}
              onClick={() => setLayers(new Set([d.id]))}
              data-testid={`mon-switch-${d.id}`}
            >
              <Icon name={d.icon} size={16} /> {t(`monDomain.${d.id}`)}
              <span className="chip-count">{total(d.id)}</span>
            </button>
          );
        })}
      </div>

      <ErrorBox error={obs.error} testId="mon-error" />
      <div className="mon-layout">
        <section className="card mon-map-card" aria-label={t('mon.map')}>
          {obs.loading && !obs.data && <Spinner />}
          <MonitorMap
            {...base}
            testId="mon-map"
            points={points}
            fitKey={[...layers].join(',') + (base.ready ? '' : '?')}
            openLabel={t('mon.open')}
            onOpen={(id) => navigate(`/monitoring/entity/${encodeURIComponent(id)}`)}
            large={wall}
          />
        </section>
        <aside className="mon-side" aria-label={t('mon.legend')} data-testid="mon-legend">
          {DOMAINS.map((d) => {
            const list = obs.data?.[d.id] ?? [];
            const counts = stateCounts(d, list);
            const attention = counts.filter(([s]) => ALERT_STATES.has(s)).reduce((n, [, c]) => n + c, 0);
            const on = layers.has(d.id);
            return (
              <section
                key={d.id}
                className={`card mon-domain${on ? '' : ' off'}${list.length === 0 ? ' empty-domain' : ''}`}
                data-testid={`mon-legend-${d.id}`}
                data-count={list.length}
              >
                <div className="mon-domain-head">
                  <label className="checkbox">
                    <input type="checkbox" checked={on} onChange={() => toggle(d.id)} data-testid={`mon-layer-${d.id}`} />
                    <Icon name={d.icon} size={18} />
                    <strong>{t(`monDomain.${d.id}`)}</strong>
                  </label>
                  <Link to={`/monitoring/${d.id}`} className="btn btn-small" data-testid={`mon-list-link-${d.id}`}>
                    {t('mon.list')} ({list.length})
                  </Link>
                </div>
                {attention > 0 && (
                  <p className="mon-attention" data-testid={`mon-attention-${d.id}`}>
                    {t('mon.attention', { count: attention })}
                  </p>
                )}
                {on && (
                  <ul className="legend-bands">
                    {[...d.states, 'unknown' as const].map((s) => {
                      const n = counts.find(([k]) => k === s)?.[1] ?? 0;
                      if (s === 'unknown' && n === 0) return null;
                      return (
                        <li key={s} className={n === 0 ? 'muted' : undefined}>
                          <span className={`swatch state-${s}`} style={{ background: STATE_COLORS[s] }} aria-hidden="true" />
                          <span>{td(`monState.${s}`, s)}</span>
                          <span className="legend-count">{n}</span>
                        </li>
                      );
                    })}
                  </ul>
                )}
                {on && d.key.length > 0 && list.length > 0 && (
                  <p className="small muted">{d.key.map((k) => `${label(k)}${attrDef(d, k).unit ? ` (${attrDef(d, k).unit})` : ''}`).join(' · ')}</p>
                )}
              </section>
            );
          })}
        </aside>
      </div>
    </div>
  );
}
