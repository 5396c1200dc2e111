import { useState, type FormEvent } from 'react';
import { ApiError, api, request } from '../api/client';
import type { Locale, Me, TotpSetup } from '../api/types';
import { useApp } from '../app/AppContext';
import { ErrorBox, InputField, Notice, SelectField, fieldError } from '../components/Forms';
import { LangSwitch, Logo } from '../components/Layout';
import { Qr } from '../components/Qr';
import { navigate } from '../router';
import { CopyButton } from '../components/Secret';

export function ChangePasswordForm({ onDone }: { onDone?: () => void }) {
  const { t } = useApp();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    if (next !== again) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    setBusy(true);
    try {
      // quietAuth: a 401 here means "wrong current password", not "session ended".
      await request('POST', '/api/auth/password', {
        body: { current_password: current, new_password: next },
        quietAuth: true,
      });
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
      onDone?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  // A wrong current password may come back as 401/403 without a field: show it on that field.
  const currentErr =
    fieldError(error, 'current_password') ??
    (error instanceof ApiError && (error.status === 401 || error.status === 403) && !error.problem.errors?.length
      ? error.problem.detail || error.problem.title
      : undefined);

  return (
    <form className="form" onSubmit={submit} data-testid="change-password-form">
      <ErrorBox error={currentErr ? null : error} fields={['current_password', 'new_password']} />
      <InputField
        label={t('profile.currentPassword')}
        type="password"
        autoComplete="current-password"
        required
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        error={currentErr}
        data-testid="current-password"
      />
      <InputField
        label={t('profile.newPassword')}
        type="password"
        autoComplete="new-password"
        required
        value={next}
        onChange={(e) => setNext(e.target.value)}
        error={fieldError(error, 'new_password')}
        data-testid="new-password"
      />
      <InputField
        label={t('profile.confirmPassword')}
        type="password"
        autoComplete="new-password"
        required
        value={again}
        onChange={(e) => setAgain(e.target.value)}
        error={mismatch ? t('profile.passwordMismatch') : undefined}
        data-testid="confirm-password"
      />
      <button type="submit" className="btn btn-primary" disabled={busy} data-testid="change-password-submit">
        {busy ? t('common.saving') : t('profile.changePassword')}
      </button>
      {done && <Notice testId="password-changed">{t('profile.passwordChanged')}</Notice>}
    </form>
  );
}

/** Shown instead of everything else while `must_change_password` is true. */
export function ChangePasswordPage() {
  const { t, refreshMe, logout } = useApp();
  return (
    <div className="login-page" data-testid="change-password-page">
      <div className="login-wrap">
        <div className="login-top">
          <LangSwitch />
        </div>
        <div className="login-card">
          <div className="login-brand">
            <Logo size={48} />
            <h1>{t('profile.changePassword')}</h1>
          </div>
          <div className="alert alert-warn" role="alert">
            {t('profile.mustChange')}
          </div>
          <ChangePasswordForm
            onDone={() => {
              void refreshMe().then((m) => {
                if (m && !m.must_change_password) navigate('/', { replace: true });
              });
            }}
          />
          <button type="button" className="btn btn-ghost btn-block" onClick={() => void logout()}>
            {t('nav.logout')}
          </button>
        </div>
      </div>
    </div>
  );
}

/** Shown instead of everything else while the role needs two-factor login and it is not set up. */
export function TotpSetupPage() {
  const { t, logout } = useApp();
  return (
    <div className="login-page" data-testid="totp-setup-page">
      <div className="login-wrap">
        <div className="login-top">
          <LangSwitch />
        </div>
        <div className="login-card login-card-wide">
          <div className="login-brand">
            <Logo size={48} />
            <h1>{t('profile.totp')}</h1>
          </div>
          <div className="alert alert-warn" role="alert">
            {t('profile.totpRequired')}
          </div>
          <TotpSection />
          <button type="button" className="btn btn-ghost btn-block" onClick={() => void logout()}>
            {t('nav.logout')}
          </button>
        </div>
      </div>
    </div>
  );
}

export function TotpSection() {
  const { t, me, refreshMe } = useApp();
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  if (!me) return null;

  const start = async () => {
    setError(null);
    setNotice('');
    try {
      setSetup(await api.post<TotpSetup>('/api/auth/totp/setup'));
    } catch (e) {
      setError(e);
    }
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      if (me.totp_enabled) {
        await request('POST', '/api/auth/totp/disable', { body: { code }, quietAuth: true });
        setNotice(t('profile.totpDisabled'));
      } else {
        await request('POST', '/api/auth/totp/enable', { body: { code }, quietAuth: true });
        setNotice(t('profile.totpEnabled'));
        setSetup(null);
      }
      setCode('');
      await refreshMe();
    } catch (err) {
      setError(err);
    }
  };

  const codeField = (
    <InputField
      label={t('profile.totpCode')}
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9]{6}"
      maxLength={6}
      required
      value={code}
      onChange={(e) => setCode(e.target.value.replace(/\D/g, '').slice(0, 6))}
      error={fieldError(error, 'code')}
      className="totp-input"
      data-testid="totp-code"
    />
  );

  return (
    <section className="card" aria-labelledby="totp-h" data-testid="totp-section">
      <h2 id="totp-h" className="card-title">
        {t('profile.totp')}
      </h2>
      <p data-testid="totp-state">{me.totp_enabled ? t('profile.totpOn') : t('profile.totpOff')}</p>
      {me.totp_required && !me.totp_enabled && <p className="alert alert-warn">{t('profile.totpRequired')}</p>}
      <Notice>{notice}</Notice>
      <ErrorBox error={error} fields={['code']} />
      {me.totp_enabled ? (
        <form className="form form-inline" onSubmit={submit}>
          {codeField}
          <button type="submit" className="btn btn-danger" data-testid="totp-disable">
            {t('profile.totpDisable')}
          </button>
        </form>
      ) : !setup ? (
        <button type="button" className="btn" onClick={() => void start()} data-testid="totp-setup">
          {t('profile.totpSetup')}
        </button>
      ) : (
        <div className="totp-setup">
          <figure className="qr-figure">
            <Qr text={setup.otpauth_url} label={t('profile.totpQr')} />
            <figcaption className="small muted">{t('profile.totpQr')}</figcaption>
          </figure>
          <div className="stack">
            <div>
              <span className="label">{t('profile.totpSecret')}</span>
              <div className="secret-row">
                <code className="secret" data-testid="totp-secret">
                  {setup.secret}
                </code>
                <CopyButton text={setup.secret} />
              </div>
            </div>
            <div>
              <span className="label">{t('profile.totpUrl')}</span>
              <div className="secret-row">
                <code className="secret small" data-testid="totp-url">
                  {setup.otpauth_url}
                </code>
                <CopyButton text={setup.otpauth_url} />
              </div>
            </div>
            <form className="form form-inline" onSubmit={submit}>
              {codeField}
              <button type="submit" className="btn btn-primary" data-testid="totp-enable">
                {t('profile.totpEnable')}
              </button>
            </form>
          </div>
        </div>
      )}
    </section>
  );
}

