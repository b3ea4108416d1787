'use client';

import { usePathname } from 'next/navigation';
import { useEffect, useRef } from 'react';
import { useSession } from './SessionProvider';
import styles from './SessionNotice.module.css';

/** A one-line message carried across a navigation (set by the sign-in and sign-up forms). */
export function SessionNotice() {
  const pathname = usePathname();
  const { notice, showNotice } = useSession();
  const shownOn = useRef<string | null>(null);
  const visible = notice !== null && notice.path === pathname;

  // Shown once on its page; leaving that page dismisses it.
  useEffect(() => {
    if (visible) shownOn.current = pathname;
    else if (shownOn.current !== null) {
      shownOn.current = null;
      showNotice(null);
    }
  }, [visible, pathname, showNotice]);

  return (
    <div role="status" aria-live="polite">
      {visible && (
        <div className={styles.notice} data-testid="session-notice">
          <span>{notice.text}</span>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => showNotice(null)}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
