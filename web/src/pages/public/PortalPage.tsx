import { useMemo, useState, type FormEvent } from 'react';
import { api, asPage } from '../../api/client';
import type { PublicReport } from '../../api/reports';
import type { Page, UnitRef } from '../../api/types';
import { useApp } from '../../app/AppContext';
import { useAsync } from '../../app/hooks';
import { DataTable, type Column } from '../../components/DataTable';
import { ErrorBox, InputField, SelectField, Spinner } from '../../components/Forms';
import { StatusBadge, categoryLabel } from '../../components/ReportBits';
import { PointsMap } from '../../components/ReportMap';
import { boundsCentre, categoryTree, nextDay, statusColor, type Bounds } from '../../lib/reports';
import { compareValues } from '../../lib/text';
import { formatDate, vnInputToUtc } from '../../lib/time';
import { Link, navigate } from '../../router';
import { usePublicConfig } from './PublicLayout';

interface PublicFilters {
  commune: string;
  category: string;
  status: '' | 'published' | 'closed';
  from: string;
  to: string;
  q: string;
}
const EMPTY: PublicFilters = { commune: '', category: '', status: '', from: '', to: '', q: '' };
/** At most this many reports are drawn on the map (the newest ones loaded). */
const MAP_LIMIT = 500;

/** `/p`: the public portal of published reports, a map and a filterable list. */
export function PortalPage() {
  const { t, td, locale } = useApp();
  const cfg = usePublicConfig();
  const [draft, setDraft] = useState<PublicFilters>(EMPTY);
  const [filters, setFilters] = useState<PublicFilters>(EMPTY);
  const [extra, setExtra] = useState<PublicReport[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  // Communes seen in answers so far (there is no public list of communes).
  const [communes, setCommunes] = useState<Map<number, UnitRef>>(() => new Map());

  const query = {
    commune: filters.commune,
    category: filters.category,
    status: filters.status,
    from: filters.from ? vnInputToUtc(filters.from) : undefined,
    to: filters.to ? vnInputToUtc(nextDay(filters.to)) : undefined,
    q: filters.q.trim(),
  };
  const remember = (items: PublicReport[]) =>
    setCommunes((m) => {
      const n = new Map(m);
      for (const r of items) if (r.commune) n.set(r.commune.id, r.commune);
      return n.size === m.size ? m : n;
    });
  const list = useAsync(async (signal) => {
    const page = asPage(await api.get<Page<PublicReport> | PublicReport[]>('/api/public/reports', { ...query, limit: 200 }, signal));
    setExtra([]);
    setCursor(page.next_cursor);
    remember(page.items);
    return page.items;
  }, [filters]);
  const loadMore = async () => {
    if (!cursor) return;
    setMoreError(null);
    try {
      const page = asPage(await api.get<Page<PublicReport>>('/api/public/reports', { ...query, limit: 200, cursor }));
      setExtra((e) => [...e, ...page.items]);
      setCursor(page.next_cursor);
      remember(page.items);
    } catch (e) {
      setMoreError(e);
    }
  };
  const rows = useMemo(() => [...(list.data ?? []), ...extra], [list.data, extra]);
  const communeList = [...communes.values()].sort((a, b) => compareValues(a.name, b.name));
  const cats = cfg.data?.categories ?? [];

  const columns: Column<PublicReport>[] = [
    { key: 'id', label: '#', value: (r) => r.id, render: (r) => <Link to={`/p/reports/${r.id}`}>#{r.id}</Link> },
    { key: 'category', label: t('reports.category'), value: (r) => categoryLabel(r.category, locale) },
    { key: 'description', label: t('reports.description'), value: (r) => r.description, render: (r) => <span className="clamp-2">{r.description}</span> },
    { key: 'commune', label: t('reports.commune'), value: (r) => r.commune?.name ?? '' },
    { key: 'status', label: t('reports.status'), value: (r) => td(`reportStatus.${r.status}`, r.status), render: (r) => <StatusBadge status={r.status} testId="row-status" /> },
    { key: 'received_at', label: t('reports.receivedAt'), value: (r) => r.received_at, render: (r) => formatDate(r.received_at, locale) },
    { key: 'published_at', label: t('track.publishedAt'), value: (r) => r.published_at ?? '', render: (r) => formatDate(r.published_at, locale) },
  ];

  const set = (k: keyof PublicFilters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const bounds = (cfg.data?.bounds ?? null) as Bounds | null;

  return (
    <div className="page public-page" data-testid="portal-page">
      <div className="page-head">
        <div>
          <h1>{t('portal.title')}</h1>
          <p className="muted">{t('portal.intro')}</p>
        </div>
        <div className="head-actions">
          <Link to="/p/new" className="btn btn-primary" data-testid="portal-new">
            {t('public.navNew')}
          </Link>
        </div>
      </div>
      <form className="card filters" onSubmit={apply} data-testid="portal-filters">
        <SelectField label={t('reports.commune')} value={draft.commune} onChange={set('commune')} data-testid="portal-commune">
          <option value="">{t('common.all')}</option>
          {communeList.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </SelectField>
        <SelectField label={t('reports.category')} value={draft.category} onChange={set('category')} data-testid="portal-category">
          <option value="">{t('common.all')}</option>
          {categoryTree(cats).flatMap((n) => [
            <option key={n.category.id} value={n.category.id}>
              {categoryLabel(n.category, locale)}
            </option>,
            ...n.children.map((c) => (
              <option key={c.id} value={c.id}>
                {'— ' + categoryLabel(c, locale)}
              </option>
            )),
          ])}
        </SelectField>
        <SelectField label={t('reports.status')} value={draft.status} onChange={set('status')} data-testid="portal-status">
          <option value="">{t('common.all')}</option>
          <option value="published">{td('reportStatus.published')}</option>
          <option value="closed">{td('reportStatus.closed')}</option>
        </SelectField>
        <InputField label={t('reports.from')} type="date" value={draft.from} onChange={set('from')} />
        <InputField label={t('reports.to')} type="date" value={draft.to} onChange={set('to')} />
        <InputField label={t('reports.q')} type="search" value={draft.q} onChange={set('q')} data-testid="portal-q" />
        <div className="filter-actions">
          <button type="submit" className="btn btn-primary" data-testid="portal-apply">
            {t('common.apply')}
          </button>
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            {t('common.clear')}
          </button>
        </div>
      </form>
      <ErrorBox error={list.error ?? cfg.error} />
      <div className="portal-layout">
        <section className="card" aria-labelledby="portal-map-h">
          <h2 id="portal-map-h" className="card-title">
            {t('reports.map')}
          </h2>
          {bounds || rows.length ? (
            <PointsMap
              points={rows.slice(0, MAP_LIMIT).map((r) => ({
                id: r.id,
                lat: r.lat,
                lon: r.lon,
                color: statusColor(r.status),
                label: `${categoryLabel(r.category, locale)} · ${td(`reportStatus.${r.status}`, r.status)}`,
              }))}
              bounds={bounds}
              fallbackCentre={bounds ? boundsCentre(bounds) : [13.9, 108.5]}
              tileUrl={cfg.data?.tile_url ?? null}
              tileAttribution={cfg.data?.tile_attribution ?? ''}
              onOpen={(id) => navigate(`/p/reports/${id}`)}
              testId="portal-map"
            />
          ) : (
            <Spinner />
          )}
          {rows.length > MAP_LIMIT && <p className="hint">{t('portal.mapLimited', { count: MAP_LIMIT })}</p>}
          <ul className="map-legend">
            {(['published', 'closed'] as const).map((s) => (
              <li key={s} className="legend-item">
                <span className="swatch" style={{ background: statusColor(s) }} aria-hidden="true" /> {td(`reportStatus.${s}`, s)}
              </li>
            ))}
          </ul>
        </section>
        <section className="card">
          {list.loading && !list.data ? (
            <Spinner />
          ) : (
            <DataTable
              columns={columns}
              rows={rows}
              rowKey={(r) => r.id}
              exportName="phan-anh-cong-khai"
              testId="portal-table"
              rowTestId={() => 'portal-row'}
              initialSort={{ key: 'published_at', dir: 'desc' }}
            />
          )}
          <ErrorBox error={moreError} />
          {cursor && (
            <button type="button" className="btn" onClick={() => void loadMore()}>
              {t('common.loadMore')}
            </button>
          )}
        </section>
      </div>
    </div>
  );
}
