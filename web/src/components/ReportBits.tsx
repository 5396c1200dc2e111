// Small pieces shared by the public and staff report pages.
import { useEffect, useState } from 'react';
import type { Attribute, Category, Deadline, ReportStatus } from '../api/reports';
import type { Locale } from '../api/types';
import { useApp } from '../app/AppContext';
import {
  STEPS,
  categoryLook,
  categoryTree,
  countdown,
  deadlineTone,
  formatDuration,
  stepIndex,
  statusTone,
} from '../lib/reports';
import { formatDateTime } from '../lib/time';
import { Dialog } from './Dialog';
import { Field } from './Forms';
import { Icon } from './Icons';

/** The current time, updated every `ms`. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(h);
  }, [ms]);
  return now;
}

export function StatusBadge({ status, testId = 'report-status' }: { status: ReportStatus; testId?: string }) {
  const { td } = useApp();
  return (
    <span className={`badge status-tone-${statusTone(status)}`} data-testid={testId} data-status={status}>
      {td(`reportStatus.${status}`, status)}
    </span>
  );
}

export function UrgentBadge() {
  const { t } = useApp();
  return (
    <span className="badge badge-urgent" data-testid="urgent-badge">
      {t('reports.urgent')}
    </span>
  );
}

/** Deadline state with its colour and the time left (or overdue by). */
export function DeadlineBadge({ deadline, now, long = false }: { deadline: Deadline | null; now: number; long?: boolean }) {
  const { t, td, locale } = useApp();
  if (!deadline) return <span className="muted">{t('common.none')}</span>;
  const tone = deadlineTone(deadline.state);
  const c = countdown(deadline.due_at, now);
  const left = formatDuration(c, locale);
  const live = deadline.state !== 'met' && deadline.state !== 'missed';
  return (
    <span className={`deadline deadline-${tone}`} data-testid="deadline" data-state={deadline.state} title={formatDateTime(deadline.due_at, locale)}>
      <span className="deadline-dot" aria-hidden="true" />
      <span>
        {td(`deadline.${deadline.state}`, deadline.state)}
        {live && <> · {c.overdue ? t('reports.overdueBy', { time: left }) : t('reports.timeLeft', { time: left })}</>}
        {long && (
          <span className="muted small deadline-due">
            {' '}
            {t('reports.dueAt', { time: formatDateTime(deadline.due_at, locale) })}
            {' · '}
            {t(deadline.clocking === 'working' ? 'reports.clockWorking' : 'reports.clockWall')}
          </span>
        )}
      </span>
    </span>
  );
}

/** The citizen's progress: received → … → closed, or a final rejected/merged note. */
export function Stepper({ status }: { status: ReportStatus }) {
  const { t, td } = useApp();
  const at = stepIndex(status);
  if (at < 0) {
    return (
      <div className="alert alert-warn" data-testid="stepper" data-status={status}>
        <strong>{td(`reportStatus.${status}`, status)}</strong>
      </div>
    );
  }
  return (
    <ol className="stepper" data-testid="stepper" data-status={status} aria-label={t('track.progress')}>
      {STEPS.map((s, i) => (
        <li key={s} className={i < at ? 'done' : i === at ? 'current' : 'todo'} aria-current={i === at ? 'step' : undefined}>
          <span className="step-dot" aria-hidden="true">
            {i < at ? '✓' : i + 1}
          </span>
          <span className="step-label">{td(`reportStatus.${s}`, s)}</span>
        </li>
      ))}
    </ol>
  );
}

export interface Photo {
  id: number;
  url: string;
  thumb: string | null;
  label: string;
  video?: boolean;
}

/** Thumbnails; a click opens the full picture in a dialog. */
export function PhotoGrid({ photos, testId = 'photos' }: { photos: readonly Photo[]; testId?: string }) {
  const { t } = useApp();
  const [open, setOpen] = useState<Photo | null>(null);
  if (photos.length === 0) return <p className="muted small">{t('reports.noPhotos')}</p>;
  return (
    <>
      <ul className="photo-grid" data-testid={testId}>
        {photos.map((p) => (
          <li key={p.id}>
            <button type="button" className="photo-thumb" onClick={() => setOpen(p)} aria-label={t('reports.openPhoto', { name: p.label })} data-testid={`${testId}-item`}>
              {p.video ? (
                <span className="video-thumb">
                  <Icon name="play" size={28} />
                </span>
              ) : (
                <img src={p.thumb ?? p.url} alt={p.label} loading="lazy" />
              )}
            </button>
          </li>
        ))}
      </ul>
      <Dialog open={open !== null} title={open?.label ?? ''} onClose={() => setOpen(null)} testId="photo-dialog" wide>
        {open &&
          (open.video ? (
            <video src={open.url} controls className="photo-full" />
          ) : (
            <img src={open.url} alt={open.label} className="photo-full" />
          ))}
      </Dialog>
    </>
  );
}

export function categoryLabel(c: { name_vi: string; name_en: string; code: string }, locale: Locale): string {
  return (locale === 'en' ? c.name_en : c.name_vi) || c.name_vi || c.code;
}

/**
 * Pick a category: the top-level ones as large coloured tiles (radio buttons), then a
 * sub-category select when the chosen one has children.
 */
