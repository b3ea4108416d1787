'use client';

import NextLink from 'next/link';
import { useEffect, useState } from 'react';
import { api, ApiError, errorMessage, type Link } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { useLinkStats } from '../lib/useLinkStats';
import { CopyButton } from './CopyButton';
import { FormError } from './Field';
import { LiveIndicator } from './LiveIndicator';
import { MessageCard } from './MessageCard';
import { PreferenceList } from './PreferenceList';
import { StatusBadge } from './StatusBadge';
import { TopList } from './TopList';
import { ViewsChart } from './ViewsChart';
import styles from './LinkDetails.module.css';

/** One link: what it is, its live counts, where its views come from and where it is stored. */
export function LinkDetails({ slug }: { slug: string }) {
  const [link, setLink] = useState<Link | null>(null);
  const [linkError, setLinkError] = useState<unknown>(null);
  const { stats, error: statsError, live, connection } = useLinkStats(slug);

  useEffect(() => {
    let active = true;
    setLink(null);
    setLinkError(null);
    api.getLink(slug).then(
      (answer) => active && setLink(answer),
      (error: unknown) => active && setLinkError(error),
    );
    return () => {
      active = false;
    };
  }, [slug]);

  const notFound = [linkError, statsError].some((e) => e instanceof ApiError && e.status === 404);
  if (notFound) {
    return (
      <div className="page">
        <MessageCard
          eyebrow="Not found"
          title="This link was not found"
          headingLevel={1}
          testId="link-not-found"
          actions={
            <>
              <NextLink href="/links" className="btn btn-primary">
                My links
              </NextLink>
              <NextLink href="/" className="btn btn-secondary">
                Shorten a link
              </NextLink>
            </>
          }
        >
          <p>
            There is no link <code>/{slug}</code>, or it is not yours. Links belong to the browser session or account
            that created them. Sign in to see the links of your account.
          </p>
        </MessageCard>
      </div>
    );
  }

  return (
    <div className="page">
      <nav aria-label="Breadcrumb" className={styles.breadcrumb}>
        <NextLink href="/links">My links</NextLink>
        <span aria-hidden="true"> / </span>
        <span aria-current="page">{slug}</span>
      </nav>

      <LinkSummary slug={slug} link={link} error={linkError} />

      {statsError !== null && stats !== null && (
        <p className={styles.stale} role="status">
          Live updates paused: {errorMessage(statsError)} Retrying…
        </p>
      )}
      {statsError !== null && stats === null && (
        <div className="card">
          <FormError boxed>{errorMessage(statsError)} Retrying…</FormError>
        </div>
      )}

      <section className={styles.counters} aria-label="Totals">
        <StatCard label="Views" hint="People, not bots" value={stats?.total} testId="stat-total" />
        <StatCard label="Bots" hint="Crawlers and link previews" value={stats?.bots} testId="stat-bots" />
        <StatCard label="Unique visitors" hint="Distinct people" value={stats?.uniques} testId="stat-uniques" />
      </section>

      <section className="card" aria-labelledby="chart-title">
        <div className={styles.cardHeader}>
          <h2 id="chart-title" className="card-title">
            Views per minute
          </h2>
          <LiveIndicator state={connection} live={live} suffix="last 60 minutes" />
        </div>
        <ViewsChart series={stats?.series ?? null} />
      </section>

      <div className={styles.columns}>
        <section className="card" aria-labelledby="referrers-title">
          <h2 id="referrers-title" className="card-title">
            Referrers
          </h2>
          <TopList
            items={stats?.referrers.map((r) => ({ name: r.host, n: r.n })) ?? null}
            emptyText="No views yet, so no referrers."
            testId="referrers"
            label="Referrers"
          />
        </section>
        <section className="card" aria-labelledby="devices-title">
          <h2 id="devices-title" className="card-title">
            Devices
          </h2>
          <TopList
            items={stats?.devices.map((d) => ({ name: d.device, n: d.n })) ?? null}
            emptyText="No views yet, so no devices."
            testId="devices"
            label="Devices"
          />
        </section>
        <section className="card" aria-labelledby="placement-title">
          <h2 id="placement-title" className="card-title">
            Where this link lives
          </h2>
          <PreferenceList stats={stats} />
        </section>
      </div>
    </div>
  );
}

function LinkSummary({ slug, link, error }: { slug: string; link: Link | null; error: unknown }) {
  return (
    <header className={`card ${styles.summary}`}>
      <div className={styles.summaryMain}>
        <h1 className={styles.slug}>
          /{slug} {link !== null && <StatusBadge status={link.status} />}
        </h1>
        {link !== null ? (
          <>
            <a
              href={link.shortUrl}
              className={styles.shortUrl}
              target="_blank"
              rel="noreferrer"
              data-testid="short-url"
            >
              {link.shortUrl}
            </a>
            <p className={styles.target}>
              <span className="visually-hidden">Goes to </span>
              <span aria-hidden="true">→ </span>
              <a href={link.url} rel="noreferrer" target="_blank" title={link.url}>
                {link.url}
              </a>
            </p>
            <p className={styles.meta}>
              Created {formatDateTime(link.createdAt)}
              {link.expiresAt !== null && ` · expires ${formatDateTime(link.expiresAt)}`}
              {link.maxClicks !== null && ` · stops after ${link.maxClicks} clicks`}
              {link.hasPassword && ' · password protected'}
              {` · ${link.redirectStatus} redirect`}
            </p>
          </>
        ) : error !== null ? (
          <FormError>{errorMessage(error)}</FormError>
        ) : (
          <div className={styles.summarySkeleton} aria-hidden="true">
            <span className="skeleton" />
            <span className="skeleton" />
            <span className="skeleton" />
          </div>
        )}
      </div>
      {link !== null && (
        <div className={styles.summaryActions}>
          <CopyButton text={link.shortUrl} what="short URL" />
        </div>
      )}
    </header>
  );
}

function StatCard({
  label,
  hint,
  value,
  testId,
}: {
  label: string;
  hint: string;
  value: number | undefined;
  testId: string;
}) {
  return (
    <div className={`card ${styles.stat}`}>
      <p className={styles.statLabel}>{label}</p>
      <p className={styles.statValue}>
        {value === undefined ? (
          <span className={`skeleton ${styles.statSkeleton}`} aria-hidden="true" />
        ) : (
          <span data-testid={testId}>{value}</span>
        )}
      </p>
      <p className={styles.statHint}>{hint}</p>
    </div>
  );
}
