import { api } from '../../api/client';
import type { PublicReport } from '../../api/reports';
import { useApp } from '../../app/AppContext';
import { useAsync } from '../../app/hooks';
import { ErrorBox, Spinner } from '../../components/Forms';
import { categoryLabel } from '../../components/ReportBits';
import { Link } from '../../router';
import { PublicReportBody } from './TrackPage';

/** `/p/reports/:id`: one published report, with nothing personal in it. */
export function PublicReportPage({ id }: { id: number | null }) {
  const { t, locale } = useApp();
  const r = useAsync((s) => (id ? api.get<PublicReport>(`/api/public/reports/${id}`, undefined, s) : Promise.resolve(null)), [id]);
  return (
    <div className="page public-page" data-testid="public-report-page">
      <p>
        <Link to="/p">← {t('public.navPortal')}</Link>
      </p>
      {r.loading && !r.data ? <Spinner /> : null}
      <ErrorBox error={r.error} />
      {r.data && (
        <div className="stack">
          <h1>
            {categoryLabel(r.data.category, locale)} <span className="muted">#{r.data.id}</span>
          </h1>
          <PublicReportBody report={r.data} />
        </div>
      )}
    </div>
  );
}
