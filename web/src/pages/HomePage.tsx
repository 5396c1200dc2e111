import { api } from '../api/client';
import type { Shift } from '../api/types';
import { useApp } from '../app/AppContext';
import { useAsync, useLiveTopic } from '../app/hooks';
import { ErrorBox, Spinner } from '../components/Forms';
import { Icon } from '../components/Icons';
import { MODULE_PATHS, NAV_ORDER, availableModules } from '../components/Layout';
import { formatDateTime, formatTime } from '../lib/time';
import { Link } from '../router';

export function OnDutyList({ testId = 'on-duty' }: { testId?: string }) {
  const { t, locale } = useApp();
  const current = useAsync((signal) => api.get<{ on_duty: Shift[] }>('/api/duty/current', undefined, signal), []);
  useLiveTopic('duty', () => current.reload());
  if (current.loading && !current.data) return <Spinner />;
  if (current.error) return <ErrorBox error={current.error} />;
  const shifts = current.data?.on_duty ?? [];
  if (shifts.length === 0)
    return (
      <p className="muted" data-testid={testId}>
        {t('home.noOneOnDuty')}
      </p>
    );
  return (
    <ul className="duty-now" data-testid={testId}>
      {shifts.map((s) => (
        <li key={s.id} data-testid={`${testId}-item`}>
          <span className="live-dot on" aria-hidden="true" />
          <div>
            <strong>{s.user.display_name}</strong> <span className="muted">({s.user.username})</span>
            <div className="small">
              {s.unit.name} · {formatTime(s.starts_at, locale)} –{' '}
              <span title={formatDateTime(s.ends_at, locale)}>{formatTime(s.ends_at, locale)}</span>
            </div>
            {s.handover_note && <div className="small muted note">{s.handover_note}</div>}
          </div>
        </li>
      ))}
    </ul>
  );
}

export function HomePage() {
  const { me, t, td, can } = useApp();
  if (!me) return null;
  const allowed = availableModules(me);
  const tiles = NAV_ORDER.filter((m) => m !== 'home' && allowed.includes(m));
  return (
    <div className="page home" data-testid="home-page">
      <div className="page-head">
        <div>
          <h1 data-testid="home-welcome">{t('home.welcome', { name: me.display_name || me.username })}</h1>
          {me.home_unit && <p className="muted">{t('home.homeUnit', { unit: me.home_unit.name })}</p>}
        </div>
      </div>

      <section aria-labelledby="home-modules" className="section">
        <h2 id="home-modules" className="section-title">
          {t('home.modules')}
        </h2>
        <ul className="tiles" data-testid="home-tiles">
          {tiles.map((m) => {
            const inner = (
              <>
                <span className="tile-icon">
                  <Icon name={m} size={28} />
                </span>
                <span className="tile-title">{t(`module.${m}`)}</span>
                <span className="tile-desc">{t(`moduleDesc.${m}`)}</span>
              </>
            );
            return (
              <li key={m}>
                {m === 'api-docs' ? (
                  <a className="tile" href={MODULE_PATHS[m]} target="_blank" rel="noopener" data-testid={`tile-${m}`}>
                    {inner}
                  </a>
                ) : (
                  <Link className="tile" to={MODULE_PATHS[m]} data-testid={`tile-${m}`}>
                    {inner}
                  </Link>
                )}
              </li>
            );
          })}
        </ul>
      </section>

      <div className="grid-2">
        <section aria-labelledby="home-grants" className="card">
          <h2 id="home-grants" className="card-title">
            {t('home.grants')}
          </h2>
          {me.grants.length === 0 ? (
            <p className="muted">{t('home.noGrants')}</p>
          ) : (
            <ul className="grant-list" data-testid="home-grants">
              {me.grants.map((g) => (
                <li key={g.id} data-testid="home-grant">
                  <span className="badge">{td(`role.${g.role}`, g.role)}</span>
                  <span>{g.unit.name}</span>
                  <span className="muted small">{g.unit.code}</span>
                  {g.fields.length > 0 && <span className="muted small">· {g.fields.join(', ')}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>

        {can('duty.read') && (
          <section aria-labelledby="home-duty" className="card">
            <h2 id="home-duty" className="card-title">
              {t('home.onDuty')}
            </h2>
            <OnDutyList testId="home-on-duty" />
          </section>
        )}
      </div>
    </div>
  );
}
