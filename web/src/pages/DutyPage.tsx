import { useMemo, useState, type FormEvent } from 'react';
import { api, asPage } from '../api/client';
import type { Page, Shift, UnitRef, UserRef } from '../api/types';
import { useApp } from '../app/AppContext';
import { useAsync, useLiveTopic } from '../app/hooks';
import { DataTable, type Column } from '../components/DataTable';
import { ErrorBox, InputField, Spinner, TextareaField, fieldError } from '../components/Forms';
import { UnitPicker, UserPicker } from '../components/Pickers';
import { addDays, formatDate, formatDateTime, formatTime, formatWeekday, startOfVnWeek, utcToVnInput, vnDayKey, vnInputToUtc } from '../lib/time';
import { OnDutyList } from './HomePage';

function isNow(s: Shift, now: number): boolean {
  return new Date(s.starts_at).getTime() <= now && now < new Date(s.ends_at).getTime();
}

export function DutyPage() {
  const { t, locale, me, can } = useApp();
  const canWrite = can('duty.write');
  const [weekStart, setWeekStart] = useState(() => startOfVnWeek(new Date()));
  const [view, setView] = useState<'week' | 'list'>('week');
  const weekEnd = addDays(weekStart, 7);
  const shifts = useAsync(
    async (signal) =>
      asPage(
        await api.get<Shift[] | Page<Shift>>(
          '/api/duty/shifts',
          { from: weekStart.toISOString(), to: weekEnd.toISOString() },
          signal,
        ),
      ).items,
    [weekStart.getTime()],
  );
  useLiveTopic('duty', () => shifts.reload());

  const [now] = useState(() => Date.now());
  const days = useMemo(() => Array.from({ length: 7 }, (_, i) => addDays(weekStart, i)), [weekStart]);
  const byDay = useMemo(() => {
    const m = new Map<string, Shift[]>();
    for (const s of shifts.data ?? []) {
      const k = vnDayKey(s.starts_at);
      m.set(k, [...(m.get(k) ?? []), s]);
    }
    for (const list of m.values()) list.sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    return m;
  }, [shifts.data]);

  const [editingNote, setEditingNote] = useState<Shift | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const del = async (s: Shift) => {
    if (!window.confirm(t('common.confirmDelete'))) return;
    setActionError(null);
    try {
      await api.del(`/api/duty/shifts/${s.id}`);
      shifts.reload();
    } catch (e) {
      setActionError(e);
    }
  };

  const columns: Column<Shift>[] = [
    { key: 'starts_at', label: t('duty.start'), value: (s) => s.starts_at, render: (s) => formatDateTime(s.starts_at, locale) },
    { key: 'ends_at', label: t('duty.end'), value: (s) => s.ends_at, render: (s) => formatDateTime(s.ends_at, locale) },
    { key: 'user', label: t('duty.user'), value: (s) => s.user.display_name },
    { key: 'unit', label: t('duty.unit'), value: (s) => s.unit.name },
    { key: 'note', label: t('duty.note'), value: (s) => s.handover_note ?? '' },
    {
      key: 'actions',
      label: t('common.actions'),
      value: () => '',
      sortable: false,
      noExport: true,
      render: (s) => (canWrite ? <ShiftActions shift={s} onNote={setEditingNote} onDelete={del} /> : null),
    },
  ];

  const thisWeek = startOfVnWeek(new Date()).getTime() === weekStart.getTime();

  return (
    <div className="page" data-testid="duty-page">
      <div className="page-head">
        <h1>{t('duty.title')}</h1>
      </div>
      <div className="duty-layout">
        <div className="duty-main">
          <div className="card">
            <div className="toolbar">
              <button type="button" className="btn btn-small" onClick={() => setWeekStart(addDays(weekStart, -7))} data-testid="duty-prev">
                ‹ {t('duty.prevWeek')}
              </button>
              <strong data-testid="duty-week">
                {t('duty.week', { from: formatDate(weekStart, locale), to: formatDate(addDays(weekEnd, -1), locale) })}
              </strong>
              <button type="button" className="btn btn-small" onClick={() => setWeekStart(addDays(weekStart, 7))} data-testid="duty-next">
                {t('duty.nextWeek')} ›
              </button>
              {!thisWeek && (
                <button type="button" className="btn btn-small btn-ghost" onClick={() => setWeekStart(startOfVnWeek(new Date()))}>
                  {t('duty.thisWeek')}
                </button>
              )}
              <span className="spacer" />
              <div className="segmented" role="group">
                <button type="button" aria-pressed={view === 'week'} className={view === 'week' ? 'on' : undefined} onClick={() => setView('week')} data-testid="duty-view-week">
                  {t('duty.viewWeek')}
                </button>
                <button type="button" aria-pressed={view === 'list'} className={view === 'list' ? 'on' : undefined} onClick={() => setView('list')} data-testid="duty-view-list">
                  {t('duty.viewList')}
                </button>
              </div>
            </div>
            <p className="hint">{t('duty.timesHint')}</p>
            <ErrorBox error={shifts.error ?? actionError} />
            {shifts.loading && !shifts.data ? (
              <Spinner />
            ) : view === 'week' ? (
              <div className="week" data-testid="duty-week-grid">
                {days.map((day) => {
                  const key = vnDayKey(day);
                  const list = byDay.get(key) ?? [];
                  const today = key === vnDayKey(new Date());
                  return (
                    <section key={key} className={`week-day${today ? ' today' : ''}`} aria-label={formatWeekday(day, locale)}>
                      <h3 className="week-day-title">{formatWeekday(day, locale)}</h3>
                      {list.length === 0 ? (
                        <p className="muted small">{t('common.none')}</p>
                      ) : (
                        <ul className="shift-list">
                          {list.map((s) => (
                            <li key={s.id} className={`shift${isNow(s, now) ? ' shift-now' : ''}${s.user.id === me?.id ? ' shift-mine' : ''}`} data-testid="duty-shift">
                              <div className="shift-time">
                                {formatTime(s.starts_at, locale)}–{formatTime(s.ends_at, locale)}
                                {vnDayKey(s.ends_at) !== key && <span className="muted small"> ({formatDate(s.ends_at, locale)})</span>}
                                {isNow(s, now) && <span className="badge badge-live">{t('duty.now')}</span>}
                              </div>
                              <div className="shift-user">{s.user.display_name}</div>
                              <div className="small muted">{s.unit.name}</div>
                              {s.handover_note && <p className="small note">{s.handover_note}</p>}
                              {canWrite && <ShiftActions shift={s} onNote={setEditingNote} onDelete={del} compact />}
                            </li>
                          ))}
                        </ul>
                      )}
                    </section>
                  );
                })}
              </div>
            ) : (
              <DataTable
                columns={columns}
                rows={shifts.data ?? []}
                rowKey={(s) => s.id}
                exportName="lich-truc"
                testId="duty-table"
                initialSort={{ key: 'starts_at', dir: 'asc' }}
                empty={t('duty.noShifts')}
              />
            )}
            {view === 'week' && shifts.data?.length === 0 && <p className="empty">{t('duty.noShifts')}</p>}
          </div>
        </div>
        <aside className="duty-side">
          <section className="card" aria-labelledby="duty-now-h">
            <h2 id="duty-now-h" className="card-title">
              {t('duty.onDutyNow')}
            </h2>
            <OnDutyList testId="duty-on-duty" />
          </section>
          {canWrite && <AddShiftForm defaultStart={weekStart} onAdded={() => shifts.reload()} />}
        </aside>
      </div>
      {editingNote && (
        <NoteEditor
          shift={editingNote}
          onClose={() => setEditingNote(null)}
          onSaved={() => {
            setEditingNote(null);
            shifts.reload();
          }}
        />
      )}
    </div>
  );
}

