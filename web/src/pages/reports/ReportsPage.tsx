import { useMemo, useRef, useState, type FormEvent } from 'react';
import { api, asPage, withQuery } from '../../api/client';
import {
  OPEN_STATUSES_LIST,
  REPORT_CHANNELS,
  REPORT_STATUSES,
  type BulkResult,
  type ReportSummary,
} from '../../api/reports';
import type { Page, UnitRef } from '../../api/types';
import { useApp } from '../../app/AppContext';
import { useAsync, useLiveTopic, useMedia } from '../../app/hooks';
import { DataTable, type Column } from '../../components/DataTable';
import { Dialog } from '../../components/Dialog';
import { ErrorBox, InputField, Notice, SelectField, Spinner, TextareaField } from '../../components/Forms';
import { Icon } from '../../components/Icons';
import { UnitPicker } from '../../components/Pickers';
import { DeadlineBadge, StatusBadge, UrgentBadge, categoryLabel, useNow } from '../../components/ReportBits';
import { categoryTree, deadlineTone, filtersFromSearch, filtersToSearch, reportQuery, type ReportFilters } from '../../lib/reports';
import { formatDateTime } from '../../lib/time';
import { Link, navigate, useLocation } from '../../router';
import { IntakeDialog } from './IntakeDialog';
import { useCategories } from './common';

