import type { LogEntry } from '../lib/cluster';
import styles from './Cluster.module.css';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function isoOf(ms: number): string | undefined {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The cluster's recent events, newest first; new lines are announced politely. */
export function EventLog({ entries }: { entries: readonly LogEntry[] | null }) {
  return (
    <div className={styles.logWrap}>
      <ol
        className={styles.log}
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        aria-label="Cluster events, newest first"
      >
        {entries !== null &&
          entries.map((e) => (
            <li
              key={e.id}
              className={styles.logLine}
              data-testid="event-line"
              data-kind={e.kind}
              data-source={e.source}
            >
              <time className={styles.logTime} dateTime={isoOf(e.at)}>
                {isoOf(e.at) === undefined ? '--:--:--' : timeFormat.format(e.at)}
              </time>
              <span className={`${styles.logKind} ${e.source === 'client' ? styles.logKindClient : ''}`}>{e.kind}</span>
              <span className={styles.logMessage}>{e.message}</span>
            </li>
          ))}
      </ol>
      {entries !== null && entries.length === 0 && (
        <p className={styles.empty}>No events yet. Joins, leaves, suspicions and handoffs show up here.</p>
      )}
    </div>
  );
}
