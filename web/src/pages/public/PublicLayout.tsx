import type { ReactNode } from 'react';
import { api } from '../../api/client';
import type { PublicConfig } from '../../api/reports';
import { useApp } from '../../app/AppContext';
import { useAsync, type Async } from '../../app/hooks';
import { LangSwitch, Logo } from '../../components/Layout';
import { Link, useLocation } from '../../router';

let cached: Promise<PublicConfig> | null = null;

/** `GET /api/public/config`, fetched once per page load. */
export function usePublicConfig(): Async<PublicConfig> {
  return useAsync(() => {
    if (!cached) {
      cached = api.get<PublicConfig>('/api/public/config');
      cached.catch(() => {
        cached = null;
      });
    }
    return cached;
  }, []);
}

const LINKS = [
  { to: '/p/new', key: 'public.navNew' },
  { to: '/p/track', key: 'public.navTrack' },
  { to: '/p', key: 'public.navPortal' },
] as const;

/** The citizen's pages: a light header, no staff navigation, no login needed. */
export function PublicLayout({ children }: { children: ReactNode }) {
  const { t, config } = useApp();
  const { pathname } = useLocation();
  const current = (to: string) => (to === '/p' ? pathname === '/p' || pathname.startsWith('/p/reports') : pathname.startsWith(to));
  return (
    <div className="public-shell">
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="public-top" data-testid="public-header">
        <Link to="/p" className="public-brand">
          <Logo size={30} />
          <span>
            <span className="brand-name">{t('public.title')}</span>
            <span className="public-sub">{config?.province?.name ?? t('app.name')}</span>
          </span>
        </Link>
        <nav aria-label={t('public.nav')} className="public-nav">
          {LINKS.map((l) => (
            <Link key={l.to} to={l.to} aria-current={current(l.to) ? 'page' : undefined} data-testid={`public-nav-${l.to.slice(3) || 'portal'}`}>
              {t(l.key)}
            </Link>
          ))}
        </nav>
        <div className="public-tools">
          <LangSwitch compact />
          <Link to="/login" className="btn btn-small btn-ghost" data-testid="public-staff-login">
            {t('public.staffLogin')}
          </Link>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="public-main">
        {children}
      </main>
      <footer className="footer public-footer">
        <span>
          {t('app.name')} · {t('public.footer')}
        </span>
        <span className="muted">{t('public.privacyNote')}</span>
      </footer>
    </div>
  );
}
