import type { ClusterView } from '../lib/api';
import { handoffProgress } from '../lib/cluster';
import styles from './Cluster.module.css';

/** Partitions being copied to another node right now, with how far each copy has come. */
export function ClusterHandoffs({ view, colors }: { view: ClusterView; colors: ReadonlyMap<string, string> }) {
  const handoffs = view.handoffs.map((h) => handoffProgress(h, view));
  if (handoffs.length === 0) {
    return (
      <p className={styles.empty} data-testid="handoffs-empty">
        No handoffs in progress. Partitions move when a node joins or leaves, and hinted data goes home when a node
        comes back.
      </p>
    );
  }
  return (
    <ul className={styles.handoffs}>
      {handoffs.map((h) => {
        const known = h.total !== null && h.total > 0 && h.sent !== null;
        const percent = known ? Math.min(100, Math.round((h.sent! / h.total!) * 100)) : null;
        const label = `Partition ${h.partition}${h.from ? ` from ${h.from}` : ''} to ${h.to}`;
        return (
          <li key={h.key} className={styles.handoff} data-testid="handoff" data-partition={h.partition}>
            <div className={styles.handoffHead}>
              <span>
                Partition <strong className={styles.tabular}>{h.partition}</strong>{' '}
                {h.from && (
                  <>
                    <span className={styles.mono} style={{ color: colors.get(h.from) }}>
                      {h.from}
                    </span>{' '}
                    <span aria-hidden="true">→</span>
                    <span className="visually-hidden">to</span>{' '}
                  </>
                )}
                {!h.from && <span className="visually-hidden">to </span>}
                <span className={styles.mono} style={{ color: colors.get(h.to) }}>
                  {h.to}
                </span>
                {h.kind && <span className={styles.handoffKind}> · {h.kind}</span>}
              </span>
              <span className={styles.handoffCount}>
                {known ? `${h.sent} / ${h.total} keys` : h.sent !== null && h.sent > 0 ? `${h.sent} keys` : 'starting…'}
              </span>
            </div>
            <div
              className={`${styles.progress} ${percent === null ? styles.indeterminate : ''}`}
              role="progressbar"
              aria-label={label}
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={percent ?? undefined}
              aria-valuetext={percent === null ? 'in progress' : `${percent}%`}
            >
              <span className={styles.progressBar} style={percent === null ? undefined : { width: `${percent}%` }} />
            </div>
          </li>
        );
      })}
    </ul>
  );
}
