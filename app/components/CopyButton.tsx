'use client';

import { useEffect, useState } from 'react';
import { copyText } from '../lib/clipboard';

const copiedShownMs = 2000;

/** A button that copies `text` and says "Copied" for a moment (or why it could not). */
export function CopyButton({
  text,
  label = 'Copy',
  what,
  testId = 'copy-button',
  className = 'btn btn-secondary',
  iconOnly = false,
}: {
  text: string;
  label?: string;
  /** What is copied, for screen readers: "Copy short URL". */
  what: string;
  testId?: string;
  className?: string;
  /** Only the icon (and "Copied" feedback); the accessible name still says what is copied. */
  iconOnly?: boolean;
}) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), copiedShownMs);
    return () => clearTimeout(timer);
  }, [state]);

  async function copy() {
    try {
      await copyText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  }

  const shown = state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : label;
  return (
    <>
      <button
        type="button"
        className={className}
        onClick={copy}
        data-testid={testId}
        aria-label={state === 'idle' ? `${label} ${what}` : undefined}
        title={iconOnly ? `${label} ${what}` : undefined}
      >
        <CopyIcon done={state === 'copied'} />
        {iconOnly ? <span className="visually-hidden">{shown}</span> : <span>{shown}</span>}
      </button>
      <span className="visually-hidden" role="status" aria-live="polite">
        {state === 'copied'
          ? `${what} copied to the clipboard`
          : state === 'failed'
            ? `Could not copy the ${what}`
            : ''}
      </span>
    </>
  );
}

function CopyIcon({ done }: { done: boolean }) {
  return (
    <svg
      width="16"
      height="16"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
    >
      {done ? (
        <path d="M20 6 9 17l-5-5" />
      ) : (
        <>
          <rect x="9" y="9" width="12" height="12" rx="2" />
          <path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1" />
        </>
      )}
    </svg>
  );
}
