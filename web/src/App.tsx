import { useEffect, type ReactNode } from 'react';
import type { ModuleName } from './api/types';
import { useApp } from './app/AppContext';
import { Spinner } from './components/Forms';
import { Layout, availableModules } from './components/Layout';
import { AuditPage } from './pages/AuditPage';
import { DevicePage } from './pages/devices/DevicePage';
import { DevicesPage } from './pages/devices/DevicesPage';
import { DutyPage } from './pages/DutyPage';
import { HomePage } from './pages/HomePage';
import { LoginPage, safeNext } from './pages/LoginPage';
import { DomainListPage } from './pages/monitoring/DomainListPage';
import { EntityPage } from './pages/monitoring/EntityPage';
import { MonitoringPage } from './pages/monitoring/MonitoringPage';
import { OrgPage } from './pages/OrgPage';
import { ChangePasswordPage, ProfilePage, TotpSetupPage } from './pages/ProfilePage';
import { TokensPage } from './pages/TokensPage';
import { UsersPage } from './pages/UsersPage';
import { NewReportPage } from './pages/public/NewReportPage';
import { PortalPage } from './pages/public/PortalPage';
import { PublicLayout } from './pages/public/PublicLayout';
import { PublicReportPage } from './pages/public/PublicReportPage';
import { TrackPage } from './pages/public/TrackPage';
import { AdminPage as ReportsAdminPage } from './pages/reports/AdminPage';
import { ReportDetailPage } from './pages/reports/ReportDetailPage';
import { ReportsPage } from './pages/reports/ReportsPage';
import { StatsPage as ReportsStatsPage } from './pages/reports/StatsPage';
import { Link, matchPath, navigate, useLocation } from './router';

interface Route {
  path: string;
  module: ModuleName;
  render: (params: Record<string, string>) => ReactNode;
}

const positiveId = (s: string | undefined): number | null => {
  const id = Number(s);
  return Number.isInteger(id) && id > 0 ? id : null;
};

/** Citizens' pages: no login, their own light layout. */
const PUBLIC_ROUTES: { path: string; render: (params: Record<string, string>) => ReactNode }[] = [
  { path: '/p', render: () => <PortalPage /> },
  { path: '/p/new', render: () => <NewReportPage /> },
  { path: '/p/track', render: () => <TrackPage code={null} /> },
  { path: '/p/track/:code', render: (p) => <TrackPage key={p.code} code={p.code ?? null} /> },
  { path: '/p/reports/:id', render: (p) => <PublicReportPage id={positiveId(p.id)} /> },
];

const ROUTES: Route[] = [
  { path: '/', module: 'home', render: () => <HomePage /> },
  { path: '/org', module: 'org', render: () => <OrgPage id={null} /> },
  {
    path: '/org/:id',
    module: 'org',
    render: (p) => {
      const id = Number(p.id);
      return <OrgPage id={Number.isInteger(id) && id > 0 ? id : null} />;
    },
  },
  { path: '/admin/users', module: 'users', render: () => <UsersPage /> },
  { path: '/admin/duty', module: 'duty', render: () => <DutyPage /> },
  { path: '/admin/tokens', module: 'tokens', render: () => <TokensPage /> },
  { path: '/audit', module: 'audit', render: () => <AuditPage /> },
  { path: '/profile', module: 'profile', render: () => <ProfilePage /> },
  { path: '/reports', module: 'reports', render: () => <ReportsPage /> },
  { path: '/reports/stats', module: 'reports-stats', render: () => <ReportsStatsPage /> },
  { path: '/reports/admin', module: 'reports-admin', render: () => <ReportsAdminPage /> },
  { path: '/reports/:id', module: 'reports', render: (p) => <ReportDetailPage key={p.id} id={positiveId(p.id)} /> },
  { path: '/monitoring', module: 'monitoring', render: () => <MonitoringPage /> },
  { path: '/monitoring/entity/:id', module: 'monitoring', render: (p) => <EntityPage key={p.id} id={p.id ?? ''} /> },
  { path: '/monitoring/:domain', module: 'monitoring', render: (p) => <DomainListPage key={p.domain} domain={p.domain ?? ''} /> },
  { path: '/devices', module: 'devices', render: () => <DevicesPage /> },
  { path: '/devices/:id', module: 'devices', render: (p) => <DevicePage key={p.id} id={p.id ?? ''} /> },
];

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function Message({ text, testId }: { text: string; testId: string }) {
  const { t } = useApp();
  return (
    <div className="page">
      <div className="card empty-state" data-testid={testId}>
        <p>{text}</p>
        <Link to="/" className="btn">
          {t('common.goHome')}
        </Link>
      </div>
    </div>
  );
}

export function App() {
  const { ready, me, t } = useApp();
  const { pathname, search, href } = useLocation();

  if (!ready) {
    return (
      <div className="boot" data-testid="boot">
        <Spinner />
      </div>
    );
  }

  for (const r of PUBLIC_ROUTES) {
    const params = matchPath(r.path, pathname);
    if (params) return <PublicLayout>{r.render(params)}</PublicLayout>;
  }

  if (pathname === '/login') {
    if (me) return <Redirect to={me.must_change_password ? '/change-password' : safeNext(search.get('next'))} />;
    return <LoginPage />;
  }
  if (!me) {
    const next = href === '/' ? '' : `?next=${encodeURIComponent(href)}`;
    return <Redirect to={`/login${next}`} />;
  }
  if (me.must_change_password) {
    if (pathname !== '/change-password') return <Redirect to="/change-password" />;
    return <ChangePasswordPage />;
  }
  if (pathname === '/change-password') return <Redirect to="/profile" />;
  if (me.totp_required && !me.totp_enabled) {
    if (pathname !== '/setup-2fa') return <Redirect to="/setup-2fa" />;
    return <TotpSetupPage />;
  }
  if (pathname === '/setup-2fa') return <Redirect to="/" />;

  for (const r of ROUTES) {
    const params = matchPath(r.path, pathname);
    if (!params) continue;
    // Home and profile are always reachable; other modules only when the role has them.
    const allowed = r.module === 'home' || r.module === 'profile' || availableModules(me).includes(r.module);
    return (
      <Layout>{allowed ? r.render(params) : <Message text={t('error.forbidden')} testId="forbidden" />}</Layout>
    );
  }
  return (
    <Layout>
      <Message text={t('common.notFound')} testId="not-found" />
    </Layout>
  );
}
