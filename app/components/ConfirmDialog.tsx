'use client';

import { useState, type ReactNode } from 'react';
import { errorMessage } from '../lib/api';
import { Dialog } from './Dialog';
import { FormError } from './Field';

/** "Are you sure?" for destructive actions; shows the server's reason when it fails. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function close() {
    if (busy) return;
    setError(null);
    onClose();
  }

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setBusy(false);
      onClose();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <Dialog open={open} onClose={close} title={title} testId="confirm-dialog">
      <div>{children}</div>
      {error !== null && <FormError boxed>{error}</FormError>}
      <div className="dialog-actions">
        <button type="button" className="btn btn-secondary" onClick={close} disabled={busy} autoFocus>
          Cancel
        </button>
        <button type="button" className="btn btn-danger" onClick={confirm} disabled={busy} data-testid="confirm-button">
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