export function CategoryPicker({
  categories,
  value,
  onChange,
  error,
}: {
  categories: readonly Category[];
  value: number | null;
  onChange: (id: number | null) => void;
  error?: string;
}) {
  const { t, locale } = useApp();
  const tree = categoryTree(categories.filter((c) => c.active !== false));
  const root = tree.find((n) => n.category.id === value || n.children.some((c) => c.id === value));
  return (
    <fieldset className={`field category-picker${error ? ' field-invalid' : ''}`} data-testid="category-picker">
      <legend>{t('newReport.category')}</legend>
      <div className="category-tiles" role="radiogroup" aria-label={t('newReport.category')}>
        {tree.map((n, i) => {
          const look = categoryLook(n.category, i);
          const checked = root?.category.id === n.category.id;
          return (
            <label key={n.category.id} className={`category-tile${checked ? ' on' : ''}`} style={{ ['--cat' as string]: look.color }} data-testid={`category-${n.category.code}`}>
              <input
                type="radio"
                name="category-root"
                value={n.category.id}
                checked={checked}
                onChange={() => onChange(n.category.id)}
              />
              <span className="category-icon" aria-hidden="true">
                <Icon name={look.icon} size={26} />
              </span>
              <span className="category-name">{categoryLabel(n.category, locale)}</span>
            </label>
          );
        })}
      </div>
      {root && root.children.length > 0 && (
        <Field label={t('newReport.subcategory')} optional>
          {(id, describedBy) => (
            <select
              id={id}
              aria-describedby={describedBy}
              value={value !== null && value !== root.category.id ? value : ''}
              onChange={(e) => onChange(e.target.value ? Number(e.target.value) : root.category.id)}
              data-testid="category-sub"
            >
              <option value="">{t('newReport.subcategoryAny', { name: categoryLabel(root.category, locale) })}</option>
              {root.children.map((c) => (
                <option key={c.id} value={c.id}>
                  {categoryLabel(c, locale)}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      {root && (locale === 'en' ? root.category.description_en : root.category.description_vi) && (
        <p className="hint">{locale === 'en' ? root.category.description_en : root.category.description_vi}</p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

export type AttrValues = Record<string, string | string[]>;

/** Inputs for a category's extra attributes (Open311 service definition). */
export function AttributeFields({
  attributes,
  values,
  onChange,
  errors,
}: {
  attributes: readonly Attribute[];
  values: AttrValues;
  onChange: (v: AttrValues) => void;
  errors: Record<string, string>;
}) {
  const { locale } = useApp();
  if (!attributes.length) return null;
  const label = (a: Attribute) => (locale === 'en' ? a.label_en : a.label_vi) || a.label_vi || a.code;
  const vname = (v: { name_vi: string; name_en: string; key: string }) => (locale === 'en' ? v.name_en : v.name_vi) || v.name_vi || v.key;
  const set = (code: string, v: string | string[]) => onChange({ ...values, [code]: v });
  return (
    <div className="attribute-fields" data-testid="attribute-fields">
      {attributes.map((a) => {
        const err = errors[`attributes.${a.code}`] ?? errors[a.code];
        const cur = values[a.code];
        if (a.datatype === 'multivaluelist') {
          const list = Array.isArray(cur) ? cur : [];
          return (
            <fieldset key={a.code} className="field checkbox-group">
              <legend>{label(a)}</legend>
              {a.values.map((v) => (
                <label key={v.key} className="checkbox">
                  <input
                    type="checkbox"
                    checked={list.includes(v.key)}
                    onChange={(e) => set(a.code, e.target.checked ? [...list, v.key] : list.filter((x) => x !== v.key))}
                  />
                  {vname(v)}
                </label>
              ))}
              {err && <p className="field-error">{err}</p>}
            </fieldset>
          );
        }
        return (
          <Field key={a.code} label={label(a)} optional={!a.required} error={err}>
            {(id, describedBy) => {
              const common = {
                id,
                'aria-describedby': describedBy,
                required: a.required,
                value: typeof cur === 'string' ? cur : '',
                'data-attribute': a.code,
              };
              if (a.datatype === 'singlevaluelist')
                return (
                  <select {...common} onChange={(e) => set(a.code, e.target.value)}>
                    <option value="">—</option>
                    {a.values.map((v) => (
                      <option key={v.key} value={v.key}>
                        {vname(v)}
                      </option>
                    ))}
                  </select>
                );
              if (a.datatype === 'text') return <textarea {...common} rows={3} onChange={(e) => set(a.code, e.target.value)} />;
              return (
                <input
                  {...common}
                  type={a.datatype === 'number' ? 'number' : a.datatype === 'datetime' ? 'datetime-local' : 'text'}
                  onChange={(e) => set(a.code, e.target.value)}
                />
              );
            }}
          </Field>
        );
      })}
    </div>
  );
}

/** Attribute values for sending: empty ones left out. */
export function cleanAttributes(v: AttrValues): AttrValues | undefined {
  const out: AttrValues = {};
  for (const [k, x] of Object.entries(v)) {
    if (Array.isArray(x) ? x.length : x.trim()) out[k] = x;
  }
  return Object.keys(out).length ? out : undefined;
}

/** A horizontal progress bar with its percentage. */
export function ProgressBar({ fraction, label }: { fraction: number; label: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  return (
    <div className="progress" data-testid="upload-progress">
      <progress max={100} value={pct} aria-label={label} />
      <span className="small">
        {label} {pct}%
      </span>
    </div>
  );
}
