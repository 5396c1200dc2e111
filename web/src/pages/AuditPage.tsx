import { useState, type FormEvent } from 'react';
import { api, asPage, withQuery, type Query } from '../api/client';
import type { AuditEntry, AuditVerify, Page } from '../api/types';
import { useApp } from '../app/AppContext';
import { useAsync, useLiveTopic } from '../app/hooks';
import { DataTable, type Column } from '../components/DataTable';
import { Dialog } from '../components/Dialog';
import { ErrorBox, InputField, Spinner } from '../components/Forms';
import { Icon } from '../components/Icons';
import { formatDateTime, vnInputToUtc } from '../lib/time';

interface Filters {
  actor: string;
  action: string;
  object_type: string;
  from: string;
  to: string;
  q: string;
}

const EMPTY: Filters = { actor: '', action: '', object_type: '', from: '', to: '', q: '' };

/** Filters as API query parameters (times converted from Vietnam time to UTC). */
export function auditQuery(f: Filters): Query {
  return {
    actor: f.actor.trim(),
    action: f.action.trim(),
    object_type: f.object_type.trim(),
    from: f.from ? vnInputToUtc(f.from) : undefined,
    to: f.to ? vnInputToUtc(f.to) : undefined,
    q: f.q.trim(),
  };
}

function json(v: unknown): string {
  if (v === undefined) return '';
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

export function AuditPage() {
  const { t, td, locale } = useApp();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [extra, setExtra] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [fresh, setFresh] = useState(false);
  const [open, setOpen] = useState<AuditEntry | null>(null);
  const query = auditQuery(filters);

  const list = useAsync(async (signal) => {
    const page = asPage(await api.get<Page<AuditEntry> | AuditEntry[]>('/api/audit', { ...query, limit: 100 }, signal));
    setExtra([]);
    setCursor(page.next_cursor);
    setFresh(false);
    return page.items;
  }, [filters]);
  const verify = useAsync((s) => api.get<AuditVerify>('/api/audit/verify', undefined, s), []);
  useLiveTopic('audit', () => setFresh(true));

  const loadMore = async () => {
    if (!cursor) return;
    setMoreError(null);
    try {
      const page = asPage(await api.get<Page<AuditEntry>>('/api/audit', { ...query, limit: 100, cursor }));
      setExtra((e) => [...e, ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      setMoreError(e);
    }
  };

  const rows = [...(list.data ?? []), ...extra];
  const actorText = (e: AuditEntry) =>
    `${e.actor?.name ?? e.actor?.id ?? ''}${e.actor ? ` (${td(`audit.actorKind.${e.actor.kind}`, e.actor.kind)})` : ''}`;
  const columns: Column<AuditEntry>[] = [
    { key: 'at', label: t('audit.at'), value: (e) => e.at, render: (e) => <time dateTime={e.at}>{formatDateTime(e.at, locale)}</time> },
    { key: 'actor', label: t('audit.actor'), value: actorText },
    { key: 'action', label: t('audit.action'), value: (e) => e.action, render: (e) => <code>{e.action}</code> },
    { key: 'object', label: t('audit.object'), value: (e) => `${e.object_type}${e.object_id != null ? ` #${e.object_id}` : ''}` },
    { key: 'ip', label: t('audit.ip'), value: (e) => e.ip ?? '' },
    {
      key: 'details',
      label: t('common.details'),
      value: () => '',
      sortable: false,
      noExport: true,
      render: (e) => (
        <button type="button" className="btn btn-small btn-ghost" onClick={() => setOpen(e)} data-testid="audit-open">
          {t('common.details')}
        </button>
      ),
    },
  ];

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const exportHref = (format: 'csv' | 'xlsx') => withQuery('/api/audit/export', { format, ...query });

  return (
    <div className="page" data-testid="audit-page">
      <div className="page-head">
        <h1>{t('audit.title')}</h1>
        <div className="head-actions">
          <a className="btn" href={exportHref('csv')} download data-testid="audit-export-csv">
            <Icon name="download" size={16} /> {t('common.exportCsv')}
          </a>
          <a className="btn" href={exportHref('xlsx')} download data-testid="audit-export-xlsx">
            <Icon name="download" size={16} /> {t('common.exportXlsx')}
          </a>
        </div>
      </div>

      <div className="verify-row" data-testid="audit-verify">
        {verify.loading && !verify.data ? (
          <Spinner />
        ) : verify.error ? (
          <ErrorBox error={verify.error} />
        ) : verify.data ? (
          <div className={`alert ${verify.data.ok ? 'alert-ok' : 'alert-error'}`} role="status" data-testid="audit-verify-result" data-ok={verify.data.ok}>
            <Icon name="shield" />{' '}
            {verify.data.ok ? t('audit.verifyOk', { entries: verify.data.entries }) : t('audit.verifyBad', { entries: verify.data.entries })}
            {!verify.data.ok && verify.data.first_bad_id != null && <> {t('audit.verifyBadAt', { id: String(verify.data.first_bad_id) })}</>}
          </div>
        ) : null}
        <button type="button" className="btn btn-small" onClick={verify.reload} data-testid="audit-verify-run">
          {t('audit.verify')}
        </button>
      </div>

      <form className="card filters" onSubmit={apply} data-testid="audit-filters">
        <InputField label={t('audit.actor')} value={draft.actor} onChange={set('actor')} data-testid="audit-actor" />
        <InputField label={t('audit.action')} value={draft.action} onChange={set('action')} placeholder="user.create" data-testid="audit-action" />
        <InputField label={t('audit.objectType')} value={draft.object_type} onChange={set('object_type')} data-testid="audit-object-type" />
        <InputField label={t('audit.from')} type="datetime-local" value={draft.from} onChange={set('from')} data-testid="audit-from" />
        <InputField label={t('audit.to')} type="datetime-local" value={draft.to} onChange={set('to')} data-testid="audit-to" />
        <InputField label={t('audit.q')} type="search" value={draft.q} onChange={set('q')} data-testid="audit-q" />
        <div className="filter-actions">
          <button type="submit" className="btn btn-primary" data-testid="audit-apply">
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

      {fresh && (
        <div className="alert alert-info" role="status">
          {t('audit.newEntries')}{' '}
          <button type="button" className="btn btn-small" onClick={list.reload}>
            {t('common.refresh')}
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
            rowKey={(e) => String(e.id)}
            exportName="nhat-ky"
            testId="audit-table"
            rowTestId={() => 'audit-row'}
          />
        )}
        <ErrorBox error={moreError} />
        {cursor && (
          <button type="button" className="btn" onClick={() => void loadMore()} data-testid="audit-more">
            {t('common.loadMore')}
          </button>
        )}
      </section>

      <Dialog open={open !== null} title={open ? `${open.action} · ${formatDateTime(open.at, locale)}` : ''} onClose={() => setOpen(null)} testId="audit-entry" wide>
        {open && (
          <dl className="facts">
            <div>
              <dt>{t('audit.actor')}</dt>
              <dd>{actorText(open)}</dd>
            </div>
            <div>
              <dt>{t('audit.object')}</dt>
              <dd>
                {open.object_type} {open.object_id != null && `#${open.object_id}`}
              </dd>
            </div>
            <div>
              <dt>{t('audit.ip')}</dt>
              <dd>{open.ip ?? t('common.none')}</dd>
            </div>
            <div className="facts-wide">
              <dt>{t('audit.userAgent')}</dt>
              <dd className="small">{open.user_agent ?? t('common.none')}</dd>
            </div>
            <div className="facts-wide">
              <dt>{t('audit.hash')}</dt>
              <dd>
                <code className="hash">{open.hash}</code>
              </dd>
            </div>
            {open.summary?.before !== undefined && (
              <div className="facts-wide">
                <dt>{t('audit.before')}</dt>
                <dd>
                  <pre className="json">{json(open.summary.before)}</pre>
                </dd>
              </div>
            )}
            {open.summary?.after !== undefined && (
              <div className="facts-wide">
                <dt>{t('audit.after')}</dt>
                <dd>
                  <pre className="json">{json(open.summary.after)}</pre>
                </dd>
              </div>
            )}
          </dl>
        )}
      </Dialog>
    </div>
  );
}
