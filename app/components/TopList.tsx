import styles from './TopList.module.css';

/** Counts by name (referrers, devices) with a bar for each one's share. */
export function TopList({
  items,
  emptyText,
  testId,
  label,
}: {
  items: { name: string; n: number }[] | null;
  emptyText: string;
  testId: string;
  label: string;
}) {
  if (items === null) {
    return (
      <div className={styles.skeletons} aria-hidden="true">
        <span className="skeleton" />
        <span className="skeleton" />
        <span className="skeleton" />
      </div>
    );
  }
  const total = items.reduce((sum, item) => sum + item.n, 0);
  if (items.length === 0) {
    return (
      <p className={styles.empty} data-testid={testId}>
        {emptyText}
      </p>
    );
  }
  return (
    <ul className={styles.list} data-testid={testId} aria-label={label}>
      {items.map((item) => {
        const share = total === 0 ? 0 : item.n / total;
        return (
          <li key={item.name} className={styles.item} data-name={item.name}>
            <span className={styles.bar} style={{ width: `${Math.round(share * 100)}%` }} aria-hidden="true" />
            <span className={styles.name}>{item.name}</span>
            <span className={styles.count}>
              <span data-testid="item-count">{item.n}</span>
              <span className={styles.share}> · {Math.round(share * 100)}%</span>
            </span>
          </li>
        );
      })}
    </ul>
  );
}
