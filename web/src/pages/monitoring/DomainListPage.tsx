import { useMemo } from 'react';
import type { Observed } from '../../api/ngsi';
import { useApp } from '../../app/AppContext';
import { DataTable, type Column } from '../../components/DataTable';
import { ErrorBox, Spinner } from '../../components/Forms';
import { Icon } from '../../components/Icons';
import { useNow } from '../../components/ReportBits';
import { DOMAINS, domainById, isSimulated, stateOf, type Domain, type StateKey } from '../../lib/monitoring';
import { formatDateTime, formatRelative } from '../../lib/time';
import { Link, navigate, useLocation } from '../../router';
import { SimulatedBadge, StateChip, UpdatedLine, useAttrLabel, useFigure, useObservations } from './common';

/** `/monitoring/{domain}`: the stations of one domain as a table (cards on a phone). */
export function DomainListPage({ domain: slug }: { domain: string }) {
  const { t } = useApp();
  const domain = domainById(slug);
  if (!domain) {
    return (
      <div className="page">
        <div className="card empty-state" data-testid="mon-unknown-domain">
          <p>{t('mon.unknownDomain')}</p>
          <Link to="/monitoring" className="btn">
            {t('mon.title')}
          </Link>
        </div>
      </div>
    );
  }
  return <DomainList domain={domain} />;
}

function DomainList({ domain }: { domain: Domain }) {
  const { t, td, locale } = useApp();
  const { search } = useLocation();
  const stateFilter = search.get('state') ?? '';
  const domains = useMemo(() => [domain], [domain]);
  const obs = useObservations(domains);
  const now = useNow(15_000);
  const label = useAttrLabel();
  const figure = useFigure();
  const all = obs.data?.[domain.id];
  const rows = useMemo(
    () => (all ?? []).filter((e) => !stateFilter || stateOf(domain, e) === stateFilter),
    [all, domain, stateFilter],
  );

  const stateText = (e: Observed) => td(`monState.${stateOf(domain, e)}`);
  const columns: Column<Observed>[] = [
    {
      key: 'name',
      label: t('mon.name'),
      value: (e) => e.name,
      render: (e) => (
        <span className="code-cell">
          <Link to={`/monitoring/entity/${encodeURIComponent(e.id)}`} data-testid="mon-row-open">
            {e.name}
          </Link>
          {isSimulated(e) && <SimulatedBadge />}
        </span>
      ),
    },
    {
      key: 'state',
      label: t('mon.state'),
      value: stateText,
      render: (e) => <StateChip state={stateOf(domain, e)} />,
    },
    ...domain.attrs.map(
      (a): Column<Observed> => ({
        key: a.name,
        label: a.unit || a.ratio ? `${label(a.name)} (${a.ratio ? '%' : a.unit})` : label(a.name),
        // Numbers stay numbers: they sort as numbers and export as numbers.
        value: (e) => {
          const v = e.values[a.name];
          if (typeof v === 'number') return a.ratio ? Math.round(v * 1000) / 10 : v;
          return v === undefined || v === null ? null : figure(domain, a.name, v);
        },
        render: (e) => (e.values[a.name] === undefined ? '—' : figure(domain, a.name, e.values[a.name])),
        className: 'num',
      }),
    ),
    {
      key: 'observed',
      label: t('mon.lastObserved'),
      value: (e) => e.lastObserved ?? '',
      render: (e) =>
        e.lastObserved ? (
          <time dateTime={e.lastObserved} title={formatDateTime(e.lastObserved, locale)}>
            {formatRelative(e.lastObserved, now, locale)}
          </time>
        ) : (
          '—'
        ),
    },
    { key: 'id', label: t('mon.entityId'), value: (e) => e.id, render: (e) => <code className="small">{e.id}</code> },
  ];

  const setState = (s: string) => {
    navigate(`/monitoring/${domain.id}${s ? `?state=${encodeURIComponent(s)}` : ''}`, { replace: true });
  };

  return (
    <div className="page mon-list-page" data-testid="mon-list-page" data-domain={domain.id}>
      <p>
        <Link to="/monitoring" data-testid="back-to-monitoring">
          ← {t('mon.title')}
        </Link>
      </p>
      <div className="page-head">
        <div>
          <h1>
            <Icon name={domain.icon} size={26} /> {t(`monDomain.${domain.id}`)}
          </h1>
          <UpdatedLine at={obs.updatedAt} />
        </div>
        <div className="head-actions">
          <Link to={`/monitoring?layers=${domain.id}`} className="btn btn-ghost" data-testid="mon-list-map">
            <Icon name="map" size={16} /> {t('mon.map')}
          </Link>
        </div>
      </div>
      <nav className="domain-switch" aria-label={t('mon.domain')}>
        {DOMAINS.map((d) => (
          <Link
            key={d.id}
            to={`/monitoring/${d.id}`}
            className={`chip-button${d.id === domain.id ? ' on' : ''}`}
            aria-current={d.id === domain.id ? 'page' : undefined}
            data-testid={`mon-list-switch-${d.id}`}
          >
            <Icon name={d.icon} size={16} /> {t(`monDomain.${d.id}`)}
          </Link>
        ))}
      </nav>
      <ErrorBox error={obs.error} testId="mon-error" />
      <section className="card">
        {obs.loading && !obs.data ? (
          <Spinner />
        ) : (
          <DataTable
            columns={columns}
            rows={rows}
            rowKey={(e) => e.id}
            exportName={`monitoring-${domain.id}`}
            testId="mon-table"
            caption={t(`monDomain.${domain.id}`)}
            initialSort={{ key: 'name', dir: 'asc' }}
            rowTestId={() => 'mon-row'}
            rowClassName={(e) => `state-row state-row-${stateOf(domain, e)}`}
            toolbar={
              <label className="toolbar-select">
                <span className="visually-hidden">{t('mon.state')}</span>
                <select value={stateFilter} onChange={(e) => setState(e.target.value)} data-testid="mon-state-filter">
                  <option value="">
                    {t('mon.state')}: {t('common.all')}
                  </option>
                  {[...domain.states, 'unknown' as StateKey].map((s) => (
                    <option key={s} value={s}>
                      {td(`monState.${s}`, s)}
                    </option>
                  ))}
                </select>
              </label>
            }
          />
        )}
      </section>
    </div>
  );
}
