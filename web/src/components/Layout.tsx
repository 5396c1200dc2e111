import { useState, type ReactNode } from 'react';
import type { Me, ModuleName } from '../api/types';
import { useApp } from '../app/AppContext';
import { useLiveState } from '../app/hooks';
import { Link, useLocation } from '../router';
import { AlarmBanner } from './AlarmBanner';
import { Icon } from './Icons';

/** Where each module lives. `api-docs` is served by the server, outside the app. */
export const MODULE_PATHS: Record<ModuleName, string> = {
  home: '/',
  org: '/org',
  users: '/admin/users',
  duty: '/admin/duty',
  tokens: '/admin/tokens',
  audit: '/audit',
  profile: '/profile',
  'api-docs': '/api/docs',
  reports: '/reports',
  'reports-stats': '/reports/stats',
  'reports-admin': '/reports/admin',
  monitoring: '/monitoring',
  devices: '/devices',
};

export const NAV_ORDER: ModuleName[] = [
  'home',
  'monitoring',
  'reports',
  'reports-stats',
  'org',
  'duty',
  'users',
  'tokens',
  'audit',
  'devices',
  'reports-admin',
  'profile',
  'api-docs',
];

/**
 * The modules `me` may open: the server's list, plus the context-data pages for whoever holds
 * `context.read` (the server's `/api/auth/me` does not name those modules yet).
 */
export function availableModules(me: Pick<Me, 'modules' | 'permissions'> | null): ModuleName[] {
  if (!me) return [];
  const out = new Set<ModuleName>(me.modules);
  if (me.permissions.includes('context.read')) {
    out.add('monitoring');
    out.add('devices');
  }
  return [...out];
}

/** Modules listed only in the phone menu (reached from the header, home tiles or their pages on a wide screen). */
const SECONDARY = new Set<ModuleName>(['profile', 'api-docs', 'reports-admin', 'devices']);

export function Logo({ size = 32 }: { size?: number }) {
  // A lighthouse ("hải đăng") with its beam.
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" className="logo">
      <circle cx="16" cy="16" r="15" className="logo-bg" />
      <path d="M16 6 L26 3 L26 9 Z" className="logo-beam" />
      <path d="M16 6 L6 3 L6 9 Z" className="logo-beam" />
      <path d="M13.5 9 h5 l1.6 16 h-8.2 Z" className="logo-tower" />
      <rect x="13" y="5" width="6" height="4" rx="1" className="logo-lamp" />
      <path d="M12.6 15 h6.8 M12.2 20 h7.6" className="logo-band" />
      <path d="M7 26 h18" className="logo-sea" />
    </svg>
  );
}

export function LangSwitch({ compact = false }: { compact?: boolean }) {
  const { locale, setLocale, t } = useApp();
  return (
    <div className="segmented" role="group" aria-label={t('lang.label')} data-testid="lang-switch">
      {(['vi', 'en'] as const).map((l) => (
        <button
          key={l}
          type="button"
          lang={l}
          aria-pressed={locale === l}
          className={locale === l ? 'on' : undefined}
          onClick={() => setLocale(l)}
          data-testid={`lang-${l}`}
          title={t(l === 'vi' ? 'lang.vi' : 'lang.en')}
        >
          {compact ? l.toUpperCase() : t(l === 'vi' ? 'lang.vi' : 'lang.en')}
        </button>
      ))}
    </div>
  );
}

export function LiveIndicator() {
  const { t } = useApp();
  const state = useLiveState();
  const text = t(state === 'online' ? 'live.online' : state === 'connecting' ? 'live.connecting' : 'live.offline');
  return (
    <span
      className={`live live-${state}`}
      data-testid="live-status"
      data-state={state}
      title={t('live.title', { state: text })}
      role="status"
    >
      <span className="live-dot" aria-hidden="true" />
      <span className="live-text">{text}</span>
    </span>
  );
}

export function WallToggle() {
  const { wall, setWall, t } = useApp();
  return (
    <button
      type="button"
      className="btn btn-icon"
      aria-pressed={wall}
      onClick={() => setWall(!wall)}
      title={t(wall ? 'nav.wallOff' : 'nav.wallOn')}
      aria-label={t(wall ? 'nav.wallOff' : 'nav.wallOn')}
      data-testid="wall-toggle"
    >
      <Icon name="wall" />
    </button>
  );
}

