'use client';

import type { LiveState } from '../lib/live';
import styles from './LiveIndicator.module.css';

const labels: Record<LiveState, string> = {
  idle: 'Connecting…',
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
};

/**
 * The state of the live connection: a green dot and "Live" while events flow, amber while
 * the socket reconnects. `live=false` with a connected socket means this view's updates
 * come from polling (the server refused the subscription).
 */
export function LiveIndicator({
  state,
  live = state === 'connected',
  suffix,
  testId = 'live-indicator',
}: {
  state: LiveState;
  live?: boolean;
  suffix?: string;
  testId?: string;
}) {
  const tone = live ? styles.on : state === 'connected' || state === 'reconnecting' ? styles.paused : styles.pending;
  const label = state === 'connected' && !live ? 'Polling' : labels[state];
  return (
    <span className={`${styles.live} ${tone}`} role="status" data-testid={testId} data-state={live ? 'live' : state}>
      <span className={styles.dot} aria-hidden="true" />
      {label}
      {suffix !== undefined && ` · ${suffix}`}
    </span>
  );
}
