import { useState } from 'react';
import { useApp } from '../app/AppContext';
import { useLiveTopic } from '../app/hooks';
import { parseAlarm, type Alarm } from '../lib/reports';
import { Link } from '../router';
import { Icon } from './Icons';

/**
 * Urgent reports announced on the live channel (`alarm` topic): a banner that flashes (slowly,
 * and not at all with reduced motion; no sound) until each alarm is opened or dismissed.
 */
export function AlarmBanner() {
  const { t } = useApp();
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  useLiveTopic('alarm', (data) => {
    const a = parseAlarm(data);
    if (a) setAlarms((list) => [a, ...list.filter((x) => x.id !== a.id)].slice(0, 5));
  });
  if (alarms.length === 0) return null;
  const dismiss = (id: number) => setAlarms((list) => list.filter((x) => x.id !== id));
  return (
    <div className="alarm-banner" role="alert" data-testid="alarm-banner">
      <Icon name="alarm" size={24} className="alarm-icon" />
      <ul>
        {alarms.map((a) => (
          <li key={a.id}>
            <strong>{t('alarm.urgentReport')}</strong>{' '}
            <Link to={`/reports/${a.id}`} onClick={() => dismiss(a.id)} data-testid="alarm-open">
              {a.code}
            </Link>
            {a.title && <span> · {a.title}</span>}
            <button type="button" className="btn btn-small btn-ghost" onClick={() => dismiss(a.id)} aria-label={t('alarm.dismiss', { code: a.code })}>
              {t('alarm.ok')}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
