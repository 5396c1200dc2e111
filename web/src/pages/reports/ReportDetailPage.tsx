import { useState } from 'react';
import { api } from '../../api/client';
import type { DuplicateReport, ReportContact, ReportDetail } from '../../api/reports';
import { useApp } from '../../app/AppContext';
import { useAsync, useLiveTopic } from '../../app/hooks';
import { ErrorBox, Spinner } from '../../components/Forms';
import { PhotoGrid, DeadlineBadge, StatusBadge, UrgentBadge, categoryLabel, useNow } from '../../components/ReportBits';
import { PointsMap } from '../../components/ReportMap';
import { statusColor, type Bounds } from '../../lib/reports';
import { formatDateTime, formatNumber } from '../../lib/time';
import { Link } from '../../router';
import { ActionDialog } from './ActionDialog';
import { useCategories, useReportConfig } from './common';

const PRIMARY = new Set(['verify', 'assign', 'accept', 'resolve', 'approve', 'publish']);
const DANGER = new Set(['reject', 'return']);

export function ReportDetailPage({ id }: { id: number | null }) {
  const { t } = useApp();
  const [fresh, setFresh] = useState<ReportDetail | null>(null);
  const r = useAsync(async (s) => {
    if (!id) return null;
    const d = await api.get<ReportDetail>(`/api/reports/${id}`, undefined, s);
    setFresh(null);
    return d;
  }, [id]);
  useLiveTopic('reports', (data) => {
    if (data && typeof data === 'object' && 'id' in data && data.id === id) r.reload();
  });
  const report = fresh ?? r.data;
  return (
    <div className="page" data-testid="report-detail-page">
      <p>
        <Link to="/reports" data-testid="back-to-inbox">
          ← {t('reports.inboxTitle')}
        </Link>
      </p>
      {r.loading && !report ? <Spinner /> : null}
      <ErrorBox error={r.error} testId="report-error" />
      {report && <Detail report={report} onChange={setFresh} reload={r.reload} />}
    </div>
  );
}

