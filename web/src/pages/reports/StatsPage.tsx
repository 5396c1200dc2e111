import { useState, type FormEvent } from 'react';
import { api, withQuery } from '../../api/client';
import type { Stats, StatsAnswer, StatsRow } from '../../api/reports';
import type { Locale, UnitRef } from '../../api/types';
import { useApp } from '../../app/AppContext';
import { useAsync } from '../../app/hooks';
import { DataTable, type Column } from '../../components/DataTable';
import { ErrorBox, InputField, SelectField, Spinner } from '../../components/Forms';
import { Icon } from '../../components/Icons';
import { UnitPicker } from '../../components/Pickers';
import { categoryLabel } from '../../components/ReportBits';
import { categoryTree, nextDay, niceScale, satisfactionPercent } from '../../lib/reports';
import { formatNumber, vnInputToUtc } from '../../lib/time';
import { useCategories } from './common';

type Group = 'unit' | 'category' | 'commune' | 'day';
interface StatsFilters {
  unit: UnitRef | null;
  category: string;
  from: string;
  to: string;
  group: Group;
}

/** First day of this month and today, Vietnam time, as date-input values. */
function defaultPeriod(): { from: string; to: string } {
  const v = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);
  return { from: `${v.slice(0, 8)}01`, to: v };
}

/** `/reports/stats`: counts per unit, category, commune or day; on time vs late; satisfaction. */
export function StatsPage() {
  const { t, td, locale } = useApp();
  const cats = useCategories();
  const [draft, setDraft] = useState<StatsFilters>(() => ({ unit: null, category: '', group: 'unit', ...defaultPeriod() }));
  const [filters, setFilters] = useState<StatsFilters>(draft);
  const query = {
    unit: filters.unit?.id,
    category: filters.category,
    from: filters.from ? vnInputToUtc(filters.from) : undefined,
    to: filters.to ? vnInputToUtc(nextDay(filters.to)) : undefined,
    group: filters.group,
  };
  const stats = useAsync((s) => api.get<StatsAnswer>('/api/reports/stats', query, s), [filters.unit?.id, filters.category, filters.from, filters.to, filters.group]);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const n = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? t('common.none') : formatNumber(v, locale, digits));
  const num = (key: keyof Stats, label: string): Column<StatsRow> => ({
    key,
    label,
    value: (r) => r[key] ?? null,
    render: (r) => n(r[key]),
    className: 'num',
  });
  const columns: Column<StatsRow>[] = [
    { key: 'name', label: t(`stats.group.${filters.group}`), value: (r) => r.name || r.key },
    num('received', t('stats.received')),
    num('on_time', t('stats.onTime')),
    num('late', t('stats.late')),
    num('in_progress', t('stats.inProgress')),
    num('overdue', t('stats.overdue')),
    num('resolved', t('stats.resolved')),
    num('rejected', t('stats.rejected')),
    {
      key: 'satisfaction',
      label: t('stats.satisfaction'),
      value: (r) => satisfactionPercent(r),
      render: (r) => {
        const p = satisfactionPercent(r);
        return p === null ? t('common.none') : `${p}%`;
      },
      className: 'num',
    },
    {
      key: 'mean_handling_hours',
      label: t('stats.meanHours'),
      value: (r) => r.mean_handling_hours,
      render: (r) => n(r.mean_handling_hours, 1),
      className: 'num',
    },
  ];
  const exportHref = (format: 'csv' | 'xlsx') => withQuery('/api/reports/stats/export', { format, ...query });
  const totals = stats.data?.totals;
  const sat = totals ? satisfactionPercent(totals) : null;

  return (
    <div className="page" data-testid="stats-page">
      <div className="page-head">
        <h1>{t('stats.title')}</h1>
        <div className="head-actions">
          <a className="btn" href={exportHref('csv')} download data-testid="stats-export-csv">
            <Icon name="download" size={16} /> {t('common.exportCsv')}
          </a>
          <a className="btn" href={exportHref('xlsx')} download data-testid="stats-export-xlsx">
            <Icon name="download" size={16} /> {t('common.exportXlsx')}
          </a>
        </div>
      </div>
      <form className="card filters" onSubmit={apply} data-testid="stats-filters">
        <UnitPicker label={t('stats.unit')} value={draft.unit} onChange={(u) => setDraft({ ...draft, unit: u })} testId="stats-unit" />
        <SelectField label={t('reports.category')} value={draft.category} onChange={(e) => setDraft({ ...draft, category: e.target.value })}>
          <option value="">{t('common.all')}</option>
          {categoryTree(cats.data ?? []).flatMap((nd) => [nd.category, ...nd.children]).map((c) => (
            <option key={c.id} value={c.id}>
              {(c.parent_id ? '— ' : '') + categoryLabel(c, locale)}
            </option>
          ))}
        </SelectField>
        <InputField label={t('reports.from')} type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <InputField label={t('reports.to')} type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <SelectField label={t('stats.groupBy')} value={draft.group} onChange={(e) => setDraft({ ...draft, group: e.target.value as Group })} data-testid="stats-group">
          {(['unit', 'category', 'commune', 'day'] as const).map((g) => (
            <option key={g} value={g}>
              {td(`stats.group.${g}`, g)}
            </option>
          ))}
        </SelectField>
        <div className="filter-actions">
          <button type="submit" className="btn btn-primary" data-testid="stats-apply">
            {t('common.apply')}
          </button>
        </div>
      </form>
      <ErrorBox error={stats.error} />
      {stats.loading && !stats.data && <Spinner />}
      {totals && (
        <ul className="kpis" data-testid="stats-totals">
          <Kpi label={t('stats.received')} value={n(totals.received)} />
          <Kpi label={t('stats.onTime')} value={n(totals.on_time)} tone="ok" />
          <Kpi label={t('stats.late')} value={n(totals.late)} tone="late" />
          <Kpi label={t('stats.overdue')} value={n(totals.overdue)} tone="late" />
          <Kpi label={t('stats.inProgress')} value={n(totals.in_progress)} />
          <Kpi label={t('stats.satisfaction')} value={sat === null ? t('common.none') : `${sat}%`} tone={sat !== null && sat >= 80 ? 'ok' : sat !== null && sat < 50 ? 'late' : undefined} testId="stats-satisfaction" />
          <Kpi label={t('stats.meanHours')} value={n(totals.mean_handling_hours, 1)} />
        </ul>
      )}
      {stats.data && (
        <section className="card" aria-labelledby="stats-chart-h">
          <h2 id="stats-chart-h" className="card-title">
            {t('stats.chartTitle')}
          </h2>
          <BarChart rows={stats.data.rows} locale={locale} labels={{ onTime: t('stats.onTime'), late: t('stats.late'), title: t('stats.chartTitle') }} />
        </section>
      )}
      {stats.data && (
        <section className="card">
          <DataTable columns={columns} rows={stats.data.rows} rowKey={(r) => r.key} exportName="thong-ke-phan-anh" testId="stats-table" initialSort={{ key: 'received', dir: 'desc' }} />
        </section>
      )}
    </div>
  );
}

