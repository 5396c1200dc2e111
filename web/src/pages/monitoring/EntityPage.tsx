import { useMemo, useState } from 'react';
import { ApiError, api } from '../../api/client';
import type { Device } from '../../api/devices';
import { fetchHistory, getEntity, resolutionFor, seriesRows, type Observed } from '../../api/ngsi';
import type { LocateResult } from '../../api/types';
import { useApp } from '../../app/AppContext';
import { useAsync, usePolling } from '../../app/hooks';
import { ErrorBox, Spinner } from '../../components/Forms';
import { HistoryChart } from '../../components/HistoryChart';
import { Icon } from '../../components/Icons';
import { availableModules } from '../../components/Layout';
import { PointsMap } from '../../components/ReportMap';
import { useNow } from '../../components/ReportBits';
import { csvFilename, downloadCsv, toCsv } from '../../lib/csv';
import { RANGE_PRESETS, presetRange, rangeText, zoomOut, type TimeRange } from '../../lib/history';
import { STATE_COLORS, attrDef, domainOfType, isSimulated, stateOf, type Domain } from '../../lib/monitoring';
import { formatDateTime, formatNumber, formatRelative } from '../../lib/time';
import { Link } from '../../router';
import { HIDDEN_ATTRS, REFRESH_MS, SimulatedBadge, StateChip, useAttrLabel, useFigure, useMapBase } from './common';

/** `/monitoring/entity/{id}`: one station's current values, place and history. */
export function EntityPage({ id }: { id: string }) {
  const { t } = useApp();
  const entity = useAsync((s) => getEntity(id, s), [id]);
  usePolling(entity.reload, REFRESH_MS);
  const e = entity.data;
  return (
    <div className="page mon-entity-page" data-testid="mon-entity-page">
      <p>
        <Link to="/monitoring" data-testid="back-to-monitoring">
          ← {t('mon.title')}
        </Link>
      </p>
      {entity.loading && !e && <Spinner />}
      <ErrorBox error={entity.error} testId="mon-entity-error" />
      {e && e.id === id && <EntityDetail e={e} />}
    </div>
  );
}

/** Numeric attributes: the domain's in its order, then any other numeric ones. */
function numericAttrs(e: Observed, domain: Domain | undefined): string[] {
  const known = (domain?.attrs ?? []).map((a) => a.name).filter((n) => typeof e.values[n] === 'number');
  const others = Object.keys(e.values)
    .filter((n) => typeof e.values[n] === 'number' && !known.includes(n) && !HIDDEN_ATTRS.has(n))
    .sort();
  return [...known, ...others];
}

