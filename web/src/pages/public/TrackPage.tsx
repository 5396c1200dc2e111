import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../../api/client';
import type { PublicReport, TrackedReport } from '../../api/reports';
import { useApp } from '../../app/AppContext';
import { useAsync } from '../../app/hooks';
import { ErrorBox, InputField, Notice, Spinner, TextareaField } from '../../components/Forms';
import { PhotoGrid, Stepper, StatusBadge, UrgentBadge, categoryLabel, type Photo } from '../../components/ReportBits';
import { PointsMap } from '../../components/ReportMap';
import { normaliseCode, statusColor } from '../../lib/reports';
import { formatDateTime } from '../../lib/time';
import { navigate } from '../../router';
import { usePublicConfig } from './PublicLayout';

export function TrackPage({ code }: { code: string | null }) {
  const { t } = useApp();
  const [draft, setDraft] = useState(code ?? '');
  const go = (e: FormEvent) => {
    e.preventDefault();
    const c = normaliseCode(draft);
    if (c) navigate(`/p/track/${encodeURIComponent(c)}`);
  };
  return (
    <div className="page public-page narrow" data-testid="track-page">
      <h1>{t('track.title')}</h1>
      <form className="form-inline card" onSubmit={go} data-testid="track-form">
        <InputField
          label={t('track.code')}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          autoCapitalize="characters"
          spellCheck={false}
          required
          data-testid="track-code"
        />
        <button type="submit" className="btn btn-primary">
          {t('track.lookUp')}
        </button>
      </form>
      {code && <Tracked key={code} code={normaliseCode(code)} />}
    </div>
  );
}

export function publicPhotos(r: PublicReport, purpose: 'report' | 'result', label: string): Photo[] {
  return r.photos
    .filter((p) => p.purpose === purpose)
    .map((p, i) => ({ id: p.id, url: p.url, thumb: p.thumb_url, label: `${label} ${i + 1}` }));
}

