import { useState, type FormEvent } from 'react';
import { api, asPage } from '../api/client';
import type { Field as ApiField, Grant, Page, Role, UnitRef, User } from '../api/types';
import { useApp } from '../app/AppContext';
import { useAsync, useLiveTopic } from '../app/hooks';
import { DataTable, type Column } from '../components/DataTable';
import { Dialog } from '../components/Dialog';
import { ErrorBox, InputField, Notice, SelectField, Spinner, fieldError } from '../components/Forms';
import { UnitPicker } from '../components/Pickers';
import { formatDateTime } from '../lib/time';

interface Filters {
  q: string;
  unit: UnitRef | null;
  role: string;
}

function useRolesAndFields() {
  const roles = useAsync((s) => api.get<Role[]>('/api/roles', undefined, s), []);
  const fields = useAsync((s) => api.get<ApiField[]>('/api/fields', undefined, s).catch(() => [] as ApiField[]), []);
  return { roles: roles.data ?? [], fields: fields.data ?? [] };
}

export function UsersPage() {
  const { t, td, locale, can } = useApp();
  const canWrite = can('users.write');
  const { roles, fields } = useRolesAndFields();
  const [draft, setDraft] = useState<Filters>({ q: '', unit: null, role: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [extra, setExtra] = useState<User[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState('');

  const query = { q: filters.q, unit: filters.unit?.id, role: filters.role, limit: 100 };
  const list = useAsync(async (signal) => {
    const page = asPage(await api.get<Page<User> | User[]>('/api/users', query, signal));
    setExtra([]);
    setCursor(page.next_cursor);
    return page.items;
  }, [filters]);
  useLiveTopic('users', () => list.reload());

  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = asPage(await api.get<Page<User>>('/api/users', { ...query, cursor }));
      setExtra((e) => [...e, ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      setMoreError(e);
    }
  };

  const rows = [...(list.data ?? []), ...extra];
  const roleName = (code: string) => {
    const r = roles.find((x) => x.role === code);
    return r ? (locale === 'vi' ? r.name_vi : r.name_en) : td(`role.${code}`, code);
  };

  const status = (u: User) =>
    !u.active
      ? t('users.inactive')
      : u.locked_until && new Date(u.locked_until) > new Date()
        ? t('users.lockedUntil', { time: formatDateTime(u.locked_until, locale) })
        : t('users.active');

  const columns: Column<User>[] = [
    { key: 'username', label: t('users.username'), value: (u) => u.username, render: (u) => <code>{u.username}</code> },
    { key: 'display_name', label: t('users.displayName'), value: (u) => u.display_name },
    { key: 'home_unit', label: t('users.homeUnit'), value: (u) => u.home_unit?.name },
    {
      key: 'grants',
      label: t('users.grants'),
      value: (u) => u.grants.map((g) => `${roleName(g.role)} @ ${g.unit.name}`).join('; '),
      render: (u) => (
        <span className="chips">
          {u.grants.map((g) => (
            <span key={g.id} className="badge" title={g.unit.name}>
              {roleName(g.role)} · {g.unit.code}
            </span>
          ))}
        </span>
      ),
    },
    {
      key: 'status',
      label: t('users.status'),
      value: status,
      render: (u) => <span className={`status ${u.active ? 'status-ok' : 'status-off'}`}>{status(u)}</span>,
    },
    { key: 'totp', label: t('users.totp'), value: (u) => (u.totp_enabled ? t('common.yes') : t('common.no')) },
    {
      key: 'last_login_at',
      label: t('users.lastLogin'),
      value: (u) => u.last_login_at ?? '',
      render: (u) => formatDateTime(u.last_login_at, locale),
    },
    {
      key: 'actions',
      label: t('common.actions'),
      value: () => '',
      sortable: false,
      noExport: true,
      render: (u) =>
        canWrite ? (
          <button type="button" className="btn btn-small" onClick={() => setEditing(u.id)} data-testid="user-edit">
            {t('common.edit')}
          </button>
        ) : null,
    },
  ];

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };

  return (
    <div className="page" data-testid="users-page">
      <div className="page-head">
        <h1>{t('users.title')}</h1>
        {canWrite && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)} data-testid="user-create">
            {t('users.create')}
          </button>
        )}
      </div>
      <Notice testId="users-notice">{notice}</Notice>
      <form className="card filters" onSubmit={apply} data-testid="users-filters">
        <InputField
          label={t('users.search')}
          type="search"
          value={draft.q}
          onChange={(e) => setDraft({ ...draft, q: e.target.value })}
          data-testid="users-q"
        />
        <UnitPicker
          label={t('users.unitFilter')}
          value={draft.unit}
          onChange={(unit) => setDraft({ ...draft, unit })}
          testId="users-unit"
        />
        <SelectField
          label={t('users.roleFilter')}
          value={draft.role}
          onChange={(e) => setDraft({ ...draft, role: e.target.value })}
          data-testid="users-role"
        >
          <option value="">{t('common.all')}</option>
          {roles.map((r) => (
            <option key={r.role} value={r.role}>
              {roleName(r.role)}
            </option>
          ))}
        </SelectField>
        <div className="filter-actions">
          <button type="submit" className="btn btn-primary">
            {t('common.apply')}
          </button>
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => {
              const empty = { q: '', unit: null, role: '' };
              setDraft(empty);
              setFilters(empty);
            }}
          >
            {t('common.clear')}
          </button>
        </div>
      </form>
      <section className="card">
        {list.error ? <ErrorBox error={list.error} /> : null}
        {list.loading && !list.data ? (
          <Spinner />
        ) : (
          <DataTable
            columns={columns}
            rows={rows}
            rowKey={(u) => u.id}
            exportName="nguoi-dung"
            testId="users-table"
            rowTestId={() => 'user-row'}
            initialSort={{ key: 'display_name', dir: 'asc' }}
          />
        )}
        <ErrorBox error={moreError} />
        {cursor && (
          <button type="button" className="btn" onClick={() => void loadMore()} data-testid="users-more">
            {t('common.loadMore')}
          </button>
        )}
      </section>

      <CreateUserDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(u) => {
          setCreating(false);
          setNotice(t('users.created', { name: u.display_name }));
          list.reload();
          setEditing(u.id);
        }}
      />
      {editing !== null && (
        <EditUserDialog
          id={editing}
          roles={roles}
          fields={fields}
          roleName={roleName}
          onClose={() => setEditing(null)}
          onChanged={() => list.reload()}
        />
      )}
    </div>
  );
}

function CreateUserDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (u: User) => void }) {
  const { t } = useApp();
  const [form, setForm] = useState({ username: '', display_name: '', password: '', email: '', phone: '' });
  const [unit, setUnit] = useState<UnitRef | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const u = await api.post<User>('/api/users', {
        username: form.username.trim(),
        display_name: form.display_name.trim(),
        password: form.password,
        home_unit_id: unit?.id,
        email: form.email.trim() || undefined,
        phone: form.phone.trim() || undefined,
      });
      setForm({ username: '', display_name: '', password: '', email: '', phone: '' });
      setUnit(null);
      onCreated(u);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const fe = (f: string) => fieldError(error, f);
  return (
    <Dialog open={open} title={t('users.create')} onClose={onClose} testId="user-create-dialog">
      <form className="form" onSubmit={submit}>
        <ErrorBox error={error} fields={['username', 'display_name', 'password', 'home_unit_id', 'email', 'phone']} />
        <InputField label={t('users.username')} required autoComplete="off" value={form.username} onChange={set('username')} error={fe('username')} data-testid="new-username" />
        <InputField label={t('users.displayName')} required value={form.display_name} onChange={set('display_name')} error={fe('display_name')} data-testid="new-display-name" />
        <InputField label={t('users.password')} type="password" required autoComplete="new-password" value={form.password} onChange={set('password')} error={fe('password')} data-testid="new-password" />
        <UnitPicker label={t('users.homeUnit')} value={unit} onChange={setUnit} error={fe('home_unit_id')} testId="new-home-unit" required />
        <InputField label={t('users.email')} type="email" optional value={form.email} onChange={set('email')} error={fe('email')} />
        <InputField label={t('users.phone')} type="tel" optional value={form.phone} onChange={set('phone')} error={fe('phone')} />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="new-user-submit">
            {busy ? t('common.saving') : t('common.create')}
          </button>
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

interface EditProps {
  id: number;
  roles: Role[];
  fields: ApiField[];
  roleName: (code: string) => string;
  onClose: () => void;
  onChanged: () => void;
}

function EditUserDialog({ id, roles, fields, roleName, onClose, onChanged }: EditProps) {
  const { t, locale } = useApp();
  const user = useAsync((s) => api.get<User>(`/api/users/${id}`, undefined, s), [id]);
  return (
    <Dialog
      open
      wide
      title={t('users.edit', { name: user.data?.display_name ?? '' })}
      onClose={onClose}
      testId="user-edit-dialog"
    >
      {user.error ? <ErrorBox error={user.error} /> : null}
      {!user.data ? (
        <Spinner />
      ) : (
        <div className="stack">
          <p className="muted">
            <code>{user.data.username}</code> · {user.data.home_unit?.name} ·{' '}
            {t('users.lastLogin')}: {formatDateTime(user.data.last_login_at, locale) || t('common.none')}
          </p>
          <UserDetailsForm
            key={`d${user.data.id}`}
            user={user.data}
            onSaved={() => {
              user.reload();
              onChanged();
            }}
          />
          <GrantsEditor
            user={user.data}
            roles={roles}
            fields={fields}
            roleName={roleName}
            onChanged={() => {
              user.reload();
              onChanged();
            }}
          />
          <ResetPasswordForm userId={user.data.id} />
        </div>
      )}
    </Dialog>
  );
}

function UserDetailsForm({ user, onSaved }: { user: User; onSaved: () => void }) {
  const { t } = useApp();
  const [form, setForm] = useState({
    display_name: user.display_name,
    email: user.email ?? '',
    phone: user.phone ?? '',
    active: user.active,
  });
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await api.patch<User>(`/api/users/${user.id}`, {
        display_name: form.display_name.trim(),
        email: form.email.trim() || null,
        phone: form.phone.trim() || null,
        active: form.active,
      });
      setDone(true);
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fe = (f: string) => fieldError(error, f);
  return (
    <form className="form form-grid" onSubmit={submit} data-testid="user-details-form">
      <ErrorBox error={error} fields={['display_name', 'email', 'phone', 'active']} />
      <InputField label={t('users.displayName')} required value={form.display_name} onChange={(e) => setForm({ ...form, display_name: e.target.value })} error={fe('display_name')} />
      <InputField label={t('users.email')} type="email" optional value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} error={fe('email')} />
      <InputField label={t('users.phone')} type="tel" optional value={form.phone} onChange={(e) => setForm({ ...form, phone: e.target.value })} error={fe('phone')} />
      <label className="checkbox">
        <input type="checkbox" checked={form.active} onChange={(e) => setForm({ ...form, active: e.target.checked })} data-testid="user-active" />
        {t('users.active')}
      </label>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? t('common.saving') : t('common.save')}
        </button>
        {done && <span className="ok-text" role="status">{t('common.saved')}</span>}
      </div>
    </form>
  );
}