function EntityDetail({ e }: { e: Observed }) {
  const { t, locale, me } = useApp();
  const domain = domainOfType(e.type);
  const state = domain ? stateOf(domain, e) : 'unknown';
  const label = useAttrLabel();
  const figure = useFigure();
  const now = useNow(15_000);
  const base = useMapBase();
  const lat = e.lat;
  const lon = e.lon;
  const commune = useAsync(
    (s) =>
      lat === null || lon === null
        ? Promise.resolve(null)
        : api.get<LocateResult>('/api/geo/locate', { lat: lat.toFixed(6), lon: lon.toFixed(6) }, s),
    [lat, lon],
  );
  const source = typeof e.values.source === 'string' ? e.values.source : '';
  const deviceId = source.startsWith('device:') ? source.slice(7) : null;
  const canDevices = availableModules(me).includes('devices');
  const device = useAsync(
    (s) => (deviceId && canDevices ? api.get<Device>(`/api/devices/${encodeURIComponent(deviceId)}`, undefined, s) : Promise.resolve(null)),
    [deviceId, canDevices],
  );
  const simulated = isSimulated(e, device.data?.demo ? new Set([device.data.id]) : undefined);

  const shown = [
    ...(domain?.attrs.map((a) => a.name) ?? []),
    ...(domain?.id === 'water' ? ['floodAlertLevels'] : []),
  ].filter((n) => e.values[n] !== undefined);
  const others = Object.keys(e.values)
    .filter((n) => !shown.includes(n) && !HIDDEN_ATTRS.has(n))
    .sort();
  const numeric = numericAttrs(e, domain);

  const valueRow = (n: string) => (
    <div key={n} data-testid={`mon-value-${n}`}>
      <dt>{label(n)}</dt>
      <dd>
        <strong className="mon-figure">{figure(domain, n, e.values[n])}</strong>
        {e.observedAt[n] && (
          <span className="small muted" title={formatDateTime(e.observedAt[n], locale)}>
            {' '}
            · {formatRelative(e.observedAt[n], now, locale)}
          </span>
        )}
      </dd>
    </div>
  );

  return (
    <div className="stack" data-testid="mon-entity" data-entity-id={e.id} data-state={state}>
      <div className="page-head">
        <div>
          <h1 data-testid="mon-entity-name">
            {domain && <Icon name={domain.icon} size={26} />} {e.name}
          </h1>
          <div className="report-head">
            <StateChip state={state} testId="mon-entity-state" />
            {domain && (
              <Link to={`/monitoring/${domain.id}`} className="badge">
                {t(`monDomain.${domain.id}`)}
              </Link>
            )}
            {simulated && <SimulatedBadge />}
          </div>
        </div>
      </div>

      <div className="detail-layout">
        <section className="card">
          <h2 className="card-title">{t('mon.current')}</h2>
          <dl className="facts facts-2 mon-values">{shown.map(valueRow)}</dl>
          {others.length > 0 && (
            <details className="subsection">
              <summary>{t('mon.otherAttrs')}</summary>
              <dl className="facts facts-2">{others.map(valueRow)}</dl>
            </details>
          )}
          <dl className="facts">
            <div>
              <dt>{t('mon.lastObserved')}</dt>
              <dd>{e.lastObserved ? formatDateTime(e.lastObserved, locale) : '—'}</dd>
            </div>
            <div>
              <dt>{t('mon.entityId')}</dt>
              <dd>
                <code>{e.id}</code> <span className="muted small">({e.type})</span>
              </dd>
            </div>
            {typeof e.values.dataProvider === 'string' && (
              <div>
                <dt>{label('dataProvider')}</dt>
                <dd>{e.values.dataProvider}</dd>
              </div>
            )}
            {deviceId && (
              <div>
                <dt>{t('mon.device')}</dt>
                <dd>
                  {canDevices ? (
                    <Link to={`/devices/${encodeURIComponent(deviceId)}`} data-testid="mon-entity-device">
                      {device.data?.name ?? deviceId}
                    </Link>
                  ) : (
                    <code>{deviceId}</code>
                  )}
                </dd>
              </div>
            )}
          </dl>
        </section>

        <section className="card">
          <h2 className="card-title">{t('mon.place')}</h2>
          {lat !== null && lon !== null ? (
            <>
              <PointsMap
                {...base}
                testId="mon-entity-map"
                className="small-map"
                points={[{ id: 0, lat, lon, color: STATE_COLORS[state], label: e.name }]}
                singleZoom={14}
              />
              <dl className="facts">
                <div>
                  <dt>{t('mon.commune')}</dt>
                  <dd data-testid="mon-entity-commune">
                    {commune.data?.unit?.name ?? (commune.data && !commune.data.inside_province ? t('mon.outsideProvince') : '—')}
                  </dd>
                </div>
                <div>
                  <dt>{t('mon.coords')}</dt>
                  <dd>
                    {formatNumber(lat, locale, 5)}, {formatNumber(lon, locale, 5)}
                  </dd>
                </div>
              </dl>
            </>
          ) : (
            <p className="muted">—</p>
          )}
        </section>
      </div>

      {numeric.length > 0 && <HistoryPanel e={e} domain={domain} attrs={numeric} />}
    </div>
  );
}

