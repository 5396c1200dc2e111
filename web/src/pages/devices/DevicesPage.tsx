import { useMemo, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import {
  DEVICE_HEALTHS,
  isDeviceId,
  shortType,
  type Device,
  type DeviceCreate,
  type ProvisionedDevice,
} from '../../api/devices';
import type { UnitRef } from '../../api/types';
import { useApp } from '../../app/AppContext';
import { useAsync, useLiveTopic, usePolling } from '../../app/hooks';
import { DataTable, type Column } from '../../components/DataTable';
import { Dialog } from '../../components/Dialog';
import { ErrorBox, InputField, SelectField, Spinner, fieldError } from '../../components/Forms';
import { Icon } from '../../components/Icons';
import { UnitPicker } from '../../components/Pickers';
import { PinMap } from '../../components/ReportMap';
import { useNow } from '../../components/ReportBits';
import { DOMAINS } from '../../lib/monitoring';
import { formatDateTime, formatRelative } from '../../lib/time';
import { Link, navigate, useLocation } from '../../router';
import { REFRESH_MS, useMapBase } from '../monitoring/common';
import { ConnectionText, DeviceKey, HealthChip, SilenceField } from './common';
import { ConnectorsCard } from './ConnectorsCard';

/** `/devices`: every device the caller may see, with its health; admins provision new ones. */
export function DevicesPage() {
  const { t, td, locale, can } = useApp();
  const { search } = useLocation();
  const health = search.get('health') ?? '';
  const list = useAsync((s) => api.get<Device[]>('/api/devices', undefined, s), []);
  usePolling(list.reload, REFRESH_MS);
  // The server announces devices falling silent or reporting again.
  useLiveTopic('devices', () => list.reload());
  const now = useNow(15_000);
  const [provisionOpen, setProvisionOpen] = useState(false);
  const [created, setCreated] = useState<ProvisionedDevice | null>(null);
  const rows = useMemo(() => (list.data ?? []).filter((d) => !health || d.health === health), [list.data, health]);
  const admin = can('devices.admin');

  const columns: Column<Device>[] = [
    {
      key: 'id',
      label: t('dev.id'),
      value: (d) => d.id,
      render: (d) => (
        <span className="code-cell">
          <Link to={`/devices/${encodeURIComponent(d.id)}`} data-testid="device-open">
            <code>{d.id}</code>
          </Link>
          {d.demo && <span className="badge badge-warn">{t('dev.demo')}</span>}
        </span>
      ),
    },
    { key: 'name', label: t('dev.name'), value: (d) => d.name },
    { key: 'health', label: t('dev.health'), value: (d) => td(`dev.health.${d.health}`, d.health), render: (d) => <HealthChip health={d.health} /> },
    {
      key: 'last_seen',
      label: t('dev.lastSeen'),
      value: (d) => d.last_seen ?? '',
      render: (d) =>
        d.last_seen ? (
          <time dateTime={d.last_seen} title={formatDateTime(d.last_seen, locale)}>
            {formatRelative(d.last_seen, now, locale)}
          </time>
        ) : (
          <span className="muted">{t('dev.never')}</span>
        ),
    },
    { key: 'messages', label: t('dev.messages'), value: (d) => d.messages, className: 'num' },
    { key: 'rejected', label: t('dev.rejected'), value: (d) => d.rejected, className: 'num' },
    {
      key: 'connected',
      label: t('dev.connection'),
      value: (d) => t(d.connection?.connected ? 'dev.connected' : 'dev.notConnected'),
      render: (d) => <ConnectionText device={d} />,
    },
    { key: 'type', label: t('dev.entityType'), value: (d) => shortType(d.entity_type) },
    { key: 'owner', label: t('dev.owner'), value: (d) => d.owner.name },
  ];

  return (
    <div className="page" data-testid="devices-page">
      <div className="page-head">
        <h1>{t('dev.title')}</h1>
        <div className="head-actions">
          <Link to="/monitoring" className="btn btn-ghost">
            <Icon name="monitoring" size={16} /> {t('module.monitoring')}
          </Link>
          {admin && (
            <button type="button" className="btn btn-primary" onClick={() => setProvisionOpen(true)} data-testid="device-provision-open">
              <Icon name="plus" size={16} /> {t('dev.provision')}
            </button>
          )}
        </div>
      </div>
      {created && <DeviceKey id={created.id} secret={created.key} mqtt={created.mqtt} onClose={() => setCreated(null)} />}
      <ErrorBox error={list.error} />
      <section className="card">
        {list.loading && !list.data ? (
          <Spinner />
        ) : (
          <DataTable
            columns={columns}
            rows={rows}
            rowKey={(d) => d.id}
            exportName="devices"
            testId="devices-table"
            caption={t('dev.title')}
            initialSort={{ key: 'id', dir: 'asc' }}
            rowTestId={() => 'device-row'}
            toolbar={
              <label className="toolbar-select">
                <span className="visually-hidden">{t('dev.health')}</span>
                <select
                  value={health}
                  onChange={(e) => navigate(`/devices${e.target.value ? `?health=${e.target.value}` : ''}`, { replace: true })}
                  data-testid="devices-health-filter"
                >
                  <option value="">{t('dev.anyHealth')}</option>
                  {DEVICE_HEALTHS.map((h) => (
                    <option key={h} value={h}>
                      {td(`dev.health.${h}`, h)}
                    </option>
                  ))}
                </select>
              </label>
            }
          />
        )}
      </section>
      <ConnectorsCard />
      <Dialog open={provisionOpen} title={t('dev.provision')} onClose={() => setProvisionOpen(false)} testId="device-provision" wide>
        <ProvisionForm
          onDone={(d) => {
            setProvisionOpen(false);
            setCreated(d);
            list.reload();
          }}
          onCancel={() => setProvisionOpen(false)}
        />
      </Dialog>
    </div>
  );
}

const parseCoord = (s: string): number | null => {
  const n = Number(s.trim().replace(',', '.'));
  return s.trim() !== '' && Number.isFinite(n) ? n : null;
};

function ProvisionForm({ onDone, onCancel }: { onDone: (d: ProvisionedDevice) => void; onCancel: () => void }) {
  const { t, me } = useApp();
  const base = useMapBase();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [unit, setUnit] = useState<UnitRef | null>(me?.home_unit ?? null);
  const [type, setType] = useState(DOMAINS[0]?.type ?? 'AirQualityObserved');
  const [lat, setLat] = useState('');
  const [lon, setLon] = useState('');
  const [silence, setSilence] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tried, setTried] = useState(false);
  const la = parseCoord(lat);
  const lo = parseCoord(lon);

  const local = {
    id: !isDeviceId(id) ? t('dev.badId') : undefined,
    name: !name.trim() ? t('dev.required') : undefined,
    unit_id: !unit ? t('dev.required') : undefined,
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (local.id || local.name || local.unit_id || !unit) return;
    const body: DeviceCreate = { id, name: name.trim(), unit_id: unit.id, entity_type: type };
    if (la !== null && lo !== null) body.location = { lat: la, lon: lo };
    if (silence.trim()) body.silence_secs = Number(silence);
    setBusy(true);
    setError(null);
    try {
      onDone(await api.post<ProvisionedDevice>('/api/devices', body));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const err = (f: string) => (tried ? local[f as keyof typeof local] : undefined) ?? fieldError(error, f);

  return (
    <form className="form" onSubmit={submit} noValidate data-testid="device-provision-form">
      <div className="form-grid">
        <InputField
          label={t('dev.id')}
          hint={t('dev.idHint')}
          value={id}
          onChange={(e) => setId(e.target.value.trim())}
          error={err('id')}
          required
          autoComplete="off"
          data-testid="device-id"
        />
        <InputField label={t('dev.name')} value={name} onChange={(e) => setName(e.target.value)} error={err('name')} required data-testid="device-name" />
        <UnitPicker label={t('dev.owner')} value={unit} onChange={setUnit} error={err('unit_id')} testId="device-unit" required />
        <SelectField label={t('dev.entityType')} value={type} onChange={(e) => setType(e.target.value)} error={fieldError(error, 'entity_type')} data-testid="device-type">
          {DOMAINS.map((d) => (
            <option key={d.type} value={d.type}>
              {t(`monDomain.${d.id}`)} ({d.type})
            </option>
          ))}
        </SelectField>
        <SilenceField value={silence} onChange={setSilence} error={fieldError(error, 'silence_secs')} optional testId="device-silence" />
      </div>
      <fieldset className="field">
        <legend className="label">{t('dev.location')}</legend>
        <p className="hint">{t('dev.locationHint')}</p>
        <PinMap
          {...base}
          testId="device-location-map"
          value={la !== null && lo !== null ? [la, lo] : null}
          onChange={(a, o) => {
            setLat(a.toFixed(6));
            setLon(o.toFixed(6));
          }}
          label={t('dev.location')}
        />
        <div className="form-grid">
          <InputField label={t('dev.lat')} inputMode="decimal" value={lat} onChange={(e) => setLat(e.target.value)} error={fieldError(error, 'location.lat')} data-testid="device-lat" />
          <InputField label={t('dev.lon')} inputMode="decimal" value={lon} onChange={(e) => setLon(e.target.value)} error={fieldError(error, 'location.lon')} data-testid="device-lon" />
        </div>
      </fieldset>
      <ErrorBox error={error} fields={['id', 'name', 'unit_id', 'entity_type', 'silence_secs', 'location.lat', 'location.lon']} />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="device-provision-submit">
          {busy ? t('common.saving') : t('dev.provision')}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
