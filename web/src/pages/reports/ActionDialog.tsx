import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { uploadForm, type Attachment, type ReportDetail } from '../../api/reports';
import type { UnitRef, UserRef } from '../../api/types';
import { useApp } from '../../app/AppContext';
import { Dialog } from '../../components/Dialog';
import { ErrorBox, InputField, SelectField, TextareaField, fieldError } from '../../components/Forms';
import { UnitPicker, UserPicker } from '../../components/Pickers';
import { ProgressBar, categoryLabel } from '../../components/ReportBits';
import { IMAGE_TYPES, VIDEO_TYPES } from '../../lib/reports';
import { useCategories } from './common';

/** Actions whose note is required by the contract. */
const NOTE_REQUIRED = new Set(['reject', 'transfer', 'return', 'update', 'send_back', 'reopen']);
/** Actions with no note field at all. */
const NO_NOTE = new Set(['resolve', 'approve', 'publish']);

interface Props {
  report: ReportDetail;
  action: string | null;
  onClose: () => void;
  onDone: (r: ReportDetail) => void;
  /** For `merge`: the report to merge into (from the duplicates list). */
  mergeInto?: number | null;
}

/** One dialog per action, with that action's fields (docs/reports-api.md, "Actions"). */
export function ActionDialog({ report, action, onClose, onDone, mergeInto }: Props) {
  const { td } = useApp();
  return (
    <Dialog open={action !== null} title={action ? td(`reportAction.${action}`, action) : ''} onClose={onClose} testId="action-dialog">
      {action && <ActionForm key={action + (mergeInto ?? '')} report={report} action={action} onDone={onDone} mergeInto={mergeInto ?? null} />}
    </Dialog>
  );
}