function ShiftActions({
  shift,
  onNote,
  onDelete,
  compact,
}: {
  shift: Shift;
  onNote: (s: Shift) => void;
  onDelete: (s: Shift) => void;
  compact?: boolean;
}) {
  const { t } = useApp();
  return (
    <div className="row-actions">
      <button
        type="button"
        className="btn btn-small btn-ghost"
        onClick={() => onNote(shift)}
        aria-label={t('duty.editNote')}
        title={t('duty.editNote')}
        data-testid="duty-edit-note"
      >
        {compact ? t('duty.note') : t('duty.editNote')}
      </button>
      <button type="button" className="btn btn-small btn-ghost btn-danger" onClick={() => onDelete(shift)} aria-label={t('duty.deleteShift')}>
        {t('common.delete')}
      </button>
    </div>
  );
}

function NoteEditor({ shift, onClose, onSaved }: { shift: Shift; onClose: () => void; onSaved: () => void }) {
  const { t, locale } = useApp();
  const [note, setNote] = useState(shift.handover_note ?? '');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.patch(`/api/duty/shifts/${shift.id}`, { handover_note: note });
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div className="card note-editor" role="region" aria-label={t('duty.editNote')}>
      <h2 className="card-title">{t('duty.editNote')}</h2>
      <p className="muted small">
        {shift.user.display_name} · {shift.unit.name} · {formatDateTime(shift.starts_at, locale)} – {formatDateTime(shift.ends_at, locale)}
      </p>
      <form className="form" onSubmit={submit}>
        <ErrorBox error={error} fields={['handover_note']} />
        <TextareaField label={t('duty.note')} rows={4} value={note} onChange={(e) => setNote(e.target.value)} error={fieldError(error, 'handover_note')} data-testid="duty-note-input" />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" data-testid="duty-note-save">
            {t('common.save')}
          </button>
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </div>
  );
}