export function ProfilePage() {
  const { t, td, me, setMe, locale, setLocale, logout } = useApp();
  const [name, setName] = useState(me?.display_name ?? '');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  if (!me) return null;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      const m = await api.patch<Me>('/api/auth/me', { display_name: name.trim() });
      if (m && typeof m === 'object') setMe(m);
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div className="page" data-testid="profile-page">
      <div className="page-head">
        <h1>{t('profile.title')}</h1>
        <button type="button" className="btn" onClick={() => void logout()} data-testid="profile-logout">
          {t('nav.logout')}
        </button>
      </div>
      <div className="grid-2">
        <section className="card" aria-labelledby="me-h">
          <h2 id="me-h" className="card-title">
            {me.display_name}
          </h2>
          <form className="form" onSubmit={save} data-testid="profile-form">
            <ErrorBox error={error} fields={['display_name']} />
            <InputField label={t('profile.username')} value={me.username} readOnly disabled />
            <InputField
              label={t('profile.displayName')}
              required
              value={name}
              onChange={(e) => setName(e.target.value)}
              error={fieldError(error, 'display_name')}
              data-testid="profile-display-name"
            />
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" data-testid="profile-save">
                {t('common.save')}
              </button>
              {saved && (
                <span className="ok-text" role="status">
                  {t('common.saved')}
                </span>
              )}
            </div>
          </form>
          <SelectField
            label={t('profile.language')}
            value={locale}
            onChange={(e) => setLocale(e.target.value as Locale)}
            data-testid="profile-locale"
          >
            <option value="vi">{t('lang.vi')}</option>
            <option value="en">{t('lang.en')}</option>
          </SelectField>
        </section>
        <section className="card" aria-labelledby="pw-h">
          <h2 id="pw-h" className="card-title">
            {t('profile.changePassword')}
          </h2>
          <ChangePasswordForm />
        </section>
        <TotpSection />
        <section className="card" aria-labelledby="grants-h">
          <h2 id="grants-h" className="card-title">
            {t('profile.grants')}
          </h2>
          <ul className="grant-list">
            {me.grants.map((g) => (
              <li key={g.id}>
                <span className="badge">{td(`role.${g.role}`, g.role)}</span> {g.unit.name}
              </li>
            ))}
          </ul>
          <h3 className="small muted">{t('profile.permissions')}</h3>
          <p className="chips">
            {me.permissions.map((p) => (
              <code key={p} className="chip">
                {p}
              </code>
            ))}
          </p>
        </section>
      </div>
    </div>
  );
}