export function DemoBanner() {
  const { t } = useApp();
  return (
    <div className="demo-banner" role="note" data-testid="demo-banner">
      <strong>{t('app.demoBanner')}</strong>
      <span className="demo-detail">{t('app.demoBannerDetail')}</span>
    </div>
  );
}

function matches(pathname: string, to: string): boolean {
  if (to === '/') return pathname === '/';
  return pathname === to || pathname.startsWith(to + '/');
}

/** Whether `to` is the most specific module path containing `pathname` (/reports vs /reports/stats). */
function isActive(pathname: string, to: string): boolean {
  if (!matches(pathname, to)) return false;
  return !Object.values(MODULE_PATHS).some((p) => p.length > to.length && matches(pathname, p));
}

export function Layout({ children }: { children: ReactNode }) {
  const { me, config, t, logout } = useApp();
  const { pathname } = useLocation();
  // The phone menu stays open only on the page where it was opened.
  const [menuOpenAt, setMenuOpenAt] = useState<string | null>(null);
  const menuOpen = menuOpenAt === pathname;
  const setMenuOpen = (f: (open: boolean) => boolean) => setMenuOpenAt(f(menuOpen) ? pathname : null);

  const allowed = availableModules(me);
  const modules = NAV_ORDER.filter((m) => allowed.includes(m));
  const demo = Boolean(config?.demo || me?.demo);

  return (
    <div className="app-shell">
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="topbar" data-testid="app-header">
        <button
          type="button"
          className="btn btn-icon nav-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          aria-label={t(menuOpen ? 'nav.closeMenu' : 'nav.menu')}
          onClick={() => setMenuOpen((o) => !o)}
          data-testid="nav-toggle"
        >
          <Icon name={menuOpen ? 'close' : 'menu'} />
        </button>
        <Link to="/" className="brand" data-testid="brand">
          <Logo />
          <span className="brand-text">
            <span className="brand-name">{t('app.name')}</span>
            <span className="brand-sub">{t('app.subtitle')}</span>
          </span>
        </Link>
        <nav
          id="main-nav"
          className={`mainnav${menuOpen ? ' open' : ''}`}
          aria-label={t('nav.main')}
          data-testid="main-nav"
        >
          <ul>
            {modules.map((m) => {
              const to = MODULE_PATHS[m];
              const label = t(`module.${m}`);
              return (
                <li key={m} className={SECONDARY.has(m) ? 'nav-secondary' : undefined}>
                  {m === 'api-docs' ? (
                    <a href={to} target="_blank" rel="noopener" data-testid={`nav-${m}`}>
                      <Icon name={m} />
                      {label}
                    </a>
                  ) : (
                    <Link
                      to={to}
                      aria-current={isActive(pathname, to) ? 'page' : undefined}
                      data-testid={`nav-${m}`}
                    >
                      <Icon name={m} />
                      {label}
                    </Link>
                  )}
                </li>
              );
            })}
            <li className="nav-logout-item">
              <button type="button" className="linklike" onClick={() => void logout()} data-testid="nav-logout">
                <Icon name="logout" />
                {t('nav.logout')}
              </button>
            </li>
          </ul>
        </nav>
        <div className="topbar-tools">
          <LiveIndicator />
          <LangSwitch compact />
          <WallToggle />
          {me && (
            <Link to="/profile" className="user-chip" data-testid="user-chip" title={me.username}>
              <span className="avatar" aria-hidden="true">
                {(me.display_name || me.username).trim().slice(0, 1).toUpperCase()}
              </span>
              <span className="user-name">{me.display_name || me.username}</span>
            </Link>
          )}
          <button
            type="button"
            className="btn btn-ghost btn-small logout-btn"
            onClick={() => void logout()}
            data-testid="logout"
          >
            {t('nav.logout')}
          </button>
        </div>
      </header>
      {demo && <DemoBanner />}
      {me?.modules.includes('reports') && <AlarmBanner />}
      <main id="main" tabIndex={-1} className="main">
        {children}
      </main>
      <footer className="footer">
        <span>
          {t('app.name')} · {t('app.subtitle')}
        </span>
        {config?.version && <span>{t('app.version', { version: config.version })}</span>}
        <a href="/api/docs" target="_blank" rel="noopener" data-testid="footer-api-docs">
          {t('app.apiDocs')}
        </a>
      </footer>
    </div>
  );
}
