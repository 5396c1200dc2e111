import { useRef, useState, type FormEvent } from 'react';
import { ApiError, NetworkError, request } from '../api/client';
import type { Me } from '../api/types';
import { useApp } from '../app/AppContext';
import { Notice } from '../components/Forms';
import { DemoBanner, LangSwitch, Logo } from '../components/Layout';
import { Link, navigate, useLocation } from '../router';

/** Only same-site paths are accepted as the place to return to. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/api/')) return '/';
  return next;
}

export function LoginPage() {
  const { t, setMe, config, loginNotice } = useApp();
  const { search } = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; field?: 'username' | 'password' | 'totp' } | null>(null);
  const totpRef = useRef<HTMLInputElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = { username: username.trim(), password };
      if (needTotp && totp) body.totp = totp;
      const me = await request<Me>('POST', '/api/auth/login', { body, quietAuth: true });
      setMe(me);
      navigate(me.must_change_password ? '/change-password' : safeNext(search.get('next')), { replace: true });
    } catch (err) {
      if (err instanceof ApiError) {
        // The status decides; the slug only tells the two kinds of 401 apart.
        const kind =
          err.status === 401
            ? err.slug === 'totp-required'
              ? 'totp-required'
              : 'unauthenticated'
            : err.status === 423
              ? 'locked'
              : err.status === 429
                ? 'rate-limited'
                : err.status === 400 || err.status === 422
                  ? 'validation'
                  : err.slug;
        switch (kind) {
          case 'totp-required':
            if (needTotp && totp) {
              setError({ message: t('login.errorTotp'), field: 'totp' });
            }
            setNeedTotp(true);
            setTotp('');
            setTimeout(() => totpRef.current?.focus(), 0);
            break;
          case 'locked':
            setError({ message: t('login.errorLocked') });
            break;
          case 'rate-limited':
            setError({
              message: err.retryAfter
                ? t('login.errorRateLimitedSeconds', { seconds: err.retryAfter })
                : t('login.errorRateLimited'),
            });
            break;
          case 'validation': {
            const f = err.problem.errors?.[0];
            const field = f?.field === 'username' || f?.field === 'password' || f?.field === 'totp' ? f.field : undefined;
            setError({ message: f?.reason || err.problem.detail || t('error.validation'), field });
            break;
          }
          case 'unauthenticated':
            setError({ message: needTotp ? t('login.errorTotp') : t('login.errorInvalid'), field: needTotp ? 'totp' : 'password' });
            break;
          default:
            setError({ message: err.problem.detail || err.problem.title || t('error.internal') });
        }
      } else if (err instanceof NetworkError) {
        setError({ message: t('error.network') });
      } else {
        setError({ message: t('error.title') });
      }
    } finally {
      setBusy(false);
    }
  };

  const errFor = (f: 'username' | 'password' | 'totp') => (error?.field === f ? 'login-error' : undefined);

  return (
    <div className="login-page" data-testid="login-page">
      {config?.demo && <DemoBanner />}
      <div className="login-wrap">
        <div className="login-top">
          <LangSwitch />
        </div>
        <div className="login-card">
          <div className="login-brand">
            <Logo size={56} />
            <h1 data-testid="product-name">{t('app.name')}</h1>
            <p className="login-subtitle" data-testid="product-subtitle">
              {t('app.subtitle')}
            </p>
          </div>
          <form onSubmit={submit} noValidate={false} className="form" data-testid="login-form">
            <h2 className="login-title">{t('login.title')}</h2>
            {loginNotice && <Notice>{t(loginNotice)}</Notice>}
            {error && (
              <div className="alert alert-error" role="alert" id="login-error" data-testid="login-error">
                {error.message}
              </div>
            )}
            <div className={`field${error?.field === 'username' ? ' field-invalid' : ''}`}>
              <label htmlFor="login-username">{t('login.username')}</label>
              <input
                id="login-username"
                name="username"
                autoComplete="username"
                autoCapitalize="none"
                spellCheck={false}
                required
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                aria-describedby={errFor('username')}
                aria-invalid={error?.field === 'username' || undefined}
                data-testid="login-username"
                disabled={needTotp}
              />
            </div>
            <div className={`field${error?.field === 'password' ? ' field-invalid' : ''}`}>
              <label htmlFor="login-password">{t('login.password')}</label>
              <input
                id="login-password"
                name="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                aria-describedby={errFor('password')}
                aria-invalid={error?.field === 'password' || undefined}
                data-testid="login-password"
                disabled={needTotp}
              />
            </div>
            {needTotp && (
              <div className={`field${error?.field === 'totp' ? ' field-invalid' : ''}`}>
                <label htmlFor="login-totp">{t('login.totp')}</label>
                <input
                  id="login-totp"
                  ref={totpRef}
                  name="totp"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  pattern="[0-9]{6}"
                  maxLength={6}
                  required
                  value={totp}
                  onChange={(e) => setTotp(e.target.value.replace(/\D/g, '').slice(0, 6))}
                  aria-describedby={['login-totp-hint', errFor('totp')].filter(Boolean).join(' ')}
                  aria-invalid={error?.field === 'totp' || undefined}
                  data-testid="login-totp"
                  className="totp-input"
                />
                <p className="hint" id="login-totp-hint">
                  {t('login.totpHint')}
                </p>
              </div>
            )}
            <button type="submit" className="btn btn-primary btn-block" disabled={busy} data-testid="login-submit">
              {busy ? t('login.submitting') : t('login.submit')}
            </button>
            {needTotp && (
              <button
                type="button"
                className="btn btn-ghost btn-block"
                onClick={() => {
                  setNeedTotp(false);
                  setTotp('');
                  setError(null);
                }}
              >
                {t('common.back')}
              </button>
            )}
          </form>
          <p className="login-footer muted small">{t('login.footer')}</p>
        </div>
        <nav className="login-public card" aria-label={t('public.nav')} data-testid="login-public">
          <p className="small">{t('public.loginIntro')}</p>
          <div className="row-actions">
            <Link to="/p/new" className="btn btn-primary" data-testid="login-public-new">
              {t('public.navNew')}
            </Link>
            <Link to="/p/track" className="btn" data-testid="login-public-track">
              {t('public.navTrack')}
            </Link>
            <Link to="/p" className="btn btn-ghost" data-testid="login-public-portal">
              {t('public.navPortal')}
            </Link>
          </div>
        </nav>
        <p className="login-links small">
          <a href="/api/docs">{t('app.apiDocs')}</a>
          {config?.version && <span className="muted"> · {t('app.version', { version: config.version })}</span>}
        </p>
      </div>
    </div>
  );
}
