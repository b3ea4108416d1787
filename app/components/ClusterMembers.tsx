'use client';

import type { ClusterMember, ClusterView } from '../lib/api';
import { livenessTone, ownership, statusTone } from '../lib/cluster';
import styles from './Cluster.module.css';

export type AdminAction = 'leave' | 'remove';

/** The ring's members as the connected node sees them, with the admin actions per member. */
export function ClusterMembers({
  view,
  colors,
  canAdmin,
  adminHintId,
  onAction,
}: {
  view: ClusterView;
  colors: ReadonlyMap<string, string>;
  canAdmin: boolean;
  adminHintId: string;
  onAction: (action: AdminAction, member: ClusterMember) => void;
}) {
  const counts = ownership(view.ring);
  return (
    <div className={styles.tableScroll} tabIndex={0} role="region" aria-label="Members (scrolls sideways)">
      <table className={styles.table} data-testid="members-table">
        <caption className="visually-hidden">Members of the ring</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Address</th>
            <th scope="col">Status</th>
            <th scope="col">Liveness</th>
            <th scope="col" className={styles.num}>
              Partitions
            </th>
            <th scope="col">
              <span className="visually-hidden">Admin actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {view.members.map((m) => {
            const c = counts.get(m.name);
            const gone = m.status === 'removed';
            return (
              <tr
                key={m.name}
                data-testid="member-row"
                data-name={m.name}
                data-status={m.status}
                data-liveness={m.liveness}
              >
                <th scope="row" className={styles.nodeCell}>
                  <span
                    className={styles.swatch}
                    style={{ background: colors.get(m.name) ?? '#9ca3af' }}
                    aria-hidden="true"
                  />
                  <span className={styles.mono}>{m.name}</span>
                  {m.name === view.node && <span className="badge badge-accent">this node</span>}
                </th>
                <td className={styles.mono}>{m.addr}</td>
                <td>
                  <span className={statusTone[m.status] ?? 'badge'} data-testid="member-status">
                    {m.status}
                  </span>
                </td>
                <td>
                  <span className={livenessTone[m.liveness] ?? 'badge'} data-testid="member-liveness">
                    <span className={styles.badgeDot} aria-hidden="true" />
                    {m.liveness}
                  </span>
                </td>
                <td className={styles.num}>
                  {c?.owned ?? 0}
                  {c !== undefined && c.incoming > 0 && <span className={styles.incoming}> +{c.incoming}</span>}
                </td>
                <td className={styles.actions}>
                  <button
                    type="button"
                    className="btn btn-secondary btn-small"
                    disabled={!canAdmin || gone}
                    aria-describedby={canAdmin ? undefined : adminHintId}
                    aria-label={`Leave: ask ${m.name} to hand off its partitions and leave`}
                    title={canAdmin ? undefined : 'Enter the admin token first'}
                    onClick={() => onAction('leave', m)}
                    data-testid="leave-button"
                  >
                    Leave
                  </button>
                  <button
                    type="button"
                    className={`btn btn-secondary btn-small ${styles.danger}`}
                    disabled={!canAdmin || gone}
                    aria-describedby={canAdmin ? undefined : adminHintId}
                    aria-label={`Remove ${m.name} from the ring`}
                    title={canAdmin ? undefined : 'Enter the admin token first'}
                    onClick={() => onAction('remove', m)}
                    data-testid="remove-button"
                  >
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
