import { useEffect, useId, useState } from 'react';
import { ApiError, api, asPage } from '../api/client';
import type { OrgUnit, Page, UnitRef, User, UserRef } from '../api/types';
import { useApp } from '../app/AppContext';

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = setTimeout(() => setV(value), ms);
    return () => clearTimeout(h);
  }, [value, ms]);
  return v;
}

interface PickerShellProps<T> {
  label: string;
  placeholder: string;
  value: T | null;
  onChange: (v: T | null) => void;
  describe: (v: T) => string;
  search: (q: string, signal: AbortSignal) => Promise<T[]>;
  itemKey: (v: T) => string | number;
  error?: string;
  testId: string;
  required?: boolean;
}

/** A search-as-you-type picker (combobox pattern with a listbox of results). */
function PickerShell<T>({
  label,
  placeholder,
  value,
  onChange,
  describe,
  search,
  itemKey,
  error,
  testId,
  required,
}: PickerShellProps<T>) {
  const { t } = useApp();
  const id = useId();
  const [q, setQ] = useState('');
  const [items, setItems] = useState<T[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const dq = useDebounced(q, 200);

  useEffect(() => {
    if (!open) return;
    const ctl = new AbortController();
    search(dq.trim(), ctl.signal)
      .then((r) => {
        setItems(r.slice(0, 30));
        setActive(0);
      })
      .catch(() => setItems([]));
    return () => ctl.abort();
    // `search` is recreated by parents on each render; the query is what matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dq, open]);

  const choose = (v: T) => {
    onChange(v);
    setOpen(false);
    setQ('');
  };

  if (value && !open) {
    return (
      <div className="field picker" data-testid={testId}>
        <span className="label">{label}</span>
        <div className="picker-chosen">
          <span data-testid={`${testId}-value`}>{describe(value)}</span>
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={() => {
              setOpen(true);
            }}
          >
            {t('unitPicker.change')}
          </button>
        </div>
        {error && <p className="field-error">{error}</p>}
      </div>
    );
  }

  const listId = `${id}-list`;
  return (
    <div className={`field picker${error ? ' field-invalid' : ''}`} data-testid={testId}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="search"
        role="combobox"
        aria-expanded={open && items.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        autoComplete="off"
        placeholder={placeholder}
        value={q}
        required={required && !value}
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((a) => Math.min(items.length - 1, a + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(0, a - 1));
          } else if (e.key === 'Enter' && open && items[active]) {
            e.preventDefault();
            choose(items[active]);
          } else if (e.key === 'Escape') {
            setOpen(false);
          }
        }}
        data-testid={`${testId}-input`}
      />
      {open && items.length > 0 && (
        <ul className="picker-list" role="listbox" id={listId}>
          {items.map((it, i) => (
            <li
              key={itemKey(it)}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(it);
              }}
              data-testid={`${testId}-option`}
            >
              {describe(it)}
            </li>
          ))}
        </ul>
      )}
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

interface UnitPickerProps {
  label: string;
  value: UnitRef | null;
  onChange: (u: UnitRef | null) => void;
  error?: string;
  testId?: string;
  required?: boolean;
}

/** Pick an org unit by name or code (`GET /api/org-units?q=`). */
export function UnitPicker({ label, value, onChange, error, testId = 'unit-picker', required }: UnitPickerProps) {
  const { t } = useApp();
  return (
    <PickerShell<UnitRef>
      label={label}
      placeholder={t('unitPicker.placeholder')}
      value={value}
      onChange={onChange}
      describe={(u) => `${u.name} (${u.code})`}
      itemKey={(u) => u.id}
      search={async (q, signal) => {
        const page = asPage(await api.get<Page<OrgUnit> | OrgUnit[]>('/api/org-units', { q, limit: 30 }, signal));
        return page.items.map((u) => ({ id: u.id, code: u.code, name: u.name }));
      }}
      error={error}
      testId={testId}
      required={required}
    />
  );
}

interface UserPickerProps {
  label: string;
  value: UserRef | null;
  onChange: (u: UserRef | null) => void;
  error?: string;
  testId?: string;
  required?: boolean;
}

/** Pick a user (`GET /api/users?q=`); if the caller may not list users, type a numeric id. */
export function UserPicker({ label, value, onChange, error, testId = 'user-picker', required }: UserPickerProps) {
  const { t } = useApp();
  const [forbidden, setForbidden] = useState(false);
  const id = useId();
  if (forbidden) {
    return (
      <div className="field" data-testid={testId}>
        <label htmlFor={id}>
          {label} — {t('userPicker.idFallback')}
        </label>
        <input
          id={id}
          type="number"
          min={1}
          required={required}
          value={value?.id ?? ''}
          onChange={(e) => {
            const n = Number(e.target.value);
            onChange(n > 0 ? { id: n, username: String(n), display_name: `#${n}` } : null);
          }}
        />
        {error && <p className="field-error">{error}</p>}
      </div>
    );
  }
  return (
    <PickerShell<UserRef>
      label={label}
      placeholder={t('userPicker.placeholder')}
      value={value}
      onChange={onChange}
      describe={(u) => `${u.display_name} (${u.username})`}
      itemKey={(u) => u.id}
      search={async (q, signal) => {
        try {
          const page = asPage(await api.get<Page<User> | User[]>('/api/users', { q, limit: 30 }, signal));
          return page.items.map((u) => ({ id: u.id, username: u.username, display_name: u.display_name }));
        } catch (e) {
          if (e instanceof ApiError && e.status === 403) setForbidden(true);
          throw e;
        }
      }}
      error={error}
      testId={testId}
      required={required}
    />
  );
}
