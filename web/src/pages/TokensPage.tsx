import { useState, type FormEvent } from 'react';
import { api, asPage } from '../api/client';
import type { ApiToken, CreatedToken, Page, Role, UnitRef } from '../api/types';
import { useApp } from '../app/AppContext';
import { useAsync, useLiveTopic } from '../app/hooks';
import { DataTable, type Column } from '../components/DataTable';
import { ErrorBox, InputField, Spinner, fieldError } from '../components/Forms';
import { UnitPicker } from '../components/Pickers';
import { OnceSecret } from '../components/Secret';
import { formatDateTime, utcToVnInput, vnInputToUtc } from '../lib/time';

function tokenState(tk: ApiToken, now: number): 'active' | 'revoked' | 'expired' {
  if (tk.revoked || tk.revoked_at) return 'revoked';
  if (tk.expires_at && new Date(tk.expires_at).getTime() <= now) return 'expired';
  return 'active';
}

export function TokensPage() {
  const { t, locale } = useApp();
  const tokens = useAsync(async (s) => asPage(await api.get<ApiToken[] | Page<ApiToken>>('/api/tokens', undefined, s)).items, []);
  useLiveTopic('tokens', () => tokens.reload());
  const roles = useAsync((s) => api.get<Role[]>('/api/roles', undefined, s), []);
  const allPerms = [...new Set((roles.data ?? []).flatMap((r) => r.permissions))].sort();
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [now] = useState(() => Date.now());

  const revoke = async (tk: ApiToken) => {
    if (!window.confirm(t('tokens.confirmRevoke', { name: tk.name }))) return;
    setError(null);
    try {
      await api.del(`/api/tokens/${tk.id}`);
      tokens.reload();
    } catch (e) {
      setError(e);
    }
  };

  const stateText = (tk: ApiToken) => t(`tokens.${tokenState(tk, now)}`);
  const columns: Column<ApiToken>[] = [
    { key: 'name', label: t('tokens.name'), value: (tk) => tk.name },
    { key: 'unit', label: t('tokens.unit'), value: (tk) => tk.unit?.name ?? (tk.unit_id != null ? `#${tk.unit_id}` : '') },
    {
      key: 'permissions',
      label: t('tokens.permissions'),
      value: (tk) => (tk.permissions ?? []).join(' '),
      render: (tk) => (
        <span className="chips">
          {(tk.permissions ?? []).map((p) => (
            <code key={p} className="chip">
              {p}
            </code>
          ))}
        </span>
      ),
    },
    { key: 'created_at', label: t('tokens.createdAt'), value: (tk) => tk.created_at ?? '', render: (tk) => formatDateTime(tk.created_at, locale) },
    { key: 'expires_at', label: t('tokens.expiresAt'), value: (tk) => tk.expires_at ?? '', render: (tk) => formatDateTime(tk.expires_at, locale) },
    { key: 'last_used_at', label: t('tokens.lastUsed'), value: (tk) => tk.last_used_at ?? '', render: (tk) => formatDateTime(tk.last_used_at, locale) },
    {
      key: 'status',
      label: t('tokens.status'),
      value: stateText,
      render: (tk) => <span className={`status status-${tokenState(tk, now) === 'active' ? 'ok' : 'off'}`}>{stateText(tk)}</span>,
    },
    {
      key: 'actions',
      label: t('common.actions'),
      value: () => '',
      sortable: false,
      noExport: true,
      render: (tk) =>
        tokenState(tk, now) === 'active' ? (
          <button type="button" className="btn btn-small btn-danger" onClick={() => void revoke(tk)} data-testid="token-revoke">
            {t('tokens.revoke')}
          </button>
        ) : null,
    },
  ];

  return (
    <div className="page" data-testid="tokens-page">
      <div className="page-head">
        <h1>{t('tokens.title')}</h1>
      </div>
      <p className="muted">{t('tokens.intro')}</p>
      {created && (
        <OnceSecret
          title={`${t('tokens.newToken')}: ${created.name}`}
          note={t('tokens.showOnce')}
          secret={created.token}
          testId="token-created"
          valueTestId="token-value"
          copyTestId="token-copy"
          onClose={() => setCreated(null)}
        />
      )}
      <div className="grid-side">
        <section className="card">
          <ErrorBox error={tokens.error ?? error} />
          {tokens.loading && !tokens.data ? (
            <Spinner />
          ) : (
            <DataTable
              columns={columns}
              rows={tokens.data ?? []}
              rowKey={(tk) => String(tk.id)}
              exportName="khoa-api"
              testId="tokens-table"
              rowTestId={() => 'token-row'}
              initialSort={{ key: 'created_at', dir: 'desc' }}
            />
          )}
        </section>
        <CreateTokenForm
          permissions={allPerms}
          onCreated={(name, token) => {
            setCreated({ name, token });
            tokens.reload();
          }}
        />
      </div>
    </div>
  );
}

function CreateTokenForm({ permissions, onCreated }: { permissions: string[]; onCreated: (name: string, token: string) => void }) {
  const { t } = useApp();
  const [name, setName] = useState('');
  const [unit, setUnit] = useState<UnitRef | null>(null);
  const [perms, setPerms] = useState<string[]>([]);
  // Tokens expire: 90 days unless chosen otherwise.
  const [expires, setExpires] = useState(() => utcToVnInput(new Date(Date.now() + 90 * 86_400_000)));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.post<CreatedToken>('/api/tokens', {
        name: name.trim(),
        unit_id: unit?.id,
        permissions: perms,
        expires_at: vnInputToUtc(expires),
      });
      onCreated(name.trim(), res.token);
      setName('');
      setPerms([]);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fe = (f: string) => fieldError(error, f);
  return (
    <section className="card" aria-labelledby="token-create-h">
      <h2 id="token-create-h" className="card-title">
        {t('tokens.create')}
      </h2>
      <form className="form" onSubmit={submit} data-testid="token-create-form">
        <ErrorBox error={error} fields={['name', 'unit_id', 'permissions', 'expires_at']} />
        <InputField label={t('tokens.name')} required value={name} onChange={(e) => setName(e.target.value)} error={fe('name')} data-testid="token-name" />
        <UnitPicker label={t('tokens.unit')} value={unit} onChange={setUnit} error={fe('unit_id')} testId="token-unit" required />
        <fieldset className="field checkbox-group" data-testid="token-permissions">
          <legend>{t('tokens.permissions')}</legend>
          {permissions.map((p) => (
            <label key={p} className="checkbox">
              <input
                type="checkbox"
                value={p}
                checked={perms.includes(p)}
                onChange={(e) => setPerms((c) => (e.target.checked ? [...c, p] : c.filter((x) => x !== p)))}
              />
              <code>{p}</code>
            </label>
          ))}
          {fe('permissions') && <p className="field-error">{fe('permissions')}</p>}
        </fieldset>
        <InputField
          label={t('tokens.expiresAt')}
          type="datetime-local"
          required
          value={expires}
          onChange={(e) => setExpires(e.target.value)}
          error={fe('expires_at')}
          hint={t('duty.timesHint')}
          data-testid="token-expires"
        />
        <button type="submit" className="btn btn-primary" disabled={busy || !unit || !name.trim()} data-testid="token-create">
          {t('tokens.create')}
        </button>
      </form>
    </section>
  );
}
