import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, api, fetchAll } from '../api/client';
import {
  COMMUNE_LEVEL_TYPES,
  ORG_UNIT_TYPES,
  type Boundary,
  type LocateResult,
  type OrgUnit,
  type OrgUnitDetail,
  type OrgUnitType,
  type UnitFeatureCollection,
} from '../api/types';
import { useApp } from '../app/AppContext';
import { useAsync, useLiveTopic } from '../app/hooks';
import { DataTable, type Column } from '../components/DataTable';
import { ErrorBox, Spinner } from '../components/Forms';
import { Icon } from '../components/Icons';
import { OrgMap, type MapCentre, type MapLabels } from '../components/OrgMap';
import { csvFilename, downloadCsv, toCsv } from '../lib/csv';
import { compareValues } from '../lib/text';
import { formatNumber } from '../lib/time';
import { Link, navigate } from '../router';

type TypeFilter = '' | 'commune-level' | OrgUnitType;

function isCommuneLevel(t: OrgUnitType): boolean {
  return COMMUNE_LEVEL_TYPES.includes(t);
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = setTimeout(() => setV(value), ms);
    return () => clearTimeout(h);
  }, [value, ms]);
  return v;
}

/** Badge for units whose code is a demo placeholder. */
function DemoCodeBadge() {
  const { t } = useApp();
  return (
    <span className="badge badge-warn" data-testid="demo-code">
      {t('org.demoCode')}
    </span>
  );
}

function BoundaryBadge({ boundary }: { boundary: Boundary }) {
  const { t } = useApp();
  return (
    <span className={`badge boundary-badge boundary-${boundary}`} data-testid={`boundary-${boundary}`}>
      {t(`org.boundary.${boundary}`)}
    </span>
  );
}

/** Whether the list that contains unit `id` has been loaded (a number that changes when it is). */
function d0Loaded(children: ChildMap, id: number | null): number {
  if (id === null) return 0;
  let n = 0;
  for (const list of Object.values(children)) if (Array.isArray(list)) n += list.some((u) => u.id === id) ? 1 : 0;
  return n;
}

/** Children of every loaded parent, by parent id. */
type ChildMap = Record<number, OrgUnit[] | 'error'>;

