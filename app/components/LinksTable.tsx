'use client';

import NextLink from 'next/link';
import { useEffect, useRef, useState } from 'react';
import type { Link } from '../lib/api';
import { formatDate, formatDateTime, withoutScheme } from '../lib/format';
import { CopyButton } from './CopyButton';
import { StatusBadge } from './StatusBadge';
import styles from './LinksTable.module.css';

/** The caller's links, one row each; a stack of cards on narrow screens. */
export function LinksTable({
  links,
  onEdit,
  onDelete,
}: {
  links: readonly Link[];
  onEdit: (link: Link) => void;
  onDelete: (link: Link) => void;
}) {
  return (
    <div className={`card ${styles.wrap}`}>
      <table className={styles.table} data-testid="links-table">
        <caption className="visually-hidden">Your links</caption>
        <thead>
          <tr>
            <th scope="col">Link</th>
            <th scope="col">Status</th>
            <th scope="col" className={styles.num}>
              Views
            </th>
            <th scope="col" className={styles.num}>
              Bots
            </th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {links.map((link) => (
            <LinkRow key={link.slug} link={link} onEdit={onEdit} onDelete={onDelete} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LinkRow({
  link,
  onEdit,
  onDelete,
}: {
  link: Link;
  onEdit: (link: Link) => void;
  onDelete: (link: Link) => void;
}) {
  const statsHref = `/links/${encodeURIComponent(link.slug)}`;
  return (
    <tr data-testid="link-row" data-slug={link.slug} className={styles.row}>
      <td className={styles.linkColumn}>
        <div className={styles.linkCell}>
          <NextLink href={statsHref} className={styles.shortUrl} data-testid="row-short-url">
            {withoutScheme(link.shortUrl)}
          </NextLink>
          <span className={styles.target} title={link.url}>
            {link.url}
          </span>
          {(link.hasPassword || link.expiresAt !== null || link.maxClicks !== null) && (
            <span className={styles.flags}>
              {link.hasPassword && <span>Password</span>}
              {link.expiresAt !== null && <span>Expires {formatDateTime(link.expiresAt)}</span>}
              {link.maxClicks !== null && <span>Max {link.maxClicks} clicks</span>}
            </span>
          )}
        </div>
      </td>
      <td data-label="Status">
        <StatusBadge status={link.status} />
      </td>
      <td data-label="Views" className={styles.num}>
        <LiveNumber value={link.total} testId="row-total" />
      </td>
      <td data-label="Bots" className={styles.num}>
        <LiveNumber value={link.bots} testId="row-bots" />
      </td>
      <td data-label="Created" className={styles.created}>
        <time dateTime={link.createdAt} title={formatDateTime(link.createdAt)}>
          {formatDate(link.createdAt)}
        </time>
      </td>
      <td className={styles.actions}>
        <CopyButton
          text={link.shortUrl}
          what={`short URL of ${link.slug}`}
          className="btn btn-ghost btn-small"
          testId="row-copy-button"
          iconOnly
        />
        <NextLink
          href={statsHref}
          className="btn btn-ghost btn-small"
          aria-label={`Stats for ${link.slug}`}
          data-testid="stats-link"
        >
          Stats
        </NextLink>
        <button
          type="button"
          className="btn btn-ghost btn-small"
          onClick={() => onEdit(link)}
          aria-label={`Edit ${link.slug}`}
          data-testid="edit-button"
        >
          Edit
        </button>
        <button
          type="button"
          className={`btn btn-ghost btn-small ${styles.delete}`}
          onClick={() => onDelete(link)}
          aria-label={`Delete ${link.slug}`}
          data-testid="delete-button"
        >
          Delete
        </button>
      </td>
    </tr>
  );
}

/** A count that briefly highlights when a live update changes it. */
function LiveNumber({ value, testId }: { value: number; testId: string }) {
  const previous = useRef(value);
  const [changes, setChanges] = useState(0);
  useEffect(() => {
    if (previous.current === value) return;
    previous.current = value;
    setChanges((n) => n + 1);
  }, [value]);
  // A new key restarts the highlight animation on every change.
  return (
    <span key={changes} data-testid={testId} className={changes > 0 ? styles.bumped : undefined}>
      {value}
    </span>
  );
}

/** Placeholder rows with the height of real ones while the list loads. */
export function LinksTableSkeleton() {
  return (
    <div className={`card ${styles.wrap}`} aria-busy="true" aria-label="Loading your links">
      <div className={styles.skeletonRows}>
        {[0, 1, 2].map((i) => (
          <div key={i} className={styles.skeletonRow}>
            <span className={`skeleton ${styles.skeletonTitle}`} />
            <span className={`skeleton ${styles.skeletonText}`} />
          </div>
        ))}
      </div>
    </div>
  );
}