/** The parts of a public report shared by the tracking page and the portal's report page. */
export function PublicReportBody({ report }: { report: PublicReport }) {
  const { t, td, locale } = useApp();
  const cfg = usePublicConfig();
  const resultPhotos = publicPhotos(report, 'result', t('track.resultPhoto'));
  return (
    <>
      <section className="card">
        <div className="report-head">
          <StatusBadge status={report.status} />
          {report.urgent && <UrgentBadge />}
          <span className="muted small">{categoryLabel(report.category, locale)}</span>
        </div>
        <Stepper status={report.status} />
        <p className="report-description" data-testid="public-description">
          {report.description}
        </p>
        <dl className="facts">
          <div>
            <dt>{t('reports.receivedAt')}</dt>
            <dd>{formatDateTime(report.received_at, locale)}</dd>
          </div>
          <div>
            <dt>{t('reports.commune')}</dt>
            <dd>{report.commune?.name ?? t('common.none')}</dd>
          </div>
          <div>
            <dt>{t('reports.handler')}</dt>
            <dd>{report.handler_unit?.name ?? t('common.none')}</dd>
          </div>
          {report.published_at && (
            <div>
              <dt>{t('track.publishedAt')}</dt>
              <dd>{formatDateTime(report.published_at, locale)}</dd>
            </div>
          )}
        </dl>
      </section>
      {report.result && (
        <section className="card result-card" data-testid="public-result">
          <h2 className="card-title">{t('track.result')}</h2>
          <p className="report-description">{report.result}</p>
          {resultPhotos.length > 0 && <PhotoGrid photos={resultPhotos} testId="result-photos" />}
        </section>
      )}
      <div className="grid-2">
        <section className="card">
          <h2 className="card-title">{t('track.photos')}</h2>
          <PhotoGrid photos={publicPhotos(report, 'report', t('track.photo'))} testId="report-photos" />
        </section>
        <section className="card">
          <h2 className="card-title">{t('reports.map')}</h2>
          <PointsMap
            points={[{ id: report.id, lat: report.lat, lon: report.lon, color: statusColor(report.status), label: categoryLabel(report.category, locale) }]}
            bounds={cfg.data?.bounds ?? null}
            fallbackCentre={[report.lat, report.lon]}
            tileUrl={cfg.data?.tile_url ?? null}
            tileAttribution={cfg.data?.tile_attribution ?? ''}
            testId="public-report-map"
            className="small-map"
          />
        </section>
      </div>
      <section className="card">
        <h2 className="card-title">{t('reports.timeline')}</h2>
        <ol className="timeline" data-testid="public-timeline">
          {report.timeline.map((ev, i) => (
            <li key={i}>
              <time dateTime={ev.at}>{formatDateTime(ev.at, locale)}</time>{' '}
              <strong>{ev.to_status ? td(`reportStatus.${ev.to_status}`, ev.to_status) : td(`reportEvent.${ev.kind}`, ev.kind)}</strong>
              {ev.note && <p className="small">{ev.note}</p>}
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}

function Tracked({ code }: { code: string }) {
  const { t } = useApp();
  const [rated, setRated] = useState<TrackedReport | null>(null);
  const data = useAsync((s) => api.get<TrackedReport>(`/api/public/track/${encodeURIComponent(code)}`, undefined, s), [code]);
  if (data.loading && !data.data) return <Spinner />;
  if (data.error) {
    if (data.error instanceof ApiError && data.error.status === 404)
      return (
        <div className="alert alert-error" role="alert" data-testid="track-not-found">
          {t('track.notFound', { code })}
        </div>
      );
    return <ErrorBox error={data.error} />;
  }
  const r = rated ?? data.data;
  if (!r) return null;
  return (
    <div className="stack" data-testid="tracked-report" data-status={r.status}>
      <p className="tracking-line">
        {t('track.code')}: <code className="tracking-code small-code">{code}</code>
      </p>
      <PublicReportBody report={r} />
      {r.rating ? (
        <div className={`alert ${r.rating.satisfied ? 'alert-ok' : 'alert-warn'}`} data-testid="rating-done">
          {r.rating.satisfied ? t('track.ratedSatisfied') : t('track.ratedUnsatisfied')}
        </div>
      ) : r.can_rate ? (
        <RatingForm code={code} onRated={(x) => setRated({ ...x, can_rate: false })} />
      ) : null}
    </div>
  );
}

function RatingForm({ code, onRated }: { code: string; onRated: (r: PublicReport) => void }) {
  const { t } = useApp();
  const [satisfied, setSatisfied] = useState<boolean | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (satisfied === null) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<PublicReport>(`/api/public/track/${encodeURIComponent(code)}/rating`, {
        satisfied,
        comment: comment.trim() || undefined,
      });
      setDone(true);
      onRated(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (done) return <Notice>{t('track.thanksRating')}</Notice>;
  return (
    <form className="card form" onSubmit={submit} data-testid="rating-form">
      <fieldset className="field rating-choice">
        <legend>{t('track.rateQuestion')}</legend>
        <label className="checkbox rating-option">
          <input type="radio" name="satisfied" checked={satisfied === true} onChange={() => setSatisfied(true)} />
          {t('track.satisfied')}
        </label>
        <label className="checkbox rating-option">
          <input type="radio" name="satisfied" checked={satisfied === false} onChange={() => setSatisfied(false)} />
          {t('track.unsatisfied')}
        </label>
        {satisfied === false && <p className="hint">{t('track.unsatisfiedHint')}</p>}
      </fieldset>
      <TextareaField label={t('track.comment')} optional rows={3} maxLength={2000} value={comment} onChange={(e) => setComment(e.target.value)} />
      <ErrorBox error={error} />
      <button type="submit" className="btn btn-primary" disabled={busy || satisfied === null} data-testid="rating-submit">
        {t('track.sendRating')}
      </button>
    </form>
  );
}
