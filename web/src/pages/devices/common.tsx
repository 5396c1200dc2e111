import type { Device, DeviceHealth, ProvisionedDevice } from '../../api/devices';
import { useApp } from '../../app/AppContext';
import { InputField } from '../../components/Forms';
import { OnceSecret } from '../../components/Secret';

export function HealthChip({ health, testId = 'device-health' }: { health: DeviceHealth; testId?: string }) {
  const { td } = useApp();
  return (
    <span className={`state-chip health-${health}`} data-testid={testId} data-health={health}>
      <span className="state-dot" aria-hidden="true" />
      {td(`dev.health.${health}`, health)}
    </span>
  );
}

export function ConnectionText({ device }: { device: Pick<Device, 'connection'> }) {
  const { t } = useApp();
  const on = device.connection?.connected === true;
  return (
    <span className={`status status-${on ? 'ok' : 'off'}`} data-testid="device-connected" data-connected={on}>
      {t(on ? 'dev.connected' : 'dev.notConnected')}
    </span>
  );
}

/** The key of a device just provisioned or rotated: shown once, with how to connect. */
export function DeviceKey({
  id,
  secret,
  mqtt,
  onClose,
}: {
  id: string;
  secret: string;
  mqtt?: ProvisionedDevice['mqtt'];
  onClose: () => void;
}) {
  const { t } = useApp();
  return (
    <OnceSecret
      title={t('dev.newKey', { id })}
      note={t('dev.keyOnce')}
      secret={secret}
      testId="device-key"
      valueTestId="device-key-value"
      copyTestId="device-key-copy"
      onClose={onClose}
    >
      {mqtt && (
        <dl className="facts">
          <div>
            <dt>{t('dev.mqttUser')}</dt>
            <dd>
              <code>{mqtt.username}</code>
            </dd>
          </div>
          <div>
            <dt>{t('dev.publishTo')}</dt>
            <dd>
              {mqtt.publish_to.map((p) => (
                <code key={p} className="chip">
                  {p}
                </code>
              ))}
            </dd>
          </div>
        </dl>
      )}
    </OnceSecret>
  );
}

/** The silence limit in seconds (30 s to 30 days), as the server checks it. */
export function SilenceField({
  value,
  onChange,
  error,
  optional,
  testId,
}: {
  value: string;
  onChange: (v: string) => void;
  error?: string;
  optional?: boolean;
  testId?: string;
}) {
  const { t } = useApp();
  return (
    <InputField
      label={t('dev.silenceSecs')}
      hint={t('dev.silenceHint')}
      type="number"
      min={30}
      max={2592000}
      inputMode="numeric"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      error={error}
      optional={optional}
      required={!optional}
      data-testid={testId}
    />
  );
}
