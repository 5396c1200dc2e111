import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { mappingLines, shortType, type Device, type NewKey } from '../../api/devices';
import { useApp } from '../../app/AppContext';
import { useAsync, useLiveTopic, usePolling } from '../../app/hooks';
import { ErrorBox, InputField, Notice, Spinner, fieldError } from '../../components/Forms';
import { useNow } from '../../components/ReportBits';
import { domainOfType } from '../../lib/monitoring';
import { formatDateTime, formatNumber, formatRelative } from '../../lib/time';
import { Link, navigate } from '../../router';
import { REFRESH_MS } from '../monitoring/common';
import { ConnectionText, DeviceKey, HealthChip, SilenceField } from './common';

/** `/devices/{id}`: one device's health, connection, last error and mapping; admin actions. */
export function DevicePage({ id }: { id: string }) {
  const { t } = useApp();
  const dev = useAsync((s) => api.get<Device>(`/api/devices/${encodeURIComponent(id)}`, undefined, s), [id]);
  usePolling(dev.reload, REFRESH_MS);
  useLiveTopic('devices', (data) => {
    if (data && typeof data === 'object' && 'id' in data && data.id === id) dev.reload();
  });
  const [fresh, setFresh] = useState<Device | null>(null);
  // What a change answered, until the reload it triggers is back.
  const d = dev.loading && fresh ? fresh : dev.data;
  return (
    <div className="page" data-testid="device-page">
      <p>
        <Link to="/devices" data-testid="back-to-devices">
          ← {t('dev.title')}
        </Link>
      </p>
      {dev.loading && !d && <Spinner />}
      <ErrorBox error={dev.error} testId="device-error" />
      {d && (
        <DeviceDetail
          d={d}
          onChange={(x) => {
            setFresh(x);
            dev.reload();
          }}
        />
      )}
    </div>
  );
}

