import { useState, type ChangeEvent } from 'react';
import { ApiError, api } from '../../api/client';
import { connectorState, type Connector, type Imported, type RunOutcome } from '../../api/devices';
import { useApp } from '../../app/AppContext';
import { useAsync, usePolling } from '../../app/hooks';
import { DataTable, type Column } from '../../components/DataTable';
import { ErrorBox, Spinner } from '../../components/Forms';
import { useNow } from '../../components/ReportBits';
import { formatDateTime, formatRelative } from '../../lib/time';
import { REFRESH_MS } from '../monitoring/common';

/** The device health colours, reused: fine, failing, never run, switched off. */
const STATE_CLASS = { ok: 'health-reporting', failing: 'health-silent', never_run: 'health-never_seen', disabled: 'health-disabled' } as const;

/** The health of connectors (scheduled pulls, file imports): last run, failures, what they wrote. */
export function ConnectorsCard() {
  const { t, td, locale, can } = useApp();
  const list = useAsync((s) => api.get<Connector[]>('/api/connectors', undefined, s), []);
  usePolling(list.reload, REFRESH_MS);
  const now = useNow(15_000);
  const admin = can('devices.admin');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const report = (e: unknown) => {
    const text = e instanceof ApiError ? [e.problem.detail ?? e.problem.title, ...(e.problem.errors ?? []).slice(0, 5).map((f) => `${f.field}: ${f.reason}`)].filter(Boolean).join(' · ') : String(e);
    setMessage({ ok: false, text });
  };

  const run = async (c: Connector) => {
    setBusy(c.id);
    try {
      const o = await api.post<RunOutcome>(`/api/connectors/${encodeURIComponent(c.id)}/run`);
      setMessage(
        o.error
          ? { ok: false, text: o.error }
          : { ok: true, text: t('con.ran', { written: o.written, refused: o.refused_count }) + (o.refused[0] ? ` — ${o.refused[0]}` : '') },
      );
    } catch (e) {
      report(e);
    } finally {
      setBusy(null);
      list.reload();
    }
  };

  const upload = async (c: Connector, e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    setBusy(c.id);
    try {
      const o = await api.upload<Imported>(`/api/connectors/${encodeURIComponent(c.id)}/upload`, file);
      setMessage({ ok: true, text: t('con.imported', { rows: o.rows, written: o.written }) });
    } catch (err) {
      report(err);
    } finally {
      setBusy(null);
      list.reload();
    }
  };

  const when = (iso: string | null) =>
    iso ? (
      <time dateTime={iso} title={formatDateTime(iso, locale)}>
        {formatRelative(iso, now, locale)}
      </time>
    ) : (
      <span className="muted">{t('dev.never')}</span>
    );

  const columns: Column<Connector>[] = [
    { key: 'id', label: t('dev.id'), value: (c) => c.id, render: (c) => <code>{c.id}</code> },
    { key: 'name', label: t('dev.name'), value: (c) => c.name },
    { key: 'kind', label: t('con.kind'), value: (c) => td(`con.kind.${c.kind}`, c.kind) },
    {
      key: 'state',
      label: t('dev.health'),
      value: (c) => td(`con.state.${connectorState(c)}`, connectorState(c)),
      render: (c) => {
        const s = connectorState(c);
        return (
          <span className={`state-chip ${STATE_CLASS[s]}`} data-testid="connector-state" data-state={s}>
            <span className="state-dot" aria-hidden="true" />
            {td(`con.state.${s}`, s)}
          </span>
        );
      },
    },
    { key: 'last_run', label: t('con.lastRun'), value: (c) => c.last_run ?? '', render: (c) => when(c.last_run) },
    { key: 'last_ok', label: t('con.lastOk'), value: (c) => c.last_ok ?? '', render: (c) => when(c.last_ok) },
    { key: 'items', label: t('con.items'), value: (c) => c.items, className: 'num' },
    { key: 'runs', label: t('con.runs'), value: (c) => c.runs, className: 'num' },
    { key: 'failures', label: t('con.failures'), value: (c) => c.failures, className: 'num' },
    { key: 'last_error', label: t('dev.lastError'), value: (c) => c.last_error ?? '' },
    { key: 'owner', label: t('dev.owner'), value: (c) => c.owner.name },
  ];
  if (admin) {
    columns.push({
      key: 'action',
      label: t('con.action'),
      value: () => '',
      render: (c) =>
        c.kind === 'pull' ? (
          <button type="button" className="btn btn-small" disabled={busy === c.id} onClick={() => void run(c)} data-testid="connector-run">
            {t('con.runNow')}
          </button>
        ) : (
          <label className="btn btn-small" data-testid="connector-upload">
            {t('con.upload')}
            <input
              type="file"
              className="visually-hidden"
              accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
              disabled={busy === c.id}
              onChange={(e) => void upload(c, e)}
            />
          </label>
        ),
    });
  }

  return (
    <section className="card" data-testid="connectors-card">
      <h2 className="card-title">{t('mon.connectors')}</h2>
      <p className="muted">{t('con.help')}</p>
      {message && (
        <p className={message.ok ? 'alert alert-ok' : 'alert alert-error'} role="status" data-testid="connector-message">
          {message.text}
        </p>
      )}
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? (
        <Spinner />
      ) : (
        <DataTable
          columns={columns}
          rows={list.data ?? []}
          rowKey={(c) => c.id}
          exportName="connectors"
          testId="connectors-table"
          caption={t('mon.connectors')}
          initialSort={{ key: 'id', dir: 'asc' }}
          rowTestId={() => 'connector-row'}
        />
      )}
    </section>
  );
}
