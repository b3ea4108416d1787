import type { LinkStats } from '../lib/api';
import styles from './PreferenceList.module.css';

/** Which partition holds the link and the nodes that store it, in preference order. */
export function PreferenceList({ stats }: { stats: Pick<LinkStats, 'partition' | 'nodes'> | null }) {
  if (stats === null) {
    return (
      <div className={styles.skeletons} aria-hidden="true">
        <span className="skeleton" />
        <span className="skeleton" />
        <span className="skeleton" />
      </div>
    );
  }
  return (
    <div className={styles.wrap}>
      <p className={styles.partition}>
        Partition <strong data-testid="partition">{stats.partition}</strong>, stored on {stats.nodes.length} node
        {stats.nodes.length === 1 ? '' : 's'}:
      </p>
      <ol className={styles.list} data-testid="preference-list">
        {stats.nodes.map((node) => (
          <li key={node.name} className={styles.node} data-node={node.name} data-role={node.role} data-up={node.up}>
            <span className={styles.name}>{node.name}</span>
            <span className={node.role === 'primary' ? 'badge badge-accent' : 'badge badge-warning'}>{node.role}</span>
            <span className={`${styles.health} ${node.up ? styles.up : styles.down}`}>
              <span className={styles.dot} aria-hidden="true" />
              {node.up ? 'up' : 'down'}
            </span>
          </li>
        ))}
      </ol>
      <p className={styles.hint}>
        Primaries own the partition; a fallback holds its copy while a primary is down and hands it back later.
      </p>
    </div>
  );
}