function HistoryPanel({ e, domain, attrs }: { e: Observed; domain: Domain | undefined; attrs: string[] }) {
  const { t, td, locale, wall } = useApp();
  const label = useAttrLabel();
  const [range, setRange] = useState<TimeRange>(() => presetRange('24h', Date.now()));
  const resolution = resolutionFor(range.to - range.from);
  const attrKey = attrs.join(',');
  const hist = useAsync(
    (s) => fetchHistory({ id: e.id, attrs, from: new Date(range.from), to: new Date(range.to), resolution }, s),
    // `attrs` is represented by its key.
    [e.id, attrKey, range.from, range.to, resolution],
  );
  // A range that follows "the last 24 h" moves on every minute.
  usePolling(() => {
    if (range.preset) setRange(presetRange(range.preset, Date.now()));
  }, 60_000);
  const unavailable =
    hist.error instanceof ApiError && (hist.error.status === 404 || hist.error.status === 501) && !/ResourceNotFound/.test(hist.error.problem.type ?? '');
  const noData = hist.error instanceof ApiError && hist.error.status === 404 && !unavailable;
  const [from, to] = rangeText(range, locale);
  const shortId = useMemo(() => e.id.slice(e.id.lastIndexOf(':') + 1).replace(/[^A-Za-z0-9_.-]/g, '_') || 'entity', [e.id]);

  const exportSeries = (a: string) => {
    const s = hist.data?.[a];
    if (!s) return;
    const def = attrDef(domain, a);
    const head = [t('mon.observedAt') + ' (UTC)', `${label(a)}${def.unit ? ` (${def.unit})` : ''}`];
    if (s.min && s.max) head.push('min', 'max');
    downloadCsv(csvFilename(`${shortId}-${a}`), toCsv(head, seriesRows(s)));
  };

  return (
    <section className="card" aria-labelledby="mon-history" data-testid="mon-history" data-resolution={resolution}>
      <div className="map-head">
        <h2 id="mon-history" className="card-title">
          {t('mon.history')}
        </h2>
        <div className="segmented" role="group" aria-label={t('mon.history')}>
          {RANGE_PRESETS.map((p) => (
            <button
              key={p}
              type="button"
              className={range.preset === p ? 'on' : undefined}
              aria-pressed={range.preset === p}
              onClick={() => setRange(presetRange(p, Date.now()))}
              data-testid={`mon-range-${p}`}
            >
              {t(p === '24h' ? 'mon.range24h' : p === '7d' ? 'mon.range7d' : 'mon.range30d')}
            </button>
          ))}
        </div>
        <button type="button" className="btn btn-small" onClick={() => setRange(zoomOut(range, Date.now()))} data-testid="mon-zoom-out">
          {t('mon.zoomOut')}
        </button>
      </div>
      <p className="small muted" data-testid="mon-history-range">
        {t('mon.rangeShown', { from, to })} · {td(`mon.resolution.${resolution}`)}
      </p>
      <p className="small muted mon-zoom-hint">{t('mon.zoomHint')}</p>
      {hist.loading && !hist.data && <Spinner />}
      {unavailable ? (
        <p className="alert alert-info" data-testid="history-unavailable">
          {t('mon.historyUnavailable')}
        </p>
      ) : noData ? (
        <p className="muted">{t('mon.noHistory')}</p>
      ) : (
        <ErrorBox error={hist.error} testId="mon-history-error" />
      )}
      {hist.data && (
        <div className="history-grid">
          {attrs.map((a) => {
            const s = hist.data?.[a];
            const def = attrDef(domain, a);
            if (!s) return null;
            return (
              <div key={a} className="history-item" data-testid={`mon-history-${a}`}>
                <div className="history-head">
                  <h3>
                    {label(a)} {def.unit && <span className="muted small">({def.unit})</span>}
                    {def.ratio && <span className="muted small">(%)</span>}
                  </h3>
                  <span className="muted small">{t('mon.points', { count: s.t.length })}</span>
                  <button type="button" className="btn btn-small btn-ghost" onClick={() => exportSeries(a)} data-testid={`mon-export-${a}`}>
                    <Icon name="download" size={14} /> {t('common.exportCsv')}
                  </button>
                </div>
                {s.t.length === 0 ? (
                  <p className="muted small" data-testid="mon-history-empty">
                    {t('mon.noHistory')}
                  </p>
                ) : (
                  <HistoryChart
                    series={s}
                    range={range}
                    label={label(a)}
                    timeLabel={t('mon.observedAt')}
                    unit={def.unit}
                    ratio={def.ratio}
                    locale={locale}
                    dark={wall}
                    onZoom={setRange}
                    testId="mon-chart"
                  />
                )}
              </div>
            );
          })}
        </div>
      )}
    </section>
  );
}