/** `/reports`: the work queue. */
export function ReportsPage() {
  const { t, td, locale, can, me } = useApp();
  const { href } = useLocation();
  // Memoised on the query string: `useLocation` gives a new URLSearchParams on every render.
  const qs = href.includes('?') ? href.slice(href.indexOf('?')) : '';
  const filters = useMemo(() => filtersFromSearch(new URLSearchParams(qs)), [qs]);
  const [draft, setDraft] = useState<ReportFilters>(filters);
  const [draftFor, setDraftFor] = useState(filters);
  if (draftFor !== filters) {
    // The URL changed (back button, link): the form follows it.
    setDraftFor(filters);
    setDraft(filters);
  }
  const [commune, setCommune] = useState<UnitRef | null>(null);
  const [extra, setExtra] = useState<ReportSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<number>>(() => new Set());
  const [bulkOpen, setBulkOpen] = useState(false);
  const [intakeOpen, setIntakeOpen] = useState(false);
  const narrow = useMedia('(max-width: 640px)');
  const now = useNow();
  const cats = useCategories();
  const query = reportQuery(filters);

  const list = useAsync(async (signal) => {
    const page = asPage(await api.get<Page<ReportSummary> | ReportSummary[]>('/api/reports', { ...query, limit: 100 }, signal));
    setExtra([]);
    setCursor(page.next_cursor);
    return page.items;
  }, [filters]);

  // Live refresh: changes arrive in bursts (bulk assign), so reload at most once a second.
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLiveTopic('reports', () => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      list.reload();
    }, 1000);
  });

  const loadMore = async () => {
    if (!cursor) return;
    setMoreError(null);
    try {
      const page = asPage(await api.get<Page<ReportSummary>>('/api/reports', { ...query, limit: 100, cursor }));
      setExtra((e) => [...e, ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      setMoreError(e);
    }
  };

  const rows = useMemo(() => [...(list.data ?? []), ...extra], [list.data, extra]);
  const toggle = (id: number, on: boolean) =>
    setSelected((s) => {
      const n = new Set(s);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });
  const canDispatch = can('reports.dispatch');

  const columns: Column<ReportSummary>[] = [
    ...(canDispatch
      ? [
          {
            key: 'select',
            label: t('reports.select'),
            value: () => '',
            sortable: false,
            noExport: true,
            className: 'col-select',
            render: (r: ReportSummary) => (
              <input
                type="checkbox"
                checked={selected.has(r.id)}
                onChange={(e) => toggle(r.id, e.target.checked)}
                aria-label={t('reports.selectOne', { code: r.code })}
                data-testid="report-select"
              />
            ),
          },
        ]
      : []),
    {
      key: 'code',
      label: t('reports.code'),
      value: (r) => r.code,
      render: (r) => (
        <span className="code-cell">
          <Link to={`/reports/${r.id}`} data-testid="report-open">
            {r.code}
          </Link>
          {r.urgent && <UrgentBadge />}
        </span>
      ),
    },
    {
      key: 'title',
      label: t('reports.title'),
      value: (r) => r.title || r.description,
      render: (r) => <span className="clamp-2">{r.title || r.description}</span>,
    },
    { key: 'category', label: t('reports.category'), value: (r) => categoryLabel(r.category, locale) },
    { key: 'status', label: t('reports.status'), value: (r) => td(`reportStatus.${r.status}`, r.status), render: (r) => <StatusBadge status={r.status} testId="row-status" /> },
    {
      key: 'deadline',
      label: t('reports.deadline'),
      value: (r) => r.deadline?.due_at ?? '',
      render: (r) => <DeadlineBadge deadline={r.deadline} now={now} />,
    },
    { key: 'commune', label: t('reports.commune'), value: (r) => r.commune?.name ?? '' },
    { key: 'handler', label: t('reports.handler'), value: (r) => r.handler_unit?.name ?? '' },
    { key: 'channel', label: t('reports.channel'), value: (r) => td(`reportChannel.${r.channel}`, r.channel) },
    { key: 'received_at', label: t('reports.receivedAt'), value: (r) => r.received_at, render: (r) => formatDateTime(r.received_at, locale) },
  ];

  const apply = (e: FormEvent) => {
    e.preventDefault();
    navigate(`/reports${filtersToSearch(draft)}`, { replace: true });
  };
  const set = (k: keyof ReportFilters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const exportHref = (format: 'csv' | 'xlsx') => withQuery('/api/reports/export', { format, ...query });
  const catOptions = categoryTree(cats.data ?? []).flatMap((n) => [n.category, ...n.children]);

  return (
    <div className="page" data-testid="reports-page">
      <div className="page-head">
        <h1>{t('reports.inboxTitle')}</h1>
        <div className="head-actions">
          {me?.modules.includes('reports-stats') && (
            <Link to="/reports/stats" className="btn btn-ghost" data-testid="reports-stats-link">
              {t('module.reports-stats')}
            </Link>
          )}
          {me?.modules.includes('reports-admin') && (
            <Link to="/reports/admin" className="btn btn-ghost" data-testid="reports-admin-link">
              {t('radmin.title')}
            </Link>
          )}
          {canDispatch && (
            <button type="button" className="btn btn-primary" onClick={() => setIntakeOpen(true)} data-testid="intake-open">
              <Icon name="plus" size={16} /> {t('intake.open')}
            </button>
          )}
          <a className="btn" href={exportHref('csv')} download data-testid="reports-export-csv">
            <Icon name="download" size={16} /> {t('common.exportCsv')}
          </a>
          <a className="btn" href={exportHref('xlsx')} download data-testid="reports-export-xlsx">
            <Icon name="download" size={16} /> {t('common.exportXlsx')}
          </a>
        </div>
      </div>

      <div className="segmented view-switch" role="group" aria-label={t('reports.view')}>
        {(['inbox', 'all'] as const).map((v) => (
          <button
            key={v}
            type="button"
            aria-pressed={filters.view === v}
            className={filters.view === v ? 'on' : undefined}
            onClick={() => navigate(`/reports${filtersToSearch({ ...filters, view: v })}`, { replace: true })}
            data-testid={`reports-view-${v}`}
          >
            {t(v === 'inbox' ? 'reports.viewInbox' : 'reports.viewAll')}
          </button>
        ))}
      </div>

      <details className="card filter-panel" open={!narrow}>
        <summary>{t('common.filter')}</summary>
        <form className="filters" onSubmit={apply} data-testid="reports-filters">
          <fieldset className="field status-filter">
            <legend>{t('reports.status')}</legend>
            <div className="chips-select">
              {REPORT_STATUSES.map((s) => (
                <label key={s} className="chip-check">
                  <input
                    type="checkbox"
                    checked={draft.status.includes(s)}
                    onChange={(e) => setDraft({ ...draft, status: e.target.checked ? [...draft.status, s] : draft.status.filter((x) => x !== s) })}
                  />
                  {td(`reportStatus.${s}`, s)}
                </label>
              ))}
              <button type="button" className="btn btn-small btn-ghost" onClick={() => setDraft({ ...draft, status: [...OPEN_STATUSES_LIST] })}>
                {t('reports.openOnly')}
              </button>
            </div>
          </fieldset>
          <SelectField label={t('reports.category')} value={draft.category} onChange={set('category')} data-testid="filter-category">
            <option value="">{t('common.all')}</option>
            {catOptions.map((c) => (
              <option key={c.id} value={c.id}>
                {(c.parent_id ? '— ' : '') + categoryLabel(c, locale)}
              </option>
            ))}
          </SelectField>
          <SelectField label={t('reports.urgent')} value={draft.urgent} onChange={set('urgent')} data-testid="filter-urgent">
            <option value="">{t('common.all')}</option>
            <option value="true">{t('reports.urgentOnly')}</option>
            <option value="false">{t('reports.notUrgent')}</option>
          </SelectField>
          <SelectField label={t('reports.deadline')} value={draft.deadline} onChange={set('deadline')} data-testid="filter-deadline">
            <option value="">{t('common.all')}</option>
            {(['overdue', 'due_soon', 'on_track'] as const).map((d) => (
              <option key={d} value={d}>
                {td(`deadline.${d}`, d)}
              </option>
            ))}
          </SelectField>
          <SelectField label={t('reports.channel')} value={draft.channel} onChange={set('channel')} data-testid="filter-channel">
            <option value="">{t('common.all')}</option>
            {REPORT_CHANNELS.map((c) => (
              <option key={c} value={c}>
                {td(`reportChannel.${c}`, c)}
              </option>
            ))}
          </SelectField>
          <UnitPicker
            label={t('reports.commune')}
            value={commune ?? (draft.commune ? { id: Number(draft.commune), code: '', name: `#${draft.commune}` } : null)}
            onChange={(u) => {
              setCommune(u);
              setDraft({ ...draft, commune: u ? String(u.id) : '' });
            }}
            testId="filter-commune"
          />
          <InputField label={t('reports.from')} type="date" value={draft.from} onChange={set('from')} />
          <InputField label={t('reports.to')} type="date" value={draft.to} onChange={set('to')} />
          <InputField label={t('reports.q')} type="search" value={draft.q} onChange={set('q')} data-testid="filter-q" />
          <SelectField label={t('reports.sort')} value={draft.sort} onChange={set('sort')} data-testid="filter-sort">
            {(['due', '-received', 'received', '-updated'] as const).map((s) => (
              <option key={s} value={s}>
                {td(`reportSort.${s}`, s)}
              </option>
            ))}
          </SelectField>
          <div className="filter-actions">
            <button type="submit" className="btn btn-primary" data-testid="reports-apply">
              {t('common.apply')}
            </button>
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setCommune(null);
                navigate(`/reports${filtersToSearch({ ...filtersFromSearch(new URLSearchParams()), view: filters.view })}`, { replace: true });
              }}
            >
              {t('common.clear')}
            </button>
          </div>
        </form>
      </details>

      {canDispatch && selected.size > 0 && (
        <div className="bulk-bar alert alert-info" role="status" data-testid="bulk-bar">
          <span>{t('reports.selected', { count: selected.size })}</span>
          <button type="button" className="btn btn-small btn-primary" onClick={() => setBulkOpen(true)} data-testid="bulk-assign-open">
            {t('reports.bulkAssign')}
          </button>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setSelected(new Set())}>
            {t('reports.clearSelection')}
          </button>
        </div>
      )}

      <section className="card">
        <ErrorBox error={list.error} />
        {list.loading && !list.data ? (
          <Spinner />
        ) : (
          <DataTable
            columns={columns}
            rows={rows}
            rowKey={(r) => r.id}
            exportName="phan-anh"
            testId="reports-table"
            rowTestId={() => 'report-row'}
            rowClassName={(r) => `deadline-row-${deadlineTone(r.deadline?.state)}${r.urgent ? ' row-urgent' : ''}`}
            toolbar={
              canDispatch && rows.length > 0 ? (
                <button
                  type="button"
                  className="btn btn-ghost btn-small"
                  onClick={() => setSelected((s) => (s.size === rows.length ? new Set() : new Set(rows.map((r) => r.id))))}
                  data-testid="select-all"
                >
                  {selected.size === rows.length ? t('reports.clearSelection') : t('reports.selectAll')}
                </button>
              ) : undefined
            }
            empty={t('reports.empty')}
          />
        )}
        <ErrorBox error={moreError} />
        {cursor && (
          <button type="button" className="btn" onClick={() => void loadMore()} data-testid="reports-more">
            {t('common.loadMore')}
          </button>
        )}
      </section>

      <BulkAssignDialog
        open={bulkOpen}
        ids={[...selected]}
        onClose={() => setBulkOpen(false)}
        onDone={(done) => {
          setSelected((s) => new Set([...s].filter((id) => !done.includes(id))));
          list.reload();
        }}
      />
      <IntakeDialog open={intakeOpen} onClose={() => setIntakeOpen(false)} />
    </div>
  );
}