function Detail({ report, onChange, reload }: { report: ReportDetail; onChange: (r: ReportDetail) => void; reload: () => void }) {
  const { t, td, locale } = useApp();
  const cfg = useReportConfig();
  const now = useNow(15_000);
  const [action, setAction] = useState<string | null>(null);
  const [mergeInto, setMergeInto] = useState<number | null>(null);
  const photos = report.attachments.map((a, i) => ({
    id: a.id,
    url: a.url,
    thumb: a.thumb_url,
    video: a.kind === 'video',
    label: `${td(`attachmentPurpose.${a.purpose}`, a.purpose)} ${i + 1}`,
  }));
  const attrs = Object.entries(report.attributes ?? {});
  const cats = useCategories();
  const attrDefs = cats.data?.find((c) => c.id === report.category.id)?.attributes ?? [];
  return (
    <div className="stack" data-testid="report-detail" data-status={report.status} data-id={report.id}>
      <div className="page-head">
        <div>
          <h1>
            <code data-testid="report-detail-code">{report.code}</code> {report.title && <span>· {report.title}</span>}
          </h1>
          <div className="report-head">
            <StatusBadge status={report.status} testId="report-detail-status" />
            {report.urgent && <UrgentBadge />}
            <span className="badge">{categoryLabel(report.category, locale)}</span>
            <span className="muted small">{td(`reportChannel.${report.channel}`, report.channel)}</span>
            {report.confidential && <span className="badge badge-warn">{t('reports.confidential')}</span>}
          </div>
          {report.deadline && (
            <p className="head-deadline">
              <DeadlineBadge deadline={report.deadline} now={now} />
            </p>
          )}
        </div>
      </div>

      {report.allowed_actions.length > 0 && (
        <div className="action-bar" role="toolbar" aria-label={t('common.actions')} data-testid="report-actions">
          {report.allowed_actions.map((a) => (
            <button
              key={a}
              type="button"
              className={`btn ${PRIMARY.has(a) ? 'btn-primary' : DANGER.has(a) ? 'btn-danger' : ''}`}
              onClick={() => {
                setMergeInto(null);
                setAction(a);
              }}
              data-testid={`action-${a}`}
            >
              {td(`reportAction.${a}`, a)}
            </button>
          ))}
        </div>
      )}

      <div className="detail-layout">
        <div className="stack">
          <section className="card">
            <h2 className="card-title">{t('reports.description')}</h2>
            <p className="report-description" data-testid="report-description-text">
              {report.description}
            </p>
            {report.address && <p className="muted">{report.address}</p>}
            {attrs.length > 0 && (
              <dl className="facts">
                {attrs.map(([k, v]) => {
                  const def = attrDefs.find((a) => a.code === k);
                  const label = def ? (locale === 'en' ? def.label_en : def.label_vi) || k : k;
                  const name = (x: string) => {
                    const val = def?.values.find((y) => y.key === x);
                    return val ? (locale === 'en' ? val.name_en : val.name_vi) || x : x;
                  };
                  return (
                    <div key={k}>
                      <dt>{label}</dt>
                      <dd>{Array.isArray(v) ? v.map(name).join(', ') : name(v)}</dd>
                    </div>
                  );
                })}
              </dl>
            )}
          </section>
          {(report.result || report.public_result) && (
            <section className="card result-card" data-testid="report-result">
              <h2 className="card-title">{t('track.result')}</h2>
              {report.result && <p className="report-description">{report.result}</p>}
              {report.public_result && report.public_result !== report.result && (
                <>
                  <h3>{t('actions.publicResult')}</h3>
                  <p className="report-description">{report.public_result}</p>
                </>
              )}
              {report.rating && (
                <p className={report.rating.satisfied ? 'ok-text' : 'field-error'} data-testid="report-rating">
                  {report.rating.satisfied ? t('track.ratedSatisfied') : t('track.ratedUnsatisfied')}
                  {report.rating.comment && <> — “{report.rating.comment}”</>}
                </p>
              )}
            </section>
          )}
          <section className="card">
            <h2 className="card-title">{t('track.photos')}</h2>
            <PhotoGrid photos={photos} testId="report-photos" />
          </section>
          <section className="card">
            <h2 className="card-title">{t('reports.map')}</h2>
            <PointsMap
              points={[{ id: report.id, lat: report.lat, lon: report.lon, color: statusColor(report.status), label: report.code, ring: report.urgent }]}
              bounds={(cfg.data?.bounds ?? null) as Bounds | null}
              fallbackCentre={[report.lat, report.lon]}
              tileUrl={cfg.data?.tile_url ?? null}
              tileAttribution={cfg.data?.tile_attribution ?? ''}
              testId="report-map"
              className="small-map"
            />
            <p className="small muted">
              {formatNumber(report.lat, locale, 5)}, {formatNumber(report.lon, locale, 5)}
            </p>
          </section>
        </div>
        <div className="stack">
          <section className="card">
            <dl className="facts facts-1">
              <div>
                <dt>{t('reports.deadline')}</dt>
                <dd>
                  <DeadlineBadge deadline={report.deadline} now={now} long />
                </dd>
              </div>
              <div>
                <dt>{t('reports.escalation')}</dt>
                <dd data-testid="report-escalation" data-level={report.escalation_level}>
                  {td(`escalation.${report.escalation_level}`, String(report.escalation_level))}
                </dd>
              </div>
              <div>
                <dt>{t('reports.commune')}</dt>
                <dd>{report.commune?.name ?? t('common.none')}</dd>
              </div>
              <div>
                <dt>{t('reports.handler')}</dt>
                <dd data-testid="report-handler">
                  {report.handler_unit?.name ?? t('common.none')}
                  {report.handler_user && <span className="muted"> · {report.handler_user.display_name}</span>}
                </dd>
              </div>
              {report.coordinators.length > 0 && (
                <div>
                  <dt>{t('actions.coordinators')}</dt>
                  <dd>{report.coordinators.map((c) => c.name).join(', ')}</dd>
                </div>
              )}
              <div>
                <dt>{t('reports.receivedAt')}</dt>
                <dd>{formatDateTime(report.received_at, locale)}</dd>
              </div>
              {report.merged_into && (
                <div>
                  <dt>{t('reports.mergedInto')}</dt>
                  <dd>
                    <Link to={`/reports/${report.merged_into}`}>#{report.merged_into}</Link>
                  </dd>
                </div>
              )}
              {report.duplicates_merged.length > 0 && (
                <div>
                  <dt>{t('reports.duplicatesMerged')}</dt>
                  <dd>
                    {report.duplicates_merged.map((d) => (
                      <Link key={d} to={`/reports/${d}`} className="chip">
                        #{d}
                      </Link>
                    ))}
                  </dd>
                </div>
              )}
            </dl>
          </section>
          <ContactPanel report={report} onViewed={reload} />
          {report.allowed_actions.includes('merge') && (
            <Duplicates
              id={report.id}
              onMerge={(into) => {
                setMergeInto(into);
                setAction('merge');
              }}
            />
          )}
          <section className="card">
            <h2 className="card-title">{t('reports.timeline')}</h2>
            <ol className="timeline" data-testid="report-timeline">
              {report.timeline.map((ev) => (
                <li key={ev.id} className={ev.public ? 'public-event' : undefined}>
                  <time dateTime={ev.at}>{formatDateTime(ev.at, locale)}</time> <strong>{td(`reportAction.${ev.kind}`, td(`reportEvent.${ev.kind}`, ev.kind))}</strong>
                  {ev.to_status && <> → {td(`reportStatus.${ev.to_status}`, ev.to_status)}</>}
                  <div className="small muted">
                    {ev.actor.name}
                    {ev.unit && <> · {ev.unit.name}</>}
                    {ev.public && <> · {t('reports.publicEvent')}</>}
                  </div>
                  {ev.note && <p className="small">{ev.note}</p>}
                </li>
              ))}
            </ol>
          </section>
        </div>
      </div>
      <ActionDialog
        report={report}
        action={action}
        mergeInto={mergeInto}
        onClose={() => setAction(null)}
        onDone={(r) => {
          setAction(null);
          onChange(r);
        }}
      />
    </div>
  );
}

