import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { api } from '../../api/client';
import {
  ATTRIBUTE_TYPES,
  type Attribute,
  type AttributeType,
  type Category,
  type Open311Client,
  type PrivacyLookup,
  type WorkCalendar,
} from '../../api/reports';
import type { Field as CoreField, UnitRef } from '../../api/types';
import { useApp } from '../../app/AppContext';
import { useAsync } from '../../app/hooks';
import { DataTable, type Column } from '../../components/DataTable';
import { Dialog } from '../../components/Dialog';
import { ErrorBox, InputField, Notice, SelectField, Spinner, TextareaField, fieldError } from '../../components/Forms';
import { UnitPicker } from '../../components/Pickers';
import { categoryLabel } from '../../components/ReportBits';
import { categoryTree, monthGrid, type GridDay } from '../../lib/reports';
import { formatDateTime } from '../../lib/time';
import { OnceSecret } from '../../components/Secret';
import { useCategories } from './common';

const TABS = ['categories', 'calendar', 'open311', 'privacy'] as const;
type Tab = (typeof TABS)[number];

/** `/reports/admin`: categories, working calendar, Open311 clients, privacy requests. */
export function AdminPage() {
  const { t } = useApp();
  const [tab, setTab] = useState<Tab>('categories');
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.indexOf(tab);
    if (e.key === 'ArrowRight') setTab(TABS[(i + 1) % TABS.length]!);
    if (e.key === 'ArrowLeft') setTab(TABS[(i + TABS.length - 1) % TABS.length]!);
  };
  return (
    <div className="page" data-testid="reports-admin-page">
      <div className="page-head">
        <h1>{t('radmin.title')}</h1>
      </div>
      <div className="tabs" role="tablist" aria-label={t('radmin.title')} onKeyDown={onKey}>
        {TABS.map((x) => (
          <button
            key={x}
            type="button"
            role="tab"
            id={`tab-${x}`}
            aria-selected={tab === x}
            aria-controls={`panel-${x}`}
            tabIndex={tab === x ? 0 : -1}
            className={tab === x ? 'on' : undefined}
            onClick={() => setTab(x)}
            data-testid={`radmin-tab-${x}`}
          >
            {t(`radmin.tab.${x}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'categories' && <CategoriesTab />}
        {tab === 'calendar' && <CalendarTab />}
        {tab === 'open311' && <Open311Tab />}
        {tab === 'privacy' && <PrivacyTab />}
      </div>
    </div>
  );
}

/* ---------- categories ---------- */

function CategoriesTab() {
  const { t, locale, td } = useApp();
  const [tick, setTick] = useState(0);
  const cats = useCategories(tick);
  const [editing, setEditing] = useState<Category | 'new' | null>(null);
  if (cats.loading && !cats.data) return <Spinner />;
  const all = cats.data ?? [];
  const tree = categoryTree(all);
  const rows = tree.flatMap((n) => [n.category, ...n.children]);
  const columns: Column<Category>[] = [
    {
      key: 'name',
      label: t('radmin.catName'),
      value: (c) => categoryLabel(c, locale),
      sortable: false,
      render: (c) => <span className={c.parent_id ? 'tree-child' : 'tree-root'}>{categoryLabel(c, locale)}</span>,
    },
    { key: 'code', label: t('radmin.catCode'), value: (c) => c.code, sortable: false },
    { key: 'rule', label: t('radmin.rule'), value: (c) => td(`ruleKind.${c.rule.kind}`, c.rule.kind), sortable: false },
    { key: 'deadline', label: t('radmin.normalHours'), value: (c) => c.normal_working_hours, sortable: false, className: 'num' },
    { key: 'urgent', label: t('radmin.urgentHours'), value: (c) => c.urgent_hours, sortable: false, className: 'num' },
    { key: 'active', label: t('radmin.active'), value: (c) => (c.active ? t('common.yes') : t('common.no')), sortable: false },
    {
      key: 'edit',
      label: t('common.actions'),
      value: () => '',
      sortable: false,
      noExport: true,
      render: (c) => (
        <button type="button" className="btn btn-small" onClick={() => setEditing(c)} data-testid="category-edit">
          {t('common.edit')}
        </button>
      ),
    },
  ];
  return (
    <section className="card">
      <ErrorBox error={cats.error} />
      <DataTable
        columns={columns}
        rows={rows}
        rowKey={(c) => c.id}
        exportName="linh-vuc-phan-anh"
        testId="categories-table"
        toolbar={
          <button type="button" className="btn btn-primary btn-small" onClick={() => setEditing('new')} data-testid="category-new">
            {t('common.create')}
          </button>
        }
      />
      <Dialog open={editing !== null} title={editing === 'new' ? t('radmin.newCategory') : t('radmin.editCategory')} onClose={() => setEditing(null)} testId="category-dialog" wide>
        {editing !== null && (
          <CategoryForm
            category={editing === 'new' ? null : editing}
            all={all}
            onSaved={() => {
              setEditing(null);
              setTick((n) => n + 1);
            }}
          />
        )}
      </Dialog>
    </section>
  );
}

const emptyAttr = (): Attribute => ({ code: '', label_vi: '', label_en: '', datatype: 'string', required: false, values: [] });

/** "key | tên | name" per line ↔ list values. */
function valuesToText(a: Attribute): string {
  return a.values.map((v) => [v.key, v.name_vi, v.name_en].join(' | ')).join('\n');
}
function textToValues(s: string): Attribute['values'] {
  return s
    .split('\n')
    .map((l) => l.split('|').map((x) => x.trim()))
    .filter((p) => p[0])
    .map(([key = '', vi = '', en = '']) => ({ key, name_vi: vi || key, name_en: en || vi || key }));
}

function CategoryForm({ category, all, onSaved }: { category: Category | null; all: Category[]; onSaved: () => void }) {
  const { t, td, locale } = useApp();
  const fields = useAsync((s) => api.get<CoreField[]>('/api/fields', undefined, s), []);
  const c = category;
  const [code, setCode] = useState(c?.code ?? '');
  const [parent, setParent] = useState(c?.parent_id ? String(c.parent_id) : '');
  const [nameVi, setNameVi] = useState(c?.name_vi ?? '');
  const [nameEn, setNameEn] = useState(c?.name_en ?? '');
  const [descVi, setDescVi] = useState(c?.description_vi ?? '');
  const [descEn, setDescEn] = useState(c?.description_en ?? '');
  const [ruleKind, setRuleKind] = useState<'by_place' | 'by_field' | 'fixed'>(c?.rule.kind ?? 'by_place');
  const [ruleUnit, setRuleUnit] = useState<UnitRef | null>(c && 'unit_id' in c.rule ? { id: c.rule.unit_id, code: '', name: `#${c.rule.unit_id}` } : null);
  const [field, setField] = useState(c?.field ?? '');
  const [normalHours, setNormalHours] = useState(String(c?.normal_working_hours ?? 40));
  const [urgentHours, setUrgentHours] = useState(String(c?.urgent_hours ?? 4));
  const [acceptMin, setAcceptMin] = useState(String(c?.accept_within_minutes ?? 30));
  const [urgentDefault, setUrgentDefault] = useState(c?.urgent_by_default ?? false);
  const [active, setActive] = useState(c?.active ?? true);
  const [keywords, setKeywords] = useState((c?.keywords ?? []).join(', '));
  const [attrs, setAttrs] = useState<(Attribute & { valuesText: string })[]>(() => (c?.attributes ?? []).map((a) => ({ ...a, valuesText: valuesToText(a) })));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fe = (f: string) => fieldError(error, f);
  const setAttr = (i: number, patch: Partial<Attribute & { valuesText: string }>) => setAttrs(attrs.map((a, j) => (j === i ? { ...a, ...patch } : a)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      code: code.trim(),
      parent_id: parent ? Number(parent) : null,
      name_vi: nameVi.trim(),
      name_en: nameEn.trim(),
      description_vi: descVi.trim(),
      description_en: descEn.trim(),
      rule: ruleKind === 'by_place' ? { kind: ruleKind } : { kind: ruleKind, unit_id: ruleUnit?.id },
      field: field || null,
      normal_working_hours: Number(normalHours),
      urgent_hours: Number(urgentHours),
      accept_within_minutes: Number(acceptMin),
      urgent_by_default: urgentDefault,
      active,
      keywords: keywords
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
      attributes: attrs.map(({ valuesText, ...a }) => ({
        ...a,
        code: a.code.trim(),
        values: a.datatype === 'singlevaluelist' || a.datatype === 'multivaluelist' ? textToValues(valuesText) : [],
      })),
    };
    try {
      if (c) await api.put(`/api/report-categories/${c.id}`, body);
      else await api.post('/api/report-categories', body);
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const roots = all.filter((x) => x.parent_id === null && x.id !== c?.id);
  return (
    <form className="form" onSubmit={submit} data-testid="category-form">
      <div className="form-grid">
        <InputField label={t('radmin.catCode')} required value={code} onChange={(e) => setCode(e.target.value)} error={fe('code')} data-testid="category-code" />
        <SelectField label={t('radmin.parent')} value={parent} onChange={(e) => setParent(e.target.value)} error={fe('parent_id')}>
          <option value="">{t('radmin.noParent')}</option>
          {roots.map((r) => (
            <option key={r.id} value={r.id}>
              {categoryLabel(r, locale)}
            </option>
          ))}
        </SelectField>
        <InputField label={t('radmin.nameVi')} required lang="vi" value={nameVi} onChange={(e) => setNameVi(e.target.value)} error={fe('name_vi')} data-testid="category-name-vi" />
        <InputField label={t('radmin.nameEn')} required lang="en" value={nameEn} onChange={(e) => setNameEn(e.target.value)} error={fe('name_en')} data-testid="category-name-en" />
        <TextareaField label={t('radmin.descVi')} optional lang="vi" rows={2} value={descVi} onChange={(e) => setDescVi(e.target.value)} />
        <TextareaField label={t('radmin.descEn')} optional lang="en" rows={2} value={descEn} onChange={(e) => setDescEn(e.target.value)} />
        <SelectField label={t('radmin.rule')} value={ruleKind} onChange={(e) => setRuleKind(e.target.value as typeof ruleKind)} error={fe('rule')} data-testid="category-rule">
          {(['by_place', 'by_field', 'fixed'] as const).map((k) => (
            <option key={k} value={k}>
              {td(`ruleKind.${k}`, k)}
            </option>
          ))}
        </SelectField>
        {ruleKind !== 'by_place' && <UnitPicker label={t('radmin.ruleUnit')} value={ruleUnit} onChange={setRuleUnit} required error={fe('rule.unit_id')} testId="category-unit" />}
        <SelectField label={t('radmin.field')} optional value={field} onChange={(e) => setField(e.target.value)} error={fe('field')}>
          <option value="">{t('common.none')}</option>
          {(fields.data ?? []).map((f) => (
            <option key={f.code} value={f.code}>
              {locale === 'en' ? f.name_en : f.name_vi}
            </option>
          ))}
        </SelectField>
        <InputField label={t('radmin.normalHours')} type="number" min={1} required value={normalHours} onChange={(e) => setNormalHours(e.target.value)} error={fe('normal_working_hours')} hint={t('radmin.normalHoursHint')} />
        <InputField label={t('radmin.urgentHours')} type="number" min={1} required value={urgentHours} onChange={(e) => setUrgentHours(e.target.value)} error={fe('urgent_hours')} />
        <InputField label={t('radmin.acceptWithin')} type="number" min={1} required value={acceptMin} onChange={(e) => setAcceptMin(e.target.value)} error={fe('accept_within_minutes')} hint={t('radmin.acceptWithinHint')} />
        <InputField label={t('radmin.keywords')} optional value={keywords} onChange={(e) => setKeywords(e.target.value)} hint={t('radmin.keywordsHint')} />
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={urgentDefault} onChange={(e) => setUrgentDefault(e.target.checked)} />
        {t('radmin.urgentDefault')}
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />
        {t('radmin.active')}
      </label>
      <fieldset className="field attr-editor" data-testid="attribute-editor">
        <legend>{t('radmin.attributes')}</legend>
        {attrs.map((a, i) => (
          <div key={i} className="attr-row card">
            <div className="form-grid">
              <InputField label={t('radmin.attrCode')} required value={a.code} onChange={(e) => setAttr(i, { code: e.target.value })} error={fe(`attributes[${i}].code`)} />
              <SelectField label={t('radmin.attrType')} value={a.datatype} onChange={(e) => setAttr(i, { datatype: e.target.value as AttributeType })}>
                {ATTRIBUTE_TYPES.map((d) => (
                  <option key={d} value={d}>
                    {td(`attrType.${d}`, d)}
                  </option>
                ))}
              </SelectField>
              <InputField label={t('radmin.nameVi')} required value={a.label_vi} onChange={(e) => setAttr(i, { label_vi: e.target.value })} />
              <InputField label={t('radmin.nameEn')} required value={a.label_en} onChange={(e) => setAttr(i, { label_en: e.target.value })} />
            </div>
            {(a.datatype === 'singlevaluelist' || a.datatype === 'multivaluelist') && (
              <TextareaField label={t('radmin.attrValues')} hint={t('radmin.attrValuesHint')} rows={3} value={a.valuesText} onChange={(e) => setAttr(i, { valuesText: e.target.value })} />
            )}
            <div className="row-actions">
              <label className="checkbox">
                <input type="checkbox" checked={a.required} onChange={(e) => setAttr(i, { required: e.target.checked })} />
                {t('radmin.attrRequired')}
              </label>
              <button type="button" className="btn btn-small btn-danger" onClick={() => setAttrs(attrs.filter((_, j) => j !== i))}>
                {t('common.remove')}
              </button>
            </div>
          </div>
        ))}
        <button type="button" className="btn btn-small" onClick={() => setAttrs([...attrs, { ...emptyAttr(), valuesText: '' }])} data-testid="attribute-add">
          {t('radmin.addAttribute')}
        </button>
      </fieldset>
      <ErrorBox error={error} fields={['code', 'name_vi', 'name_en', 'rule', 'rule.unit_id', 'field', 'parent_id', 'normal_working_hours', 'urgent_hours', 'accept_within_minutes']} />
      <button type="submit" className="btn btn-primary" disabled={busy || (ruleKind !== 'by_place' && !ruleUnit)} data-testid="category-save">
        {busy ? t('common.saving') : t('common.save')}
      </button>
    </form>
  );
}

/* ---------- working calendar ---------- */

function CalendarTab() {
  const { t, locale } = useApp();
  const [thisYear] = useState(() => new Date(Date.now() + 7 * 3_600_000).getUTCFullYear());
  const [year, setYear] = useState(thisYear);
  const cal = useAsync((s) => api.get<WorkCalendar>('/api/calendar', { year }, s), [year]);
  const [day, setDay] = useState<GridDay | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const loadOfficial = async () => {
    if (!window.confirm(t('calendar.loadOfficialConfirm', { year }))) return;
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/calendar/official/${year}`);
      setNote(t('calendar.loaded', { year }));
      cal.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const monthName = (m: number) => new Intl.DateTimeFormat(locale === 'vi' ? 'vi-VN' : 'en-GB', { month: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(year, m - 1, 1)));
  const weekdays = locale === 'vi' ? ['T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'CN'] : ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];
  return (
    <section className="card" data-testid="calendar-tab">
      <div className="toolbar">
        <SelectField label={t('calendar.year')} value={year} onChange={(e) => setYear(Number(e.target.value))} data-testid="calendar-year">
          {[thisYear - 1, thisYear, thisYear + 1].map((y) => (
            <option key={y} value={y}>
              {y}
            </option>
          ))}
        </SelectField>
        <span className="spacer" />
        <button type="button" className="btn" onClick={() => void loadOfficial()} disabled={busy} data-testid="calendar-official">
          {t('calendar.loadOfficial')}
        </button>
      </div>
      {note && <Notice>{note}</Notice>}
      <ErrorBox error={error ?? cal.error} />
      {cal.data?.office_hours && (
        <p className="muted small">
          {t('calendar.officeHours')}: {cal.data.office_hours.map(([a, b]) => `${a}–${b}`).join(', ')}
        </p>
      )}
      <ul className="map-legend">
        <li className="legend-item">
          <span className="swatch day-weekend" aria-hidden="true" /> {t('calendar.weekend')}
        </li>
        <li className="legend-item">
          <span className="swatch day-holiday" aria-hidden="true" /> {t('calendar.holiday')}
        </li>
        <li className="legend-item">
          <span className="swatch day-workday" aria-hidden="true" /> {t('calendar.workday')}
        </li>
      </ul>
      {cal.loading && !cal.data ? (
        <Spinner />
      ) : (
        <div className="months">
          {Array.from({ length: 12 }, (_, i) => i + 1).map((m) => (
            <table key={m} className="month" data-testid="calendar-month">
              <caption>{monthName(m)}</caption>
              <thead>
                <tr>
                  {weekdays.map((w) => (
                    <th key={w} scope="col">
                      {w}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {monthGrid(year, m, cal.data?.days ?? []).map((week, wi) => (
                  <tr key={wi}>
                    {week.map((d, di) =>
                      d ? (
                        <td key={di} className={`day-${d.kind}`}>
                          <button type="button" onClick={() => setDay(d)} title={d.name ?? undefined} aria-label={`${d.date}${d.name ? ' · ' + d.name : ''}`} data-date={d.date}>
                            {d.day}
                          </button>
                        </td>
                      ) : (
                        <td key={di} />
                      ),
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
        </div>
      )}
      <Dialog open={day !== null} title={day?.date ?? ''} onClose={() => setDay(null)} testId="calendar-day">
        {day && (
          <DayForm
            day={day}
            onDone={() => {
              setDay(null);
              cal.reload();
            }}
          />
        )}
      </Dialog>
    </section>
  );
}

function DayForm({ day, onDone }: { day: GridDay; onDone: () => void }) {
  const { t } = useApp();
  const exception = day.kind === 'holiday' || day.kind === 'workday';
  const [kind, setKind] = useState<'holiday' | 'workday'>(day.kind === 'workday' ? 'workday' : day.weekday >= 5 && !exception ? 'workday' : 'holiday');
  const [name, setName] = useState(day.name ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => api.put(`/api/calendar/days/${day.date}`, { kind, name: name.trim() }));
      }}
    >
      <SelectField label={t('calendar.kind')} value={kind} onChange={(e) => setKind(e.target.value as 'holiday' | 'workday')}>
        <option value="holiday">{t('calendar.holiday')}</option>
        <option value="workday">{t('calendar.workday')}</option>
      </SelectField>
      <InputField label={t('calendar.name')} required value={name} onChange={(e) => setName(e.target.value)} />
      <ErrorBox error={error} />
      <div className="row-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !name.trim()}>
          {t('common.save')}
        </button>
        {exception && (
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void run(() => api.del(`/api/calendar/days/${day.date}`))}>
            {t('calendar.remove')}
          </button>
        )}
      </div>
    </form>
  );
}

/* ---------- Open311 clients ---------- */

function Open311Tab() {
  const { t, locale } = useApp();
  const list = useAsync((s) => api.get<Open311Client[] | { items: Open311Client[] }>('/api/open311/clients', undefined, s).then((r) => (Array.isArray(r) ? r : r.items ?? [])), []);
  const [name, setName] = useState('');
  const [unit, setUnit] = useState<UnitRef | null>(null);
  const [created, setCreated] = useState<{ name: string; api_key: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api.post<{ id: number; name: string; api_key: string }>('/api/open311/clients', { name: name.trim(), unit_id: unit?.id });
      setCreated(r);
      setName('');
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const remove = async (c: Open311Client) => {
    if (!window.confirm(t('open311.confirmDelete', { name: c.name }))) return;
    setError(null);
    try {
      await api.del(`/api/open311/clients/${c.id}`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const columns: Column<Open311Client>[] = [
    { key: 'name', label: t('open311.name'), value: (c) => c.name },
    { key: 'unit', label: t('tokens.unit'), value: (c) => c.unit?.name ?? (c.unit_id ? `#${c.unit_id}` : '') },
    { key: 'created_at', label: t('tokens.createdAt'), value: (c) => c.created_at ?? '', render: (c) => formatDateTime(c.created_at, locale) },
    {
      key: 'actions',
      label: t('common.actions'),
      value: () => '',
      sortable: false,
      noExport: true,
      render: (c) => (
        <button type="button" className="btn btn-small btn-danger" onClick={() => void remove(c)} data-testid="open311-delete">
          {t('common.delete')}
        </button>
      ),
    },
  ];
  return (
    <div className="grid-side">
      <section className="card">
        <p className="muted">{t('open311.intro')}</p>
        {created && (
          <OnceSecret
            title={created.name}
            note={t('tokens.showOnce')}
            secret={created.api_key}
            testId="open311-created"
            valueTestId="open311-key"
            copyTestId="open311-copy"
            onClose={() => setCreated(null)}
          />
        )}
        <ErrorBox error={list.error ?? error} />
        {list.loading && !list.data ? <Spinner /> : <DataTable columns={columns} rows={list.data ?? []} rowKey={(c) => c.id} exportName="open311" testId="open311-table" />}
      </section>
      <section className="card">
        <h2 className="card-title">{t('open311.create')}</h2>
        <form className="form" onSubmit={create}>
          <InputField label={t('open311.name')} required value={name} onChange={(e) => setName(e.target.value)} data-testid="open311-name" />
          <UnitPicker label={t('tokens.unit')} value={unit} onChange={setUnit} testId="open311-unit" />
          <button type="submit" className="btn btn-primary" disabled={!name.trim()} data-testid="open311-create">
            {t('open311.create')}
          </button>
        </form>
      </section>
    </div>
  );
}

/* ---------- privacy requests ---------- */

function PrivacyTab() {
  const { t, can, td } = useApp();
  const [kind, setKind] = useState<'email' | 'phone'>('phone');
  const [value, setValue] = useState('');
  const [found, setFound] = useState<PrivacyLookup | null>(null);
  const [note, setNote] = useState('');
  const [confirm, setConfirm] = useState(false);
  const [erased, setErased] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const who = { [kind]: value.trim() };
  const lookup = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setErased(null);
    try {
      setFound(await api.post<PrivacyLookup>('/api/privacy/lookup', who));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const erase = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ erased: number }>('/api/privacy/erase', { ...who, note: note.trim() });
      setErased(r.erased);
      setFound(null);
      setConfirm(false);
      setNote('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const reports = found?.reports ?? [];
  return (
    <section className="card" data-testid="privacy-tab">
      <p className="muted">{t('privacy.intro')}</p>
      <form className="form-inline" onSubmit={lookup}>
        <SelectField label={t('privacy.by')} value={kind} onChange={(e) => setKind(e.target.value as 'email' | 'phone')}>
          <option value="phone">{t('newReport.contactPhone')}</option>
          <option value="email">{t('newReport.contactEmail')}</option>
        </SelectField>
        <InputField label={t('privacy.value')} type={kind === 'email' ? 'email' : 'tel'} required value={value} onChange={(e) => setValue(e.target.value)} data-testid="privacy-value" />
        <button type="submit" className="btn btn-primary" disabled={busy || !value.trim()} data-testid="privacy-lookup">
          {t('privacy.lookup')}
        </button>
      </form>
      <ErrorBox error={error} />
      {erased !== null && <Notice testId="privacy-erased">{t('privacy.erased', { count: erased })}</Notice>}
      {found && (
        <div className="stack" data-testid="privacy-found">
          <h3>{t('privacy.found', { count: reports.length })}</h3>
          <ul>
            {reports.map((r) => (
              <li key={r.id}>
                {r.code ?? `#${r.id}`} {r.status && <>· {td(`reportStatus.${r.status}`, r.status)}</>} {r.description && <span className="muted small">· {r.description.slice(0, 80)}</span>}
              </li>
            ))}
          </ul>
          <details>
            <summary>{t('privacy.raw')}</summary>
            <pre className="json">{JSON.stringify(found, null, 2)}</pre>
          </details>
          {can('reports.admin') && (
            <form className="form" onSubmit={erase}>
              <TextareaField label={t('privacy.note')} required rows={2} value={note} onChange={(e) => setNote(e.target.value)} data-testid="privacy-note" />
              <label className="checkbox">
                <input type="checkbox" checked={confirm} onChange={(e) => setConfirm(e.target.checked)} data-testid="privacy-confirm" />
                {t('privacy.confirm', { who: value.trim() })}
              </label>
              <button type="submit" className="btn btn-danger" disabled={busy || !note.trim() || !confirm} data-testid="privacy-erase">
                {t('privacy.erase')}
              </button>
            </form>
          )}
        </div>
      )}
    </section>
  );
}