function AddShiftForm({ defaultStart, onAdded }: { defaultStart: Date; onAdded: () => void }) {
  const { t, me } = useApp();
  const [user, setUser] = useState<UserRef | null>(null);
  const [unit, setUnit] = useState<UnitRef | null>(me?.home_unit ?? null);
  const [base] = useState(() => utcToVnInput(new Date(Math.max(defaultStart.getTime(), Date.now()))));
  const [start, setStart] = useState(() => base.slice(0, 11) + '07:30');
  const [end, setEnd] = useState(() => base.slice(0, 11) + '17:00');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post<Shift>('/api/duty/shifts', {
        user_id: user?.id,
        unit_id: unit?.id,
        starts_at: vnInputToUtc(start),
        ends_at: vnInputToUtc(end),
      });
      setUser(null);
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fe = (f: string) => fieldError(error, f);
  return (
    <section className="card" aria-labelledby="duty-add-h">
      <h2 id="duty-add-h" className="card-title">
        {t('duty.addShift')}
      </h2>
      <form className="form" onSubmit={submit} data-testid="duty-add-form">
        <ErrorBox error={error} fields={['user_id', 'unit_id', 'starts_at', 'ends_at']} />
        <UserPicker label={t('duty.user')} value={user} onChange={setUser} error={fe('user_id')} testId="duty-user" required />
        <UnitPicker label={t('duty.unit')} value={unit} onChange={setUnit} error={fe('unit_id')} testId="duty-unit" required />
        <InputField label={t('duty.start')} type="datetime-local" required value={start} onChange={(e) => setStart(e.target.value)} error={fe('starts_at')} hint={t('duty.timesHint')} data-testid="duty-start" />
        <InputField label={t('duty.end')} type="datetime-local" required value={end} onChange={(e) => setEnd(e.target.value)} error={fe('ends_at')} data-testid="duty-end" />
        <button type="submit" className="btn btn-primary" disabled={busy || !user || !unit} data-testid="duty-add">
          {t('duty.addShift')}
        </button>
      </form>
    </section>
  );
}
