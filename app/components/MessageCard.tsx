import type { ReactNode } from 'react';
import styles from './MessageCard.module.css';

/** A centered card that explains an empty or missing thing and offers the next step. */
export function MessageCard({
  eyebrow,
  title,
  children,
  actions,
  testId,
  headingLevel = 2,
}: {
  eyebrow?: string;
  title: string;
  children?: ReactNode;
  actions?: ReactNode;
  testId?: string;
  headingLevel?: 1 | 2;
}) {
  const Heading = headingLevel === 1 ? 'h1' : 'h2';
  return (
    <section className={`card ${styles.card}`} data-testid={testId}>
      {eyebrow !== undefined && <p className={`badge badge-accent ${styles.eyebrow}`}>{eyebrow}</p>}
      <Heading className={styles.title}>{title}</Heading>
      {children !== undefined && <div className={styles.text}>{children}</div>}
      {actions !== undefined && <div className={styles.actions}>{actions}</div>}
    </section>
  );
}