function ContactPanel({ report, onViewed }: { report: ReportDetail; onViewed: () => void }) {
  const { t } = useApp();
  const [contact, setContact] = useState<ReportContact | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const hidden = 'hidden' in report.contact && report.contact.hidden;
  const show = async () => {
    setBusy(true);
    setError(null);
    try {
      setContact(await api.get<ReportContact>(`/api/reports/${report.id}/contact`));
      onViewed();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" data-testid="contact-panel">
      <h2 className="card-title">{t('contact.title')}</h2>
      {hidden ? (
        <p className="muted" data-testid="contact-hidden">
          {t('contact.hidden')}
        </p>
      ) : contact ? (
        <dl className="facts facts-1" data-testid="contact-shown">
          <div>
            <dt>{t('newReport.contactName')}</dt>
            <dd>{contact.name ?? t('common.none')}</dd>
          </div>
          <div>
            <dt>{t('newReport.contactPhone')}</dt>
            <dd>{contact.phone ? <a href={`tel:${contact.phone}`}>{contact.phone}</a> : t('common.none')}</dd>
          </div>
          <div>
            <dt>{t('newReport.contactEmail')}</dt>
            <dd>{contact.email ? <a href={`mailto:${contact.email}`}>{contact.email}</a> : t('common.none')}</dd>
          </div>
        </dl>
      ) : (
        <>
          {report.confidential && <p className="alert alert-warn small">{t('contact.confidential')}</p>}
          <button type="button" className="btn" onClick={() => void show()} disabled={busy} data-testid="contact-show">
            {t('contact.show')}
          </button>
          <p className="hint">{t('contact.logged')}</p>
        </>
      )}
      <ErrorBox error={error} />
    </section>
  );
}

function Duplicates({ id, onMerge }: { id: number; onMerge: (into: number) => void }) {
  const { t, td, locale } = useApp();
  const d = useAsync((s) => api.get<DuplicateReport[]>(`/api/reports/${id}/duplicates`, undefined, s), [id]);
  const items = d.data ?? [];
  return (
    <section className="card" data-testid="duplicates">
      <h2 className="card-title">{t('reports.duplicates')}</h2>
      {d.loading && !d.data ? <Spinner /> : null}
      <ErrorBox error={d.error} />
      {d.data && items.length === 0 && <p className="muted small">{t('reports.noDuplicates')}</p>}
      <ul className="dup-list">
        {items.map((x) => (
          <li key={x.id} data-testid="duplicate">
            <div>
              <Link to={`/reports/${x.id}`}>{x.code}</Link> · {td(`reportStatus.${x.status}`, x.status)} ·{' '}
              <span className="muted">{t('reports.distance', { m: formatNumber(x.distance_m, locale, 0) })}</span>
              <div className="small clamp-2">{x.title || x.description}</div>
              <div className="small muted">{formatDateTime(x.received_at, locale)}</div>
            </div>
            <button type="button" className="btn btn-small" onClick={() => onMerge(x.id)} data-testid="duplicate-merge">
              {t('reports.mergeHere')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