function GrantsEditor({
  user,
  roles,
  fields,
  roleName,
  onChanged,
}: {
  user: User;
  roles: Role[];
  fields: ApiField[];
  roleName: (code: string) => string;
  onChanged: () => void;
}) {
  const { t, locale } = useApp();
  const [role, setRole] = useState('');
  const [unit, setUnit] = useState<UnitRef | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post<Grant>(`/api/users/${user.id}/grants`, { role, unit_id: unit?.id, fields: chosen });
      setRole('');
      setUnit(null);
      setChosen([]);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (g: Grant) => {
    setError(null);
    try {
      await api.del(`/api/users/${user.id}/grants/${g.id}`);
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  const fieldName = (code: string) => {
    const f = fields.find((x) => x.code === code);
    return f ? (locale === 'vi' ? f.name_vi : f.name_en) : code;
  };
  const fe = (f: string) => fieldError(error, f);

  return (
    <section className="subsection" aria-labelledby="grants-h">
      <h3 id="grants-h">{t('users.grants')}</h3>
      {user.grants.length === 0 ? (
        <p className="muted">{t('users.noGrants')}</p>
      ) : (
        <ul className="grant-list" data-testid="user-grants">
          {user.grants.map((g) => (
            <li key={g.id} data-testid="user-grant">
              <span className="badge">{roleName(g.role)}</span>
              <span>
                {g.unit.name} <span className="muted small">{g.unit.code}</span>
              </span>
              {g.fields.length > 0 && <span className="muted small">{g.fields.map(fieldName).join(', ')}</span>}
              <button
                type="button"
                className="btn btn-small btn-danger"
                onClick={() => void remove(g)}
                aria-label={t('users.removeGrant', { role: roleName(g.role), unit: g.unit.name })}
                data-testid="grant-remove"
              >
                {t('common.remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="form form-grid" onSubmit={add} data-testid="grant-add-form">
        <ErrorBox error={error} fields={['role', 'unit_id', 'fields']} />
        <SelectField label={t('users.role')} required value={role} onChange={(e) => setRole(e.target.value)} error={fe('role')} data-testid="grant-role">
          <option value="" disabled>
            —
          </option>
          {roles.map((r) => (
            <option key={r.role} value={r.role}>
              {roleName(r.role)}
            </option>
          ))}
        </SelectField>
        <UnitPicker label={t('users.unit')} value={unit} onChange={setUnit} error={fe('unit_id')} testId="grant-unit" required />
        {fields.length > 0 && (
          <fieldset className="field checkbox-group">
            <legend>
              {t('users.fields')} <span className="muted">{t('common.optional')}</span>
            </legend>
            {fields.map((f) => (
              <label key={f.code} className="checkbox">
                <input
                  type="checkbox"
                  checked={chosen.includes(f.code)}
                  onChange={(e) =>
                    setChosen((c) => (e.target.checked ? [...c, f.code] : c.filter((x) => x !== f.code)))
                  }
                />
                {locale === 'vi' ? f.name_vi : f.name_en}
              </label>
            ))}
            {fe('fields') && <p className="field-error">{fe('fields')}</p>}
          </fieldset>
        )}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy || !role || !unit} data-testid="grant-add">
            {t('users.addGrant')}
          </button>
        </div>
      </form>
    </section>
  );
}

function ResetPasswordForm({ userId }: { userId: number }) {
  const { t } = useApp();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    try {
      await api.post(`/api/users/${userId}/reset-password`, { password });
      setPassword('');
      setDone(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="subsection" aria-labelledby="reset-h">
      <h3 id="reset-h">{t('users.resetPassword')}</h3>
      <form className="form form-inline" onSubmit={submit} data-testid="reset-password-form">
        <ErrorBox error={error} fields={['password']} />
        <InputField
          label={t('users.newPassword')}
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldError(error, 'password')}
        />
        <button type="submit" className="btn">
          {t('users.resetPassword')}
        </button>
      </form>
      {done && <Notice>{t('users.passwordReset')}</Notice>}
    </section>
  );
}