function BulkAssignDialog({ open, ids, onClose, onDone }: { open: boolean; ids: number[]; onClose: () => void; onDone: (done: number[]) => void }) {
  const { t } = useApp();
  const [unit, setUnit] = useState<UnitRef | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<BulkResult | null>(null);
  const close = () => {
    setResult(null);
    setError(null);
    onClose();
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!unit) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<BulkResult>('/api/reports/bulk', { ids: ids.slice(0, 200), action: 'assign', unit_id: unit.id, note: note.trim() || undefined });
      setResult(r);
      onDone(r.done);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} title={t('reports.bulkAssign')} onClose={close} testId="bulk-dialog">
      {result ? (
        <div className="stack">
          <Notice testId="bulk-result">{t('reports.bulkDone', { done: result.done.length, failed: result.failed.length })}</Notice>
          {result.failed.length > 0 && (
            <ul className="small">
              {result.failed.map((f) => (
                <li key={f.id}>
                  #{f.id}: {f.problem.detail ?? f.problem.title}
                </li>
              ))}
            </ul>
          )}
          <button type="button" className="btn" onClick={close}>
            {t('common.close')}
          </button>
        </div>
      ) : (
        <form className="form" onSubmit={submit}>
          <p>{t('reports.bulkIntro', { count: Math.min(ids.length, 200) })}</p>
          {ids.length > 200 && <p className="alert alert-warn">{t('reports.bulkLimit')}</p>}
          <UnitPicker label={t('actions.unit')} value={unit} onChange={setUnit} required testId="bulk-unit" />
          <TextareaField label={t('actions.note')} optional rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
          <ErrorBox error={error} />
          <button type="submit" className="btn btn-primary" disabled={busy || !unit} data-testid="bulk-submit">
            {t('reportAction.assign')}
          </button>
        </form>
      )}
    </Dialog>
  );
}
