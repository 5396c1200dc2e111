import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client';
import { uploadForm, type PublicConfig, type SubmittedReport } from '../../api/reports';
import { useApp } from '../../app/AppContext';
import { ErrorBox, InputField, Spinner, TextareaField } from '../../components/Forms';
import { Icon } from '../../components/Icons';
import { Qr } from '../../components/Qr';
import { AttributeFields, CategoryPicker, ProgressBar, cleanAttributes, type AttrValues } from '../../components/ReportBits';
import { PinMap } from '../../components/ReportMap';
import { boundsCentre, fileProblem, formatBytes, insideBounds, splitFieldErrors, type Bounds } from '../../lib/reports';
import { Link } from '../../router';
import { CopyButton } from '../../components/Secret';
import { usePublicConfig } from './PublicLayout';

interface Picked {
  key: number;
  file: File;
  url: string;
}

let nextKey = 1;

/** Server field errors shown next to their inputs. */
const SHOWN_FIELDS = ['category_id', 'description', 'lat', 'lon', 'address', 'contact.name', 'contact.phone', 'contact.email', 'consent', 'file'];

export function NewReportPage() {
  const { t } = useApp();
  const cfg = usePublicConfig();
  const [done, setDone] = useState<SubmittedReport | null>(null);
  return (
    <div className="page public-page narrow" data-testid="new-report-page">
      <h1>{t('newReport.title')}</h1>
      {cfg.error ? <ErrorBox error={cfg.error} /> : null}
      {!cfg.data && !cfg.error && <Spinner />}
      {cfg.data && !done && <NewReportForm cfg={cfg.data} onDone={setDone} />}
      {done && <Submitted report={done} onAgain={() => setDone(null)} />}
    </div>
  );
}

function Submitted({ report, onAgain }: { report: SubmittedReport; onAgain: () => void }) {
  const { t } = useApp();
  const path = `/p/track/${encodeURIComponent(report.code)}`;
  const url = `${window.location.origin}${path}`;
  return (
    <section className="card submitted" data-testid="report-submitted" aria-live="polite">
      <h2>{t('newReport.thanks')}</h2>
      <p>{t('newReport.codeIntro')}</p>
      <div className="code-row">
        <code className="tracking-code" data-testid="report-code">
          {report.code}
        </code>
        <CopyButton text={report.code} testId="report-code-copy" />
      </div>
      <p className="muted small">{t('newReport.keepCode')}</p>
      <figure className="qr-figure">
        <Qr text={url} label={t('newReport.qr')} testId="report-qr" size={168} />
        <figcaption className="small muted">{t('newReport.qr')}</figcaption>
      </figure>
      <div className="row-actions">
        <Link to={path} className="btn btn-primary" data-testid="report-track-link">
          {t('newReport.track')}
        </Link>
        <button type="button" className="btn btn-ghost" onClick={onAgain}>
          {t('newReport.another')}
        </button>
      </div>
    </section>
  );
}