function ActionForm({ report, action, onDone, mergeInto }: { report: ReportDetail; action: string; onDone: (r: ReportDetail) => void; mergeInto: number | null }) {
  const { t, td, locale } = useApp();
  const cats = useCategories();
  const [note, setNote] = useState('');
  const [categoryId, setCategoryId] = useState(String(report.category.id));
  const [urgent, setUrgent] = useState(report.urgent);
  const [reason, setReason] = useState(action === 'return' ? 'wrong_unit' : 'spam');
  const [into, setInto] = useState(mergeInto ? String(mergeInto) : '');
  const [unit, setUnit] = useState<UnitRef | null>(action === 'transfer' ? null : report.commune);
  const [user, setUser] = useState<UserRef | null>(null);
  const [coordinators, setCoordinators] = useState<UnitRef[]>([]);
  const [addCoord, setAddCoord] = useState<UnitRef | null>(null);
  const [isPublic, setIsPublic] = useState(false);
  const [result, setResult] = useState(report.result ?? '');
  const [files, setFiles] = useState<File[]>([]);
  const [publicResult, setPublicResult] = useState(report.public_result ?? report.result ?? '');
  const [publish, setPublish] = useState(true);
  const [published, setPublished] = useState<Set<number>>(() => new Set(report.attachments.filter((a) => a.purpose === 'result').map((a) => a.id)));
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const fe = (f: string) => fieldError(error, f);

  const body = async (): Promise<Record<string, unknown>> => {
    const n = note.trim() || undefined;
    switch (action) {
      case 'verify':
        return { category_id: Number(categoryId), urgent, note: n };
      case 'reject':
        return { reason, note: note.trim() };
      case 'return':
        return { reason, note: note.trim() };
      case 'merge':
        return { into: Number(into), note: n };
      case 'assign':
      case 'transfer':
        return { unit_id: unit?.id, user_id: user?.id, coordinators: coordinators.map((c) => c.id), note: n };
      case 'accept':
        return { note: n };
      case 'update':
        return { note: note.trim(), public: isPublic };
      case 'resolve': {
        const ids: number[] = [];
        for (let i = 0; i < files.length; i++) {
          const form = new FormData();
          form.append('purpose', 'result');
          form.append('file', files[i]!, files[i]!.name);
          const a = await uploadForm<Attachment>(`/api/reports/${report.id}/attachments`, form, (f) => setProgress((i + f) / files.length));
          ids.push(a.id);
        }
        setProgress(null);
        return { result: result.trim(), attachment_ids: ids };
      }
      case 'approve':
        return { public_result: publicResult.trim(), publish, publish_attachment_ids: [...published] };
      default:
        return { note: n };
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const b = await body();
      const r = await api.post<ReportDetail>(`/api/reports/${report.id}/actions`, { action, ...b });
      onDone(r);
    } catch (err) {
      setError(err);
      setProgress(null);
    } finally {
      setBusy(false);
    }
  };

  const needsUnit = action === 'assign' || action === 'transfer';
  const invalid =
    (NOTE_REQUIRED.has(action) && !note.trim()) ||
    (needsUnit && !unit) ||
    (action === 'merge' && !(Number(into) > 0)) ||
    (action === 'resolve' && !result.trim()) ||
    (action === 'approve' && !publicResult.trim());

  return (
    <form className="form" onSubmit={submit} data-testid={`action-form-${action}`}>
      {action === 'verify' && (
        <>
          <SelectField label={t('reports.category')} value={categoryId} onChange={(e) => setCategoryId(e.target.value)} error={fe('category_id')}>
            {!cats.data?.some((c) => c.id === report.category.id) && <option value={report.category.id}>{categoryLabel(report.category, locale)}</option>}
            {(cats.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {(c.parent_id ? '— ' : '') + categoryLabel(c, locale)}
              </option>
            ))}
          </SelectField>
          <label className="checkbox">
            <input type="checkbox" checked={urgent} onChange={(e) => setUrgent(e.target.checked)} />
            {t('reports.urgent')}
          </label>
        </>
      )}
      {(action === 'reject' || action === 'return') && (
        <SelectField label={t('actions.reason')} value={reason} onChange={(e) => setReason(e.target.value)} error={fe('reason')} data-testid="action-reason">
          {(action === 'reject' ? ['spam', 'duplicate', 'out_of_scope'] : ['wrong_unit', 'beyond_authority']).map((r) => (
            <option key={r} value={r}>
              {td(`reportReason.${r}`, r)}
            </option>
          ))}
        </SelectField>
      )}
      {action === 'merge' && (
        <InputField label={t('actions.mergeInto')} type="number" min={1} required value={into} onChange={(e) => setInto(e.target.value)} error={fe('into')} hint={t('actions.mergeHint')} />
      )}
      {needsUnit && (
        <>
          <UnitPicker label={t('actions.unit')} value={unit} onChange={setUnit} required error={fe('unit_id')} testId="action-unit" />
          <UserPicker label={t('actions.person')} value={user} onChange={setUser} error={fe('user_id')} testId="action-user" />
          <div className="field">
            <span className="label">{t('actions.coordinators')}</span>
            {coordinators.length > 0 && (
              <ul className="chips" data-testid="action-coordinators">
                {coordinators.map((c) => (
                  <li key={c.id} className="chip">
                    {c.name}{' '}
                    <button type="button" className="linklike" aria-label={t('actions.removeCoordinator', { name: c.name })} onClick={() => setCoordinators(coordinators.filter((x) => x.id !== c.id))}>
                      ×
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <UnitPicker
              label={t('actions.addCoordinator')}
              value={addCoord}
              onChange={(u) => {
                if (u && !coordinators.some((c) => c.id === u.id) && u.id !== unit?.id) setCoordinators([...coordinators, u]);
                setAddCoord(null);
              }}
              testId="action-coordinator"
            />
          </div>
        </>
      )}
      {action === 'resolve' && (
        <>
          <TextareaField label={t('actions.result')} required rows={4} value={result} onChange={(e) => setResult(e.target.value)} error={fe('result')} data-testid="action-result" />
          <div className="field">
            <label htmlFor="result-files">{t('actions.resultPhotos')}</label>
            <input
              id="result-files"
              type="file"
              accept={[...IMAGE_TYPES, ...VIDEO_TYPES].join(',')}
              multiple
              onChange={(e) => setFiles(Array.from(e.target.files ?? []).slice(0, 5))}
              data-testid="action-files"
            />
            {files.length > 0 && <p className="hint">{files.map((f) => f.name).join(', ')}</p>}
          </div>
        </>
      )}
      {action === 'approve' && (
        <>
          {report.result && (
            <div className="field">
              <span className="label">{t('actions.unitResult')}</span>
              <p className="quote">{report.result}</p>
            </div>
          )}
          <TextareaField label={t('actions.publicResult')} hint={t('actions.publicResultHint')} required rows={4} value={publicResult} onChange={(e) => setPublicResult(e.target.value)} error={fe('public_result')} data-testid="action-public-result" />
          <label className="checkbox">
            <input type="checkbox" checked={publish} onChange={(e) => setPublish(e.target.checked)} data-testid="action-publish" />
            {t('actions.publishNow')}
          </label>
          {report.attachments.length > 0 && (
            <fieldset className="field checkbox-group">
              <legend>{t('actions.publishPhotos')}</legend>
              <ul className="photo-pick">
                {report.attachments.map((a) => (
                  <li key={a.id}>
                    <label className="checkbox">
                      <input
                        type="checkbox"
                        checked={published.has(a.id)}
                        onChange={(e) =>
                          setPublished((s) => {
                            const n = new Set(s);
                            if (e.target.checked) n.add(a.id);
                            else n.delete(a.id);
                            return n;
                          })
                        }
                        data-testid="action-publish-photo"
                      />
                      {a.kind === 'image' && <img src={a.thumb_url ?? a.url} alt="" className="pick-thumb" />}
                      {td(`attachmentPurpose.${a.purpose}`, a.purpose)} #{a.id}
                    </label>
                  </li>
                ))}
              </ul>
            </fieldset>
          )}
        </>
      )}
      {action === 'update' && (
        <label className="checkbox">
          <input type="checkbox" checked={isPublic} onChange={(e) => setIsPublic(e.target.checked)} />
          {t('actions.publicNote')}
        </label>
      )}
      {action === 'publish' && <p>{t('actions.publishConfirm')}</p>}
      {!NO_NOTE.has(action) && (
        <TextareaField
          label={t('actions.note')}
          optional={!NOTE_REQUIRED.has(action)}
          required={NOTE_REQUIRED.has(action)}
          rows={3}
          value={note}
          onChange={(e) => setNote(e.target.value)}
          error={fe('note')}
          data-testid="action-note"
        />
      )}
      {progress !== null && <ProgressBar fraction={progress} label={t('actions.uploading')} />}
      <ErrorBox error={error} fields={['note', 'reason', 'into', 'unit_id', 'user_id', 'result', 'public_result', 'category_id']} />
      <button type="submit" className={`btn ${action === 'reject' || action === 'return' ? 'btn-danger' : 'btn-primary'}`} disabled={busy || invalid} data-testid="action-submit">
        {td(`reportAction.${action}`, action)}
      </button>
    </form>
  );
}