function DeviceDetail({ d, onChange }: { d: Device; onChange: (d: Device) => void }) {
  const { t, locale, can } = useApp();
  const now = useNow(15_000);
  const admin = can('devices.admin');
  const [key, setKey] = useState<NewKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const type = shortType(d.entity_type);
  const domain = domainOfType(d.entity_type);
  const lines = mappingLines(d.mapping);

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const setEnabled = (enabled: boolean) =>
    run(async () => {
      if (!enabled && !window.confirm(t('dev.confirmDisable', { id: d.id }))) return;
      onChange(await api.patch<Device>(`/api/devices/${encodeURIComponent(d.id)}`, { enabled }));
    });
  const rotate = () =>
    run(async () => {
      if (!window.confirm(t('dev.confirmRotate', { id: d.id }))) return;
      setKey(await api.post<NewKey>(`/api/devices/${encodeURIComponent(d.id)}/key`));
    });
  const remove = () =>
    run(async () => {
      if (!window.confirm(t('dev.confirmDelete', { id: d.id }))) return;
      await api.del(`/api/devices/${encodeURIComponent(d.id)}`);
      navigate('/devices');
    });

  return (
    <div className="stack" data-testid="device-detail" data-device-id={d.id} data-health={d.health}>
      <div className="page-head">
        <div>
          <h1>
            <code>{d.id}</code> · {d.name}
          </h1>
          <div className="report-head">
            <HealthChip health={d.health} testId="device-detail-health" />
            <ConnectionText device={d} />
            {d.demo && <span className="badge badge-warn">{t('dev.demo')}</span>}
          </div>
        </div>
      </div>

      {key && <DeviceKey id={d.id} secret={key.key} onClose={() => setKey(null)} />}
      <ErrorBox error={error} testId="device-action-error" />

      {admin && (
        <div className="action-bar" role="toolbar" aria-label={t('common.actions')} data-testid="device-actions">
          <button
            type="button"
            className="btn"
            disabled={busy}
            onClick={() => void setEnabled(!d.enabled)}
            data-testid={d.enabled ? 'device-disable' : 'device-enable'}
          >
            {t(d.enabled ? 'dev.disable' : 'dev.enable')}
          </button>
          <button type="button" className="btn" disabled={busy} onClick={() => void rotate()} data-testid="device-rotate">
            {t('dev.rotateKey')}
          </button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void remove()} data-testid="device-delete">
            {t('dev.delete')}
          </button>
        </div>
      )}

      <div className="detail-layout">
        <section className="card">
          <h2 className="card-title">{t('dev.activity')}</h2>
          <dl className="facts facts-2">
            <div>
              <dt>{t('dev.lastSeen')}</dt>
              <dd data-testid="device-last-seen">
                {d.last_seen ? (
                  <>
                    <strong>{formatRelative(d.last_seen, now, locale)}</strong>{' '}
                    <span className="muted small">{formatDateTime(d.last_seen, locale)}</span>
                  </>
                ) : (
                  t('dev.never')
                )}
              </dd>
            </div>
            <div>
              <dt>{t('dev.silence')}</dt>
              <dd>{t('dev.minutes', { n: formatNumber(d.silence_secs / 60, locale, 1) })}</dd>
            </div>
            <div>
              <dt>{t('dev.messages')}</dt>
              <dd data-testid="device-messages">{formatNumber(d.messages, locale)}</dd>
            </div>
            <div>
              <dt>{t('dev.rejected')}</dt>
              <dd data-testid="device-rejected">{formatNumber(d.rejected, locale)}</dd>
            </div>
          </dl>
          <h3>{t('dev.lastError')}</h3>
          {d.last_error ? (
            <div className="alert alert-error" data-testid="device-last-error">
              <code>{d.last_error}</code>
              {d.last_error_at && <p className="small">{formatDateTime(d.last_error_at, locale)}</p>}
            </div>
          ) : (
            <p className="muted">{t('dev.noError')}</p>
          )}
          <h3>{t('dev.connection')}</h3>
          <dl className="facts facts-2">
            <div>
              <dt>{t('dev.connection')}</dt>
              <dd>
                <ConnectionText device={d} />
                {d.connection && <span className="small muted"> {t('dev.since', { time: formatDateTime(d.connection.since, locale) })}</span>}
              </dd>
            </div>
            {d.connection?.peer && (
              <div>
                <dt>{t('dev.peer')}</dt>
                <dd>
                  <code>{d.connection.peer}</code>
                </dd>
              </div>
            )}
            {d.connection?.last_disconnect && (
              <div>
                <dt>{t('dev.lastDisconnect')}</dt>
                <dd>{d.connection.last_disconnect}</dd>
              </div>
            )}
          </dl>
        </section>

        <section className="card">
          <h2 className="card-title">{t('dev.entity')}</h2>
          <dl className="facts">
            <div>
              <dt>{t('dev.entity')}</dt>
              <dd>
                <Link to={`/monitoring/entity/${encodeURIComponent(d.entity_id)}`} data-testid="device-entity-link">
                  <code>{d.entity_id}</code>
                </Link>
              </dd>
            </div>
            <div>
              <dt>{t('dev.entityType')}</dt>
              <dd>
                {domain ? `${t(`monDomain.${domain.id}`)} (${type})` : type}
              </dd>
            </div>
            <div>
              <dt>{t('dev.owner')}</dt>
              <dd>{d.owner.name}</dd>
            </div>
            {d.model && (
              <div>
                <dt>{t('dev.model')}</dt>
                <dd>{d.model}</dd>
              </div>
            )}
            <div>
              <dt>{t('dev.createdAt')}</dt>
              <dd>{formatDateTime(d.created_at, locale)}</dd>
            </div>
          </dl>
          <h3>{t('dev.mapping')}</h3>
          <div className="table-scroll">
            <table className="table" data-testid="device-mapping">
              <thead>
                <tr>
                  <th scope="col">{t('dev.topic')}</th>
                  <th scope="col">{t('dev.measure')}</th>
                  <th scope="col">{t('dev.attribute')}</th>
                  <th scope="col">{t('dev.unitCode')}</th>
                </tr>
              </thead>
              <tbody>
                {lines.map((l) => (
                  <tr key={`${l.topic}/${l.measure}`}>
                    <td data-label={t('dev.topic')}>
                      <code>
                        devices/{d.id}/{l.topic}
                      </code>
                      {l.entity && <div className="small muted">→ {l.entity}</div>}
                    </td>
                    {l.measure === '*' ? (
                      <td colSpan={3} className="muted" data-label={t('dev.measure')}>
                        {t('dev.passThrough')}
                      </td>
                    ) : (
                      <>
                        <td data-label={t('dev.measure')}>
                          <code>{l.measure}</code>
                        </td>
                        <td data-label={t('dev.attribute')}>{l.attr}</td>
                        <td data-label={t('dev.unitCode')}>{l.unitCode ?? '—'}</td>
                      </>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>

      {admin && <SettingsForm d={d} onChange={onChange} />}
    </div>
  );
}

function SettingsForm({ d, onChange }: { d: Device; onChange: (d: Device) => void }) {
  const { t } = useApp();
  const [name, setName] = useState(d.name);
  const [silence, setSilence] = useState(String(d.silence_secs));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onChange(await api.patch<Device>(`/api/devices/${encodeURIComponent(d.id)}`, { name: name.trim(), silence_secs: Number(silence) }));
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card">
      <h2 className="card-title">{t('dev.settings')}</h2>
      <form className="form form-inline" onSubmit={submit} data-testid="device-settings">
        <InputField label={t('dev.name')} value={name} onChange={(e) => setName(e.target.value)} error={fieldError(error, 'name')} required />
        <SilenceField value={silence} onChange={setSilence} error={fieldError(error, 'silence_secs')} />
        <ErrorBox error={error} fields={['name', 'silence_secs']} />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? t('common.saving') : t('common.save')}
          </button>
        </div>
        {saved && <Notice>{t('common.saved')}</Notice>}
      </form>
    </section>
  );
}