function Kpi({ label, value, tone, testId }: { label: string; value: string; tone?: 'ok' | 'late'; testId?: string }) {
  return (
    <li className={`kpi${tone ? ` kpi-${tone}` : ''}`} data-testid={testId}>
      <span className="kpi-value">{value}</span>
      <span className="kpi-label">{label}</span>
    </li>
  );
}

/** Horizontal stacked bars, on time (green) and late (red) per row, in plain SVG. */
export function BarChart({ rows, locale, labels }: { rows: readonly StatsRow[]; locale: Locale; labels: { onTime: string; late: string; title: string } }) {
  const shown = [...rows].sort((a, b) => b.on_time + b.late - (a.on_time + a.late)).slice(0, 30);
  if (shown.length === 0) return <p className="muted">—</p>;
  const { max, step } = niceScale(Math.max(...shown.map((r) => r.on_time + r.late)));
  const labelW = 190;
  const chartW = 520;
  const rowH = 26;
  const top = 22;
  const h = top + shown.length * rowH + 8;
  const x = (v: number) => labelW + (v / max) * chartW;
  const ticks: number[] = [];
  for (let v = 0; v <= max; v += step) ticks.push(v);
  const fmt = (v: number) => formatNumber(v, locale, 0);
  const cut = (s: string) => (s.length > 26 ? s.slice(0, 25) + '…' : s);
  return (
    <figure className="bar-chart" data-testid="stats-chart">
      <svg viewBox={`0 0 ${labelW + chartW + 40} ${h}`} role="img" aria-label={labels.title} preserveAspectRatio="xMinYMin meet">
        {ticks.map((v) => (
          <g key={v}>
            <line x1={x(v)} x2={x(v)} y1={top - 4} y2={h - 6} className="bar-grid" />
            <text x={x(v)} y={top - 8} className="bar-tick" textAnchor="middle">
              {fmt(v)}
            </text>
          </g>
        ))}
        {shown.map((r, i) => {
          const y = top + i * rowH;
          const name = r.name || r.key;
          return (
            <g key={r.key}>
              <title>{`${name}: ${labels.onTime} ${fmt(r.on_time)}, ${labels.late} ${fmt(r.late)}`}</title>
              <text x={labelW - 8} y={y + rowH / 2 + 4} textAnchor="end" className="bar-label">
                {cut(name)}
              </text>
              <rect x={x(0)} y={y + 4} width={x(r.on_time) - x(0)} height={rowH - 8} className="bar-ok" />
              <rect x={x(r.on_time)} y={y + 4} width={x(r.on_time + r.late) - x(r.on_time)} height={rowH - 8} className="bar-late" />
              <text x={x(r.on_time + r.late) + 4} y={y + rowH / 2 + 4} className="bar-value">
                {fmt(r.on_time + r.late)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="map-legend">
        <span className="legend-item">
          <span className="swatch bar-ok-swatch" aria-hidden="true" /> {labels.onTime}
        </span>
        <span className="legend-item">
          <span className="swatch bar-late-swatch" aria-hidden="true" /> {labels.late}
        </span>
      </figcaption>
    </figure>
  );
}