function NewReportForm({ cfg, onDone }: { cfg: PublicConfig; onDone: (r: SubmittedReport) => void }) {
  const { t, locale } = useApp();
  const [categoryId, setCategoryId] = useState<number | null>(null);
  const [attrs, setAttrs] = useState<AttrValues>({});
  const [description, setDescription] = useState('');
  const [pin, setPin] = useState<[number, number] | null>(null);
  const [address, setAddress] = useState('');
  const [files, setFiles] = useState<Picked[]>([]);
  const [fileNote, setFileNote] = useState<string | null>(null);
  const [urgent, setUrgent] = useState(false);
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [email, setEmail] = useState('');
  const [confidential, setConfidential] = useState(false);
  const [consent, setConsent] = useState(false);
  const [locating, setLocating] = useState(false);
  const [locNote, setLocNote] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const fileInput = useRef<HTMLInputElement>(null);
  const bounds = cfg.bounds as Bounds;

  // Object URLs of the previews are released when photos are removed or the form goes away.
  const filesRef = useRef(files);
  useEffect(() => {
    filesRef.current = files;
  });
  useEffect(() => () => filesRef.current.forEach((f) => URL.revokeObjectURL(f.url)), []);

  const category = cfg.categories.find((c) => c.id === categoryId) ?? null;
  const server = splitFieldErrors(error instanceof ApiError ? error.problem.errors : undefined);
  const fe = (f: string) => local[f] ?? server.fields[f];

  const pickCategory = (id: number | null) => {
    setCategoryId(id);
    setAttrs({});
    const c = cfg.categories.find((x) => x.id === id);
    if (c) setUrgent(c.urgent_by_default);
  };

  const addFiles = (list: FileList | null) => {
    if (!list) return;
    const next = [...files];
    const notes: string[] = [];
    for (const f of Array.from(list)) {
      const p = fileProblem(f, next.map((x) => x.file), cfg);
      if (p) {
        notes.push(
          `${f.name}: ${t(`newReport.file.${p}`, {
            max: p === 'videoSize' ? formatBytes(cfg.max_video_bytes, locale) : formatBytes(cfg.max_photo_bytes, locale),
            count: cfg.max_photos,
          })}`,
        );
        continue;
      }
      next.push({ key: nextKey++, file: f, url: URL.createObjectURL(f) });
    }
    setFiles(next);
    setFileNote(notes.length ? notes.join(' ') : null);
    if (fileInput.current) fileInput.current.value = '';
  };

  const removeFile = (key: number) => {
    const f = files.find((x) => x.key === key);
    if (f) URL.revokeObjectURL(f.url);
    setFiles(files.filter((x) => x.key !== key));
    setError(null);
  };

  const useMyLocation = () => {
    if (!navigator.geolocation) {
      setLocNote(t('newReport.geoUnavailable'));
      return;
    }
    setLocating(true);
    setLocNote(null);
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        setLocating(false);
        const { latitude, longitude } = pos.coords;
        if (!insideBounds(latitude, longitude, bounds)) {
          setLocNote(t('newReport.geoOutside', { province: cfg.province.name }));
          return;
        }
        setPin([latitude, longitude]);
        setLocNote(t('newReport.geoOk'));
      },
      (err) => {
        setLocating(false);
        setLocNote(err.code === err.PERMISSION_DENIED ? t('newReport.geoDenied') : t('newReport.geoFailed'));
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!categoryId) errs.category_id = t('newReport.needCategory');
    if (description.trim().length < 10) errs.description = t('newReport.needDescription');
    if (!pin) errs.lat = t('newReport.needPlace');
    if (!consent) errs.consent = t('newReport.needConsent');
    for (const a of category?.attributes ?? []) {
      const v = attrs[a.code];
      if (a.required && !(Array.isArray(v) ? v.length : v?.trim())) errs[`attributes.${a.code}`] = t('newReport.required');
    }
    setLocal(errs);
    setError(null);
    if (Object.keys(errs).length || !pin || !categoryId) {
      setTimeout(() => document.querySelector<HTMLElement>('.field-invalid input, .field-invalid textarea, .field-invalid select, .field-invalid')?.focus?.(), 0);
      return;
    }
    const contact = { name: name.trim() || undefined, phone: phone.trim() || undefined, email: email.trim() || undefined };
    const report = {
      category_id: categoryId,
      description: description.trim(),
      lat: pin[0],
      lon: pin[1],
      address: address.trim() || undefined,
      urgent,
      contact: contact.name || contact.phone || contact.email ? contact : undefined,
      confidential,
      consent: true,
      attributes: cleanAttributes(attrs),
    };
    const form = new FormData();
    form.append('report', JSON.stringify(report));
    for (const f of files) form.append('file', f.file, f.file.name);
    setProgress(0);
    try {
      const res = await uploadForm<SubmittedReport>('/api/public/reports', form, setProgress);
      files.forEach((f) => URL.revokeObjectURL(f.url));
      onDone(res);
      window.scrollTo({ top: 0 });
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
    }
  };

  const busy = progress !== null;
  const consentText = (locale === 'en' ? cfg.consent_en : cfg.consent_vi) || cfg.consent_vi;

  return (
    <form className="form report-form" onSubmit={submit} noValidate data-testid="new-report-form">
      <CategoryPicker categories={cfg.categories} value={categoryId} onChange={pickCategory} error={fe('category_id')} />
      {category && <AttributeFields attributes={category.attributes} values={attrs} onChange={setAttrs} errors={{ ...server.fields, ...local }} />}

      <TextareaField
        label={t('newReport.description')}
        hint={t('newReport.descriptionHint')}
        rows={4}
        required
        maxLength={4000}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
        error={fe('description')}
        data-testid="report-description"
      />

      <fieldset className={`field place${fe('lat') || fe('lon') ? ' field-invalid' : ''}`} data-testid="report-place">
        <legend>{t('newReport.place')}</legend>
        <p className="hint">{t('newReport.placeHint')}</p>
        <div className="row-actions">
          <button type="button" className="btn" onClick={useMyLocation} disabled={locating} data-testid="use-my-location">
            <Icon name="locate" size={18} /> {locating ? t('newReport.locating') : t('newReport.useMyLocation')}
          </button>
          {pin && (
            <span className="small muted" data-testid="pin-coords">
              {pin[0].toFixed(5)}, {pin[1].toFixed(5)}
            </span>
          )}
        </div>
        {locNote && (
          <p className="small" role="status">
            {locNote}
          </p>
        )}
        <PinMap
          value={pin}
          onChange={(lat, lon) => setPin([lat, lon])}
          bounds={bounds}
          fallbackCentre={boundsCentre(bounds)}
          tileUrl={cfg.tile_url}
          tileAttribution={cfg.tile_attribution}
          label={t('newReport.pin')}
          testId="pin-map"
        />
        {(fe('lat') || fe('lon')) && (
          <p className="field-error" role="alert">
            {fe('lat') ?? fe('lon')}
          </p>
        )}
      </fieldset>
      <InputField
        label={t('newReport.address')}
        optional
        autoComplete="street-address"
        value={address}
        onChange={(e) => setAddress(e.target.value)}
        error={fe('address')}
        data-testid="report-address"
      />

      <fieldset className={`field photos${server.files[-1] ? ' field-invalid' : ''}`} data-testid="report-photos">
        <legend>{t('newReport.photos', { count: cfg.max_photos })}</legend>
        <p className="hint">{t('newReport.photosHint', { max: formatBytes(cfg.max_photo_bytes, locale), video: formatBytes(cfg.max_video_bytes, locale) })}</p>
        <ul className="photo-previews">
          {files.map((f, i) => (
            <li key={f.key} className={server.files[i] ? 'invalid' : undefined} data-testid="photo-preview">
              {f.file.type.startsWith('video/') ? (
                <span className="video-thumb">
                  <Icon name="play" size={28} />
                </span>
              ) : (
                <img src={f.url} alt={t('newReport.photoN', { n: i + 1 })} />
              )}
              <span className="small">{formatBytes(f.file.size, locale)}</span>
              <button type="button" className="btn btn-small btn-danger" onClick={() => removeFile(f.key)} aria-label={t('newReport.removePhoto', { n: i + 1 })} data-testid="photo-remove">
                {t('common.remove')}
              </button>
              {server.files[i] && (
                <p className="field-error" role="alert" data-testid="photo-error">
                  {server.files[i]}
                </p>
              )}
            </li>
          ))}
        </ul>
        {files.length < cfg.max_photos && (
          <label className="btn file-button">
            <Icon name="camera" size={18} /> {t('newReport.addPhoto')}
            <input
              ref={fileInput}
              type="file"
              accept="image/*,video/mp4"
              capture="environment"
              multiple
              className="visually-hidden"
              onChange={(e) => addFiles(e.target.files)}
              data-testid="photo-input"
            />
          </label>
        )}
        {fileNote && (
          <p className="field-error" role="alert">
            {fileNote}
          </p>
        )}
        {server.files[-1] && <p className="field-error">{server.files[-1]}</p>}
      </fieldset>

      <div className="field">
        <label className="checkbox">
          <input type="checkbox" checked={urgent} onChange={(e) => setUrgent(e.target.checked)} data-testid="report-urgent" />
          <strong>{t('newReport.urgent')}</strong>
        </label>
        <p className="hint">{t('newReport.urgentHint')}</p>
      </div>

      <fieldset className="field contact" data-testid="report-contact">
        <legend>
          {t('newReport.contact')} <span className="muted">{t('common.optional')}</span>
        </legend>
        <p className="hint">{t('newReport.contactHint')}</p>
        <InputField label={t('newReport.contactName')} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} error={fe('contact.name')} />
        <InputField label={t('newReport.contactPhone')} type="tel" autoComplete="tel" inputMode="tel" value={phone} onChange={(e) => setPhone(e.target.value)} error={fe('contact.phone')} />
        <InputField label={t('newReport.contactEmail')} type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} error={fe('contact.email')} />
        <label className="checkbox">
          <input type="checkbox" checked={confidential} onChange={(e) => setConfidential(e.target.checked)} data-testid="report-confidential" />
          {t('newReport.confidential')}
        </label>
        <p className="hint">{t('newReport.confidentialHint')}</p>
      </fieldset>

      <div className={`field consent${fe('consent') ? ' field-invalid' : ''}`}>
        <p className="consent-text small" id="consent-text">
          {consentText}
        </p>
        <label className="checkbox">
          <input type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} aria-describedby="consent-text" aria-invalid={fe('consent') ? true : undefined} data-testid="report-consent" />
          {t('newReport.consent')}
        </label>
        {fe('consent') && (
          <p className="field-error" role="alert">
            {fe('consent')}
          </p>
        )}
      </div>

      {Object.keys(local).length > 0 && (
        <div className="alert alert-error" role="alert" data-testid="form-invalid">
          {t('error.validation')}
        </div>
      )}
      <ErrorBox error={error} fields={[...SHOWN_FIELDS, ...(category?.attributes ?? []).map((a) => `attributes.${a.code}`), ...files.map((_, i) => `file[${i}]`)]} testId="submit-error" />
      {busy && <ProgressBar fraction={progress ?? 0} label={t('newReport.sending')} />}
      <button type="submit" className="btn btn-primary btn-block" disabled={busy} data-testid="report-submit">
        {busy ? t('newReport.sending') : t('newReport.submit')}
      </button>
    </form>
  );
}
