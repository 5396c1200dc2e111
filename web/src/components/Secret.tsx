import { useState, type ReactNode } from 'react';
import { useApp } from '../app/AppContext';

export function CopyButton({ text, testId }: { text: string; testId?: string }) {
  const { t } = useApp();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        );
      }}
      data-testid={testId}
    >
      {copied ? t('common.copied') : t('common.copy')}
    </button>
  );
}

interface OnceSecretProps {
  title: ReactNode;
  /** Why it is shown only now. */
  note: string;
  secret: string;
  testId: string;
  valueTestId: string;
  copyTestId: string;
  onClose: () => void;
  /** More to say about it (where to use it). */
  children?: ReactNode;
}

/** A secret the server shows once (a token, a key), with a copy button and a way to dismiss it. */
export function OnceSecret({ title, note, secret, testId, valueTestId, copyTestId, onClose, children }: OnceSecretProps) {
  const { t } = useApp();
  return (
    <div className="alert alert-warn token-once" role="alert" data-testid={testId}>
      <strong>{title}</strong>
      <p>{note}</p>
      <div className="secret-row">
        <code className="secret" data-testid={valueTestId}>
          {secret}
        </code>
        <CopyButton text={secret} testId={copyTestId} />
      </div>
      {children}
      <button type="button" className="btn btn-small btn-ghost" onClick={onClose}>
        {t('common.close')}
      </button>
    </div>
  );
}