export function OrgPage({ id }: { id: number | null }) {
  const { t, td, locale, me, config, wall } = useApp();
  const [children, setChildren] = useState<ChildMap>({});
  const childrenRef = useRef(children);
  useEffect(() => {
    childrenRef.current = children;
  }, [children]);
  // Tree nodes open along the selected unit's path automatically; the user can open more, or
  // close nodes (a close lasts while the same unit stays selected).
  const [opened, setOpened] = useState<Set<number>>(new Set());
  const [collapsed, setCollapsed] = useState<{ at: number | null; ids: Set<number> }>({ at: null, ids: new Set() });
  const [q, setQ] = useState('');
  const [typeFilter, setTypeFilter] = useState<TypeFilter>('');
  const dq = useDebounced(q.trim(), 300);

  const inflight = useRef(new Set<number>());
  const loadChildren = useCallback(async (parentId: number, force = false) => {
    const cur = childrenRef.current[parentId];
    if (inflight.current.has(parentId) || (!force && cur && cur !== 'error')) return;
    inflight.current.add(parentId);
    try {
      const items = await fetchAll<OrgUnit>('/api/org-units', { parent: parentId });
      setChildren((c) => ({ ...c, [parentId]: items }));
    } catch {
      setChildren((c) => ({ ...c, [parentId]: 'error' }));
    } finally {
      inflight.current.delete(parentId);
    }
  }, []);

  // Roots of the tree: the units of the caller's grants (home unit if none), minus any that lie
  // under another root. If that gives nothing, the flat tree endpoint decides.
  const roots = useAsync<OrgUnit[]>(
    async (signal) => {
      const ids = new Set<number>((me?.grants ?? []).map((g) => g.unit.id));
      if (ids.size === 0 && me?.home_unit) ids.add(me.home_unit.id);
      const details = (
        await Promise.all(
          [...ids].map((uid) => api.get<OrgUnitDetail>(`/api/org-units/${uid}`, undefined, signal).catch(() => null)),
        )
      ).filter((d): d is OrgUnitDetail => d !== null);
      let out: OrgUnit[] = details.filter(
        (d) => !(d.path ?? []).some((p) => p.id !== d.id && ids.has(p.id) && details.some((o) => o.id === p.id)),
      );
      if (out.length === 0) {
        const all = await api.get<OrgUnit[]>('/api/org-units/tree', undefined, signal);
        const seen = new Set(all.map((u) => u.id));
        out = all.filter((u) => u.parent_id === null || !seen.has(u.parent_id));
      }
      return out.sort((a, b) => a.level - b.level || compareValues(a.name, b.name));
    },
    [me?.id],
  );

  // With nothing selected and one root, select it.
  useEffect(() => {
    const only = roots.data?.length === 1 ? roots.data[0] : undefined;
    if (id === null && only) navigate(`/org/${only.id}`, { replace: true });
  }, [id, roots.data]);

  const detail = useAsync<OrgUnitDetail | null>(
    (signal) => (id === null ? Promise.resolve(null) : api.get<OrgUnitDetail>(`/api/org-units/${id}`, undefined, signal)),
    [id],
  );

  // Open the tree along the selected unit's path.
  const autoOpen = useMemo(() => {
    const d = detail.data;
    if (!d) return [] as number[];
    const ancestors = (d.path ?? []).map((p) => p.id).filter((pid) => pid !== d.id);
    return d.children > 0 ? [...ancestors, d.id] : ancestors;
  }, [detail.data]);
  useEffect(() => {
    // loadChildren sets state only after its fetch resolves, which the rule cannot see.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    for (const a of autoOpen) void loadChildren(a);
  }, [autoOpen, loadChildren]);
  const isOpen = (uid: number) =>
    !(collapsed.at === id && collapsed.ids.has(uid)) && (opened.has(uid) || autoOpen.includes(uid));

  // Live updates: reload what is on screen.
  useLiveTopic('org-units', () => {
    for (const k of Object.keys(childrenRef.current)) void loadChildren(Number(k), true);
    detail.reload();
    roots.reload();
  });

  // Search / type filter: a flat list from the server.
  const searching = dq !== '' || typeFilter !== '';
  const results = useAsync<OrgUnit[] | null>(
    async (signal) => {
      if (!searching) return null;
      const types: (OrgUnitType | undefined)[] =
        typeFilter === 'commune-level' ? [...COMMUNE_LEVEL_TYPES] : [typeFilter || undefined];
      const lists = await Promise.all(
        types.map((type) => fetchAll<OrgUnit>('/api/org-units', { q: dq, type }, signal, 4)),
      );
      const seen = new Set<number>();
      const merged = lists.flat().filter((u) => (seen.has(u.id) ? false : (seen.add(u.id), true)));
      // The server sorts each list; merged lists are re-sorted in Vietnamese order.
      return types.length > 1 ? merged.sort((a, b) => compareValues(a.name, b.name)) : merged;
    },
    [dq, typeFilter, searching],
  );

  const select = useCallback((uid: number) => navigate(`/org/${uid}`), []);

  // Keep the selected tree row in view inside the tree's own scroll box.
  const treeBoxRef = useRef<HTMLDivElement>(null);
  const selectedLoaded = d0Loaded(children, id);
  useEffect(() => {
    const box = treeBoxRef.current;
    const row = box?.querySelector<HTMLElement>('.tree-row.selected');
    if (!box || !row) return;
    const top = row.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - row.offsetHeight) {
      box.scrollTop = Math.max(0, top - box.clientHeight / 3);
    }
  }, [id, selectedLoaded]);

  const toggle = (uid: number) => {
    if (isOpen(uid)) {
      setOpened((o) => {
        const n = new Set(o);
        n.delete(uid);
        return n;
      });
      setCollapsed((c) => ({ at: id, ids: new Set(c.at === id ? [...c.ids, uid] : [uid]) }));
    } else {
      setOpened((o) => new Set(o).add(uid));
      setCollapsed((c) => {
        const n = new Set(c.at === id ? c.ids : []);
        n.delete(uid);
        return { at: id, ids: n };
      });
      void loadChildren(uid);
    }
  };

  const renderNode = (u: OrgUnit, depth: number) => {
    const open = isOpen(u.id);
    const kids = children[u.id];
    const isSel = u.id === id;
    return (
      <li
        key={u.id}
        role="treeitem"
        aria-expanded={u.children > 0 ? open : undefined}
        aria-selected={isSel}
        aria-level={depth + 1}
        data-testid="org-node"
        data-id={u.id}
        data-code={u.code}
        data-type={u.type}
      >
        <div className={`tree-row${isSel ? ' selected' : ''}`} style={{ paddingInlineStart: `${depth * 1.1 + 0.25}rem` }}>
          {u.children > 0 ? (
            <button
              type="button"
              className={`tree-toggle${open ? ' open' : ''}`}
              onClick={() => toggle(u.id)}
              aria-label={t(open ? 'org.collapse' : 'org.expand', { name: u.name })}
              data-testid="org-node-toggle"
              tabIndex={-1}
            >
              <Icon name="chevron" size={16} />
            </button>
          ) : (
            <span className="tree-toggle-spacer" />
          )}
          <button
            type="button"
            className="tree-label"
            onClick={() => {
              select(u.id);
              if (u.children > 0 && !open) toggle(u.id);
            }}
            aria-current={isSel ? 'true' : undefined}
            data-testid="org-node-select"
          >
            <span className="tree-name">{u.name}</span>
            <span className={`type-dot type-${u.type}`} title={td(`unitType.${u.type}`)} aria-hidden="true" />
            {u.children > 0 && <span className="muted small tree-count">{u.children}</span>}
          </button>
        </div>
        {open && u.children > 0 && (
          <ul role="group">
            {kids === undefined ? (
              <li className="tree-loading muted small" style={{ paddingInlineStart: `${(depth + 1) * 1.1 + 1.6}rem` }}>
                {t('org.loadingChildren')}
              </li>
            ) : kids === 'error' ? (
              <li className="muted small">{t('error.title')}</li>
            ) : (
              kids.map((k) => renderNode(k, depth + 1))
            )}
          </ul>
        )}
      </li>
    );
  };

  const d = detail.data ?? null;
  const dKids = d ? children[d.id] : undefined;
  const kidList = useMemo(() => (Array.isArray(dKids) ? dKids : []), [dKids]);

  // Map data: the selected unit's children; for a unit without children, its siblings.
  const mapParent = d ? (d.children > 0 ? d.id : d.parent_id) : null;
  const geo = useAsync<UnitFeatureCollection | null>(
    async (signal) => {
      if (!d) return null;
      let fc: UnitFeatureCollection | null = null;
      if (mapParent !== null) {
        try {
          fc = await api.get<UnitFeatureCollection>('/api/org-units/geojson', { parent: mapParent }, signal);
        } catch (e) {
          if (!(e instanceof ApiError) || (e.status !== 403 && e.status !== 404)) throw e;
        }
      }
      if (fc && (d.children > 0 || fc.features.some((f) => f.properties.id === d.id))) return fc;
      // The parent is out of the caller's scope (or its answer lacks this unit): take what the
      // caller may see without a parent and keep this unit.
      try {
        const all = await api.get<UnitFeatureCollection>('/api/org-units/geojson', undefined, signal);
        const own = all.features.filter((f) => f.properties.id === d.id);
        return { type: 'FeatureCollection', features: [...(fc?.features ?? []), ...own] };
      } catch (e) {
        if (fc) return fc;
        throw e;
      }
    },
    [mapParent, d?.id],
  );
  useLiveTopic('org-units', () => geo.reload());

  const centres = useMemo<MapCentre[]>(() => {
    if (!d) return [];
    const src: OrgUnit[] = d.children > 0 ? (Array.isArray(children[d.id]) ? (children[d.id] as OrgUnit[]) : []) : [d];
    if (d.children === 0 && d.parent_id !== null) {
      const sibs = children[d.parent_id];
      if (Array.isArray(sibs)) src.push(...sibs.filter((s) => s.id !== d.id));
    }
    return src
      .filter((u) => u.lat !== null && u.lon !== null)
      .map((u) => ({ id: u.id, name: u.name, lat: u.lat as number, lon: u.lon as number }));
  }, [d, children]);

  const mapLabels = useMemo<MapLabels>(
    () => ({
      boundary: (b) => t(`org.boundary.${b}`),
      type: (ty) => td(`unitType.${ty}`),
      open: t('org.openUnit'),
      code: t('org.code'),
      area: (km2) => t('org.areaValue', { value: formatNumber(km2, locale) }),
    }),
    [t, td, locale],
  );

  const features = geo.data ?? null;
  const hasApprox = (features?.features ?? []).some((f) => f.properties.boundary === 'approximate') || d?.boundary === 'approximate';
  const hasOfficial = (features?.features ?? []).some((f) => f.properties.boundary === 'official');

  // "Which unit is here?"
  const [locateMode, setLocateMode] = useState(false);
  const [locate, setLocate] = useState<{ lat: number; lon: number; result?: LocateResult; error?: unknown } | null>(null);
  const onLocate = useCallback(async (lat: number, lon: number) => {
    setLocate({ lat, lon });
    try {
      const result = await api.get<LocateResult>('/api/geo/locate', { lat: lat.toFixed(6), lon: lon.toFixed(6) });
      setLocate({ lat, lon, result });
    } catch (error) {
      setLocate({ lat, lon, error });
    }
  }, []);

  const typeCounts = useMemo(() => {
    const m = new Map<OrgUnitType, number>();
    for (const k of kidList) m.set(k.type, (m.get(k.type) ?? 0) + 1);
    return m;
  }, [kidList]);
  const communeLevelCount = kidList.filter((k) => isCommuneLevel(k.type)).length;

  const childColumns: Column<OrgUnit>[] = [
    {
      key: 'name',
      label: t('org.children'),
      value: (u) => u.name,
      render: (u) => (
        <Link to={`/org/${u.id}`} data-testid="org-child-link">
          {u.name}
        </Link>
      ),
    },
    {
      key: 'code',
      label: t('org.code'),
      value: (u) => u.code,
      render: (u) => (
        <>
          <code>{u.code}</code> {u.demo_code && <DemoCodeBadge />}
        </>
      ),
    },
    { key: 'type', label: t('org.type'), value: (u) => td(`unitType.${u.type}`) },
    {
      key: 'area',
      label: t('org.area'),
      value: (u) => u.area_km2,
      render: (u) => (u.area_km2 !== null ? t('org.areaValue', { value: formatNumber(u.area_km2, locale) }) : ''),
      className: 'num',
    },
  ];

  const fmtCoord = (n: number) => n.toFixed(4);

  return (
    <div className="page org-page" data-testid="org-page">
      <div className="page-head">
        <h1>{t('org.title')}</h1>
      </div>
      <div className="org-layout">
        <aside className="org-side card" aria-label={t('org.tree')}>
          <div className="org-filters">
            <label className="field">
              <span className="label">{t('org.searchLabel')}</span>
              <input
                type="search"
                value={q}
                onChange={(e) => setQ(e.target.value)}
                placeholder={t('org.searchPlaceholder')}
                data-testid="org-search"
              />
            </label>
            <label className="field">
              <span className="label">{t('org.typeFilter')}</span>
              <select
                value={typeFilter}
                onChange={(e) => setTypeFilter(e.target.value as TypeFilter)}
                data-testid="org-type-filter"
              >
                <option value="">{t('common.all')}</option>
                <option value="commune-level">{t('unitType.communeLevel')}</option>
                {ORG_UNIT_TYPES.map((ty) => (
                  <option key={ty} value={ty}>
                    {td(`unitType.${ty}`)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {searching ? (
            <div className="org-results" data-testid="org-results">
              {results.loading && !results.data ? (
                <Spinner />
              ) : results.error ? (
                <ErrorBox error={results.error} />
              ) : (
                <>
                  <div className="results-head">
                    <p className="muted small" data-testid="org-results-count" data-count={results.data?.length ?? 0}>
                      {t('org.searchResults', { count: results.data?.length ?? 0 })}
                    </p>
                    {(results.data?.length ?? 0) > 0 && (
                      <button
                        type="button"
                        className="btn btn-small btn-ghost"
                        onClick={() =>
                          downloadCsv(
                            csvFilename('tim-don-vi'),
                            toCsv(
                              [t('org.children'), t('org.code'), t('org.type'), t('org.area')],
                              (results.data ?? []).map((u) => [u.name, u.code, td(`unitType.${u.type}`), u.area_km2]),
                            ),
                          )
                        }
                        data-testid="org-results-export"
                      >
                        {t('common.exportCsv')}
                      </button>
                    )}
                  </div>
                  {(results.data?.length ?? 0) === 0 ? (
                    <p className="empty">{t('org.noResults')}</p>
                  ) : (
                    <ul className="result-list">
                      {results.data?.map((u) => (
                        <li key={u.id}>
                          <button
                            type="button"
                            className={`result${u.id === id ? ' selected' : ''}`}
                            onClick={() => select(u.id)}
                            data-testid="org-result"
                            data-id={u.id}
                            data-code={u.code}
                          >
                            <span className="result-name">{u.name}</span>
                            <span className="muted small">
                              {td(`unitType.${u.type}`)} · {u.code}
                            </span>
                          </button>
                        </li>
                      ))}
                    </ul>
                  )}
                </>
              )}
            </div>
          ) : (
            <div className="org-tree-wrap" ref={treeBoxRef}>
              {roots.loading && !roots.data ? (
                <Spinner />
              ) : roots.error ? (
                <ErrorBox error={roots.error} />
              ) : (
                <ul className="tree" role="tree" aria-label={t('org.tree')} data-testid="org-tree">
                  {roots.data?.map((r) => renderNode(r, 0))}
                </ul>
              )}
            </div>
          )}
        </aside>

        <section className="org-main" aria-live="polite">
          {id === null ? (
            <p className="muted card">{t('org.select')}</p>
          ) : detail.error ? (
            <ErrorBox error={detail.error} />
          ) : !d ? (
            <div className="card">
              <Spinner />
            </div>
          ) : (
            <article className="card org-detail" data-testid="org-detail" data-id={d.id} data-code={d.code}>
              <nav className="breadcrumb small" aria-label={t('org.parentPath')} data-testid="org-breadcrumb">
                <ol>
                  {(d.path ?? [])
                    .filter((p) => p.id !== d.id)
                    .map((p) => (
                      <li key={p.id}>
                        <Link to={`/org/${p.id}`}>{p.name}</Link>
                      </li>
                    ))}
                  <li aria-current="page">{d.name}</li>
                </ol>
              </nav>
              <h2 className="org-detail-name" data-testid="org-detail-name">
                {d.name}
              </h2>
              <div className="badges">
                <span className={`badge type-badge type-${d.type}`}>{td(`unitType.${d.type}`)}</span>
                {d.boundary !== 'none' && <BoundaryBadge boundary={d.boundary} />}
                {d.demo_code && <DemoCodeBadge />}
              </div>
              <dl className="facts">
                <div>
                  <dt>{t('org.code')}</dt>
                  <dd data-testid="org-detail-code">
                    <code>{d.code}</code>
                  </dd>
                </div>
                <div>
                  <dt>{t('org.type')}</dt>
                  <dd>{td(`unitType.${d.type}`)}</dd>
                </div>
                {d.area_km2 !== null && (
                  <div>
                    <dt>{t('org.area')}</dt>
                    <dd>{t('org.areaValue', { value: formatNumber(d.area_km2, locale) })}</dd>
                  </div>
                )}
                {d.lat !== null && d.lon !== null && (
                  <div>
                    <dt>{t('org.centre')}</dt>
                    <dd>
                      {fmtCoord(d.lat)}, {fmtCoord(d.lon)}
                    </dd>
                  </div>
                )}
                <div className="facts-2">
                  <dt>{t('org.boundary')}</dt>
                  <dd data-testid="org-detail-boundary">{t(`org.boundary.${d.boundary}`)}</dd>
                </div>
                {(d.contact?.phone || d.contact?.email || d.contact?.address) && (
                  <div className="facts-wide">
                    <dt>{t('org.contact')}</dt>
                    <dd data-testid="org-detail-contact">
                      {d.contact.address && <div>{d.contact.address}</div>}
                      {d.contact.phone && (
                        <div>
                          {t('org.phone')}: <a href={`tel:${d.contact.phone}`}>{d.contact.phone}</a>
                        </div>
                      )}
                      {d.contact.email && (
                        <div>
                          {t('org.email')}: <a href={`mailto:${d.contact.email}`}>{d.contact.email}</a>
                        </div>
                      )}
                    </dd>
                  </div>
                )}
                {d.children > 0 && (
                  <div className="facts-wide">
                    <dt>{t('org.children')}</dt>
                    <dd>
                      <div data-testid="org-children-count" data-count={d.children}>
                        {t('org.childrenCount', { count: d.children })}
                      </div>
                      {kidList.length > 0 && communeLevelCount > 0 && (
                        <div data-testid="org-commune-count" data-count={communeLevelCount}>
                          <strong>{t('org.communeLevelCount', { count: communeLevelCount })}</strong>
                        </div>
                      )}
                      {kidList.length > 0 && (
                        <ul className="type-counts small" aria-label={t('org.byType')}>
                          {[...typeCounts.entries()].map(([ty, n]) => (
                            <li key={ty} data-testid={`org-type-count-${ty}`} data-count={n}>
                              <span className={`type-dot type-${ty}`} aria-hidden="true" /> {td(`unitType.${ty}`)}: {n}
                            </li>
                          ))}
                        </ul>
                      )}
                    </dd>
                  </div>
                )}
              </dl>
            </article>
          )}

          <section className="card org-map" aria-label={t('org.map')} data-testid="org-map">
            <div className="map-head">
              <h2 className="card-title">{t('org.map')}</h2>
              <span className="spacer" />
              <button
                type="button"
                className={`btn btn-small${locateMode ? ' btn-primary' : ''}`}
                aria-pressed={locateMode}
                onClick={() => setLocateMode((m) => !m)}
                data-testid="locate-toggle"
              >
                <Icon name="pin" size={16} /> {t('org.locateMode')}
              </button>
            </div>
            {locateMode && <p className="hint">{t('org.locateHint')}</p>}
            <OrgMap
              sourceKey={`${mapParent ?? 'none'}:${d?.id ?? ''}`}
              features={features}
              ready={!geo.loading && d !== null}
              centres={centres}
              selectedId={id}
              tileUrl={config?.tile_url ?? null}
              tileAttribution={config?.tile_attribution ?? ''}
              fallbackCentre={config ? [config.province.lat, config.province.lon] : [13.9, 108.4]}
              locateMode={locateMode}
              locatePoint={locate ? [locate.lat, locate.lon] : null}
              onSelect={select}
              onLocate={(la, lo) => void onLocate(la, lo)}
              labels={mapLabels}
              dark={wall}
            />
            <div className="map-legend small" data-testid="map-legend" aria-label={t('org.mapLegend')}>
              <span className="legend-item">
                <span className="swatch swatch-selected" aria-hidden="true" />
                {t('org.legendSelected')}
              </span>
              {hasOfficial && (
                <span className="legend-item">
                  <span className="swatch swatch-official" aria-hidden="true" />
                  {t('org.boundary.official')}
                </span>
              )}
              {hasApprox && (
                <span className="legend-item legend-approx" data-testid="map-legend-approximate">
                  <span className="swatch swatch-approximate" aria-hidden="true" />
                  {t('org.boundary.approximate')}
                </span>
              )}
              <span className="legend-item">
                <span className="swatch swatch-centre" aria-hidden="true" />
                {t('org.legendCentre')}
              </span>
              {!config?.tile_url && <span className="legend-item muted">{t('org.noTiles')}</span>}
            </div>
            {geo.error ? <ErrorBox error={geo.error} /> : null}
            {!geo.loading && d && (features?.features.length ?? 0) === 0 && centres.length === 0 && (
              <p className="muted small">{t('org.mapEmpty')}</p>
            )}
            {locate && (
              <div className="locate-result" data-testid="locate-result" role="status">
                {locate.error ? (
                  <ErrorBox error={locate.error} />
                ) : !locate.result ? (
                  <Spinner />
                ) : !locate.result.inside_province ? (
                  t('org.locateOutside', { lat: fmtCoord(locate.lat), lon: fmtCoord(locate.lon) })
                ) : locate.result.unit ? (
                  <>
                    {t('org.locateResult', {
                      lat: fmtCoord(locate.lat),
                      lon: fmtCoord(locate.lon),
                      name: locate.result.unit.name,
                    })}{' '}
                    {locate.result.boundary === 'approximate' && <BoundaryBadge boundary="approximate" />}{' '}
                    <Link to={`/org/${locate.result.unit.id}`} data-testid="locate-open">
                      {t('org.openUnit')}
                    </Link>
                  </>
                ) : (
                  t('org.locateNoUnit', { lat: fmtCoord(locate.lat), lon: fmtCoord(locate.lon) })
                )}
              </div>
            )}
          </section>

          {d && d.children > 0 && (
            <section className="card" aria-label={t('org.children')}>
              {dKids === undefined ? (
                <Spinner label={t('org.loadingChildren')} />
              ) : dKids === 'error' ? (
                <ErrorBox error={new Error(t('error.title'))} />
              ) : (
                <DataTable
                  columns={childColumns}
                  rows={kidList}
                  rowKey={(u) => u.id}
                  exportName={`don-vi-${d.code}`}
                  testId="org-children"
                  caption={t('org.children')}
                  rowTestId={() => 'org-child'}
                />
              )}
            </section>
          )}
        </section>
      </div>
    </div>
  );
}
