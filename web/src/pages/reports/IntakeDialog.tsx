import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { INTAKE_CHANNELS, type ReportDetail } from '../../api/reports';
import { useApp } from '../../app/AppContext';
import { Dialog } from '../../components/Dialog';
import { ErrorBox, InputField, SelectField, Spinner, TextareaField, fieldError } from '../../components/Forms';
import { AttributeFields, CategoryPicker, cleanAttributes, type AttrValues } from '../../components/ReportBits';
import { PinMap } from '../../components/ReportMap';
import { boundsCentre, type Bounds } from '../../lib/reports';
import { navigate } from '../../router';
import { useCategories, useReportConfig } from './common';

/** An operator enters a report taken by hotline, in person, Zalo or e-mail (`POST /api/reports`). */
export function IntakeDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useApp();
  return (
    <Dialog open={open} title={t('intake.title')} onClose={onClose} testId="intake-dialog" wide>
      {open && <IntakeForm onClose={onClose} />}
    </Dialog>
  );
}

function IntakeForm({ onClose }: { onClose: () => void }) {
  const { t, td } = useApp();
  const cats = useCategories();
  const cfg = useReportConfig();
  const [channel, setChannel] = useState<string>('hotline');
  const [categoryId, setCategoryId] = useState<number | null>(null);
  const [attrs, setAttrs] = useState<AttrValues>({});
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [pin, setPin] = useState<[number, number] | null>(null);
  const [address, setAddress] = useState('');
  const [urgent, setUrgent] = useState(false);
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [email, setEmail] = useState('');
  const [confidential, setConfidential] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!cats.data || !cfg.data) return cats.error || cfg.error ? <ErrorBox error={cats.error ?? cfg.error} /> : <Spinner />;
  const bounds = cfg.data.bounds as Bounds;
  const category = cats.data.find((c) => c.id === categoryId);
  const fe = (f: string) => fieldError(error, f);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!categoryId || !pin) return;
    setBusy(true);
    setError(null);
    try {
      const contact = { name: name.trim() || undefined, phone: phone.trim() || undefined, email: email.trim() || undefined };
      const r = await api.post<ReportDetail>('/api/reports', {
        channel,
        category_id: categoryId,
        title: title.trim() || undefined,
        description: description.trim(),
        lat: pin[0],
        lon: pin[1],
        address: address.trim() || undefined,
        urgent,
        contact: contact.name || contact.phone || contact.email ? contact : undefined,
        confidential,
        attributes: cleanAttributes(attrs),
      });
      onClose();
      navigate(`/reports/${r.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const errors: Record<string, string> = {};
  for (const x of (error as { problem?: { errors?: { field: string; reason: string }[] } } | null)?.problem?.errors ?? []) errors[x.field] = x.reason;

  return (
    <form className="form" onSubmit={submit} data-testid="intake-form">
      <SelectField label={t('reports.channel')} value={channel} onChange={(e) => setChannel(e.target.value)} data-testid="intake-channel">
        {INTAKE_CHANNELS.map((c) => (
          <option key={c} value={c}>
            {td(`reportChannel.${c}`, c)}
          </option>
        ))}
      </SelectField>
      <CategoryPicker
        categories={cats.data}
        value={categoryId}
        onChange={(id) => {
          setCategoryId(id);
          setAttrs({});
          setUrgent(cats.data?.find((c) => c.id === id)?.urgent_by_default ?? false);
        }}
        error={fe('category_id')}
      />
      {category && <AttributeFields attributes={category.attributes} values={attrs} onChange={setAttrs} errors={errors} />}
      <InputField label={t('reports.title')} optional value={title} onChange={(e) => setTitle(e.target.value)} error={fe('title')} />
      <TextareaField label={t('newReport.description')} required rows={4} value={description} onChange={(e) => setDescription(e.target.value)} error={fe('description')} data-testid="intake-description" />
      <fieldset className="field">
        <legend>{t('newReport.place')}</legend>
        <p className="hint">{t('newReport.placeHint')}</p>
        <PinMap
          value={pin}
          onChange={(lat, lon) => setPin([lat, lon])}
          bounds={bounds}
          fallbackCentre={boundsCentre(bounds)}
          tileUrl={cfg.data.tile_url}
          tileAttribution={cfg.data.tile_attribution}
          label={t('newReport.pin')}
          testId="intake-map"
        />
        {pin && (
          <p className="small muted">
            {pin[0].toFixed(5)}, {pin[1].toFixed(5)}
          </p>
        )}
        {(fe('lat') || fe('lon')) && <p className="field-error">{fe('lat') ?? fe('lon')}</p>}
      </fieldset>
      <InputField label={t('newReport.address')} optional value={address} onChange={(e) => setAddress(e.target.value)} error={fe('address')} />
      <label className="checkbox">
        <input type="checkbox" checked={urgent} onChange={(e) => setUrgent(e.target.checked)} />
        {t('newReport.urgent')}
      </label>
      <fieldset className="field">
        <legend>{t('newReport.contact')}</legend>
        <div className="form-grid">
          <InputField label={t('newReport.contactName')} value={name} onChange={(e) => setName(e.target.value)} error={fe('contact.name')} />
          <InputField label={t('newReport.contactPhone')} type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} error={fe('contact.phone')} />
          <InputField label={t('newReport.contactEmail')} type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={fe('contact.email')} />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={confidential} onChange={(e) => setConfidential(e.target.checked)} />
          {t('newReport.confidential')}
        </label>
      </fieldset>
      <ErrorBox error={error} fields={['category_id', 'title', 'description', 'lat', 'lon', 'address', 'contact.name', 'contact.phone', 'contact.email']} />
      {!pin && <p className="hint">{t('newReport.needPlace')}</p>}
      <button type="submit" className="btn btn-primary" disabled={busy || !categoryId || !pin || !description.trim()} data-testid="intake-submit">
        {t('intake.submit')}
      </button>
    </form>
  );
}
