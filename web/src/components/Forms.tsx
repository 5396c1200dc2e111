import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { ApiError, NetworkError } from '../api/client';
import { useApp } from '../app/AppContext';
import type { MessageKey } from '../i18n/lookup';

const SLUG_MESSAGES: Record<string, MessageKey> = {
  forbidden: 'error.forbidden',
  'not-found': 'error.notFound',
  conflict: 'error.conflict',
  validation: 'error.validation',
  'malformed-json': 'error.validation',
  csrf: 'error.csrf',
  internal: 'error.internal',
  'rate-limited': 'login.errorRateLimited',
  locked: 'login.errorLocked',
};

/** Reason the server gave for `field`, from an ApiError (or undefined). */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.fieldError(field) : undefined;
}

interface ErrorBoxProps {
  error: unknown;
  /** Fields shown next to their inputs; their errors are not repeated here. */
  fields?: readonly string[];
  testId?: string;
}

/** A problem-details error: a localised headline, the server's detail, field errors not shown
 * elsewhere, and the request id. */
export function ErrorBox({ error, fields = [], testId = 'error' }: ErrorBoxProps) {
  const { t } = useApp();
  if (!error) return null;
  if (error instanceof DOMException && error.name === 'AbortError') return null;
  let headline: string;
  let detail: string | undefined;
  let others: { field: string; reason: string }[] = [];
  let requestId: string | undefined;
  if (error instanceof ApiError) {
    const key = SLUG_MESSAGES[error.slug];
    headline = key ? t(key) : error.problem.title || t('error.title');
    detail = error.problem.detail && error.problem.detail !== headline ? error.problem.detail : undefined;
    others = (error.problem.errors ?? []).filter((e) => !fields.includes(e.field));
    requestId = error.problem.request_id;
  } else if (error instanceof NetworkError) {
    headline = t('error.network');
  } else {
    headline = t('error.title');
    detail = error instanceof Error ? error.message : String(error);
  }
  return (
    <div className="alert alert-error" role="alert" data-testid={testId}>
      <strong>{headline}</strong>
      {detail && <p>{detail}</p>}
      {others.length > 0 && (
        <ul>
          {others.map((e) => (
            <li key={e.field + e.reason}>
              <code>{e.field}</code>: {e.reason}
            </li>
          ))}
        </ul>
      )}
      {requestId && <p className="muted small">{t('error.requestId', { id: requestId })}</p>}
    </div>
  );
}

interface FieldProps {
  label: ReactNode;
  error?: string;
  hint?: ReactNode;
  optional?: boolean;
  children: (id: string, describedBy: string | undefined) => ReactNode;
  className?: string;
}

/** Label + control + hint + error, wired with ids for assistive technology. */
export function Field({ label, error, hint, optional, children, className }: FieldProps) {
  const { t } = useApp();
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = error ? `${id}-err` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-invalid' : ''}${className ? ' ' + className : ''}`}>
      <label htmlFor={id}>
        {label}
        {optional && <span className="muted"> {t('common.optional')}</span>}
      </label>
      {children(id, describedBy)}
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={errId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

type InputFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> & {
  label: ReactNode;
  error?: string;
  hint?: ReactNode;
  optional?: boolean;
  fieldClassName?: string;
};

export function InputField({ label, error, hint, optional, fieldClassName, ...input }: InputFieldProps) {
  return (
    <Field label={label} error={error} hint={hint} optional={optional} className={fieldClassName}>
      {(id, describedBy) => (
        <input id={id} aria-describedby={describedBy} aria-invalid={error ? true : undefined} {...input} />
      )}
    </Field>
  );
}

type SelectFieldProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id'> & {
  label: ReactNode;
  error?: string;
  hint?: ReactNode;
  optional?: boolean;
  fieldClassName?: string;
};

export function SelectField({ label, error, hint, optional, children, fieldClassName, ...select }: SelectFieldProps) {
  return (
    <Field label={label} error={error} hint={hint} optional={optional} className={fieldClassName}>
      {(id, describedBy) => (
        <select id={id} aria-describedby={describedBy} aria-invalid={error ? true : undefined} {...select}>
          {children}
        </select>
      )}
    </Field>
  );
}

type TextareaFieldProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id'> & {
  label: ReactNode;
  error?: string;
  hint?: ReactNode;
  optional?: boolean;
};

export function TextareaField({ label, error, hint, optional, ...area }: TextareaFieldProps) {
  return (
    <Field label={label} error={error} hint={hint} optional={optional}>
      {(id, describedBy) => (
        <textarea id={id} aria-describedby={describedBy} aria-invalid={error ? true : undefined} {...area} />
      )}
    </Field>
  );
}

/** A status line that screen readers announce. */
export function Notice({ children, testId }: { children: ReactNode; testId?: string }) {
  if (!children) return null;
  return (
    <div className="alert alert-ok" role="status" data-testid={testId}>
      {children}
    </div>
  );
}

export function Spinner({ label }: { label?: string }) {
  const { t } = useApp();
  return (
    <span className="spinner" role="status" aria-live="polite">
      <span className="spinner-dot" aria-hidden="true" />
      {label ?? t('app.loading')}
    </span>
  );
}
