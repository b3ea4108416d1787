'use client';

import NextLink from 'next/link';
import type { Link } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { CopyButton } from './CopyButton';
import { QrCode } from './QrCode';
import styles from './ResultCard.module.css';

/** The link just created: its short URL to copy or scan, and the way to its stats. */
export function ResultCard({ link }: { link: Link }) {
  return (
    <section className={`card ${styles.card}`} data-testid="result-card" aria-labelledby="result-title">
      <div className={styles.body}>
        <h2 id="result-title" className={styles.title}>
          Your short link is ready
        </h2>
        <a className={styles.shortUrl} href={link.shortUrl} target="_blank" rel="noreferrer" data-testid="short-url">
          {link.shortUrl}
        </a>
        <p className={styles.target} title={link.url}>
          <span className="visually-hidden">Goes to </span>
          <span aria-hidden="true">→ </span>
          {link.url}
        </p>
        <LinkOptions link={link} />
        <div className={styles.actions}>
          <CopyButton text={link.shortUrl} what="short URL" className="btn btn-primary" />
          <NextLink
            href={`/links/${encodeURIComponent(link.slug)}`}
            className="btn btn-secondary"
            data-testid="stats-link"
          >
            View stats
          </NextLink>
        </div>
      </div>
      <QrCode url={link.shortUrl} />
    </section>
  );
}

function LinkOptions({ link }: { link: Link }) {
  const options: string[] = [];
  if (link.expiresAt !== null) options.push(`Expires ${formatDateTime(link.expiresAt)}`);
  if (link.maxClicks !== null) options.push(`Stops after ${link.maxClicks} clicks`);
  if (link.hasPassword) options.push('Password protected');
  if (link.redirectStatus !== 302) options.push(`${link.redirectStatus} redirect`);
  if (options.length === 0) return null;
  return (
    <ul className={styles.options} aria-label="Link options">
      {options.map((option) => (
        <li key={option} className="badge">
          {option}
        </li>
      ))}
    </ul>
  );
}
