'use client';

import NextLink from 'next/link';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, errorMessage, type Link } from '../lib/api';
import { plural } from '../lib/format';
import { useLiveState } from '../lib/live';
import { liveLinksMax, useLiveLinkCounts, type LiveCounts } from '../lib/useLiveLinkCounts';
import { ConfirmDialog } from './ConfirmDialog';
import { EditLinkDialog } from './EditLinkDialog';
import { FormError } from './Field';
import { LiveIndicator } from './LiveIndicator';
import { LinksTable, LinksTableSkeleton } from './LinksTable';
import { MessageCard } from './MessageCard';
import styles from './MyLinks.module.css';

export type LinkSort = 'newest' | 'views' | 'slug';

const sorts: { value: LinkSort; label: string }[] = [
  { value: 'newest', label: 'Newest' },
  { value: 'views', label: 'Most views' },
  { value: 'slug', label: 'Slug (A–Z)' },
];

const byCreatedDesc = (a: Link, b: Link) => b.createdAt.localeCompare(a.createdAt);
const comparators: Record<LinkSort, (a: Link, b: Link) => number> = {
  newest: byCreatedDesc,
  views: (a, b) => b.total - a.total || byCreatedDesc(a, b),
  slug: (a, b) => a.slug.localeCompare(b.slug, undefined, { sensitivity: 'base' }),
};

/** Filters (slug or URL contains the query, case-insensitive) and sorts without a round trip. */
export function visibleLinks(links: readonly Link[], query: string, sort: LinkSort): Link[] {
  const q = query.trim().toLowerCase();
  const matching =
    q === '' ? [...links] : links.filter((l) => l.slug.toLowerCase().includes(q) || l.url.toLowerCase().includes(q));
  return matching.sort(comparators[sort]);
}

export function MyLinks() {
  const { links, loadError, load, replaceLink, dropLink, applyCounts } = useMyLinkList();
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<LinkSort>('newest');
  const [editing, setEditing] = useState<Link | null>(null);
  const [deleting, setDeleting] = useState<Link | null>(null);
  const [announcement, setAnnouncement] = useState('');

  const shown = useMemo(() => (links === null ? [] : visibleLinks(links, query, sort)), [links, query, sort]);

  // Views and bots of the visible rows follow the `stats` events of their links.
  const liveSlugs = useMemo(() => shown.slice(0, liveLinksMax).map((l) => l.slug), [shown]);
  useLiveLinkCounts(liveSlugs, applyCounts);

  function saved(link: Link) {
    replaceLink(link);
    setEditing(null);
    setAnnouncement(`Saved /${link.slug}`);
  }

  async function remove(link: Link) {
    await api.deleteLink(link.slug);
    dropLink(link.slug);
    setAnnouncement(`Deleted /${link.slug}`);
  }

  return (
    <div className="page">
      <MyLinksHeader />
      <LinksToolbar query={query} onQueryChange={setQuery} sort={sort} onSortChange={setSort} />
      <LinksCountLine links={links} shownCount={shown.length} query={query} live={liveSlugs.length > 0} />
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>

      <LinksListBody
        links={links}
        shown={shown}
        query={query}
        loadError={loadError}
        onRetry={() => void load()}
        onEdit={setEditing}
        onDelete={setDeleting}
      />

      <EditLinkDialog link={editing} onClose={() => setEditing(null)} onSaved={saved} />
      <DeleteLinkDialog link={deleting} onConfirm={remove} onClose={() => setDeleting(null)} />
    </div>
  );
}

/** The links of this browser or account (GET /api/links), kept current by edits, deletes and live counts. */
function useMyLinkList() {
  const [links, setLinks] = useState<Link[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      setLinks((await api.listLinks()).links);
    } catch (error) {
      setLoadError(errorMessage(error));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const applyCounts = useCallback((counts: ReadonlyMap<string, LiveCounts>) => {
    setLinks(
      (current) =>
        current?.map((l) => {
          const c = counts.get(l.slug);
          return c !== undefined && (c.total !== l.total || c.bots !== l.bots)
            ? { ...l, total: c.total, bots: c.bots }
            : l;
        }) ?? null,
    );
  }, []);

  function replaceLink(link: Link) {
    setLinks((current) => current?.map((l) => (l.slug === link.slug ? link : l)) ?? null);
  }

  function dropLink(slug: string) {
    setLinks((current) => current?.filter((l) => l.slug !== slug) ?? null);
  }

  return { links, loadError, load, replaceLink, dropLink, applyCounts };
}

function MyLinksHeader() {
  return (
    <div className="page-header">
      <div>
        <h1 className="page-title">My links</h1>
        <p className="page-lead">Links created in this browser or with your account.</p>
      </div>
      <NextLink href="/" className="btn btn-primary">
        New link
      </NextLink>
    </div>
  );
}

function LinksToolbar({
  query,
  onQueryChange,
  sort,
  onSortChange,
}: {
  query: string;
  onQueryChange: (query: string) => void;
  sort: LinkSort;
  onSortChange: (sort: LinkSort) => void;
}) {
  return (
    <div className={`card ${styles.toolbar}`}>
      <div className="field">
        <label htmlFor="links-search" className="label">
          Search
        </label>
        <input
          id="links-search"
          className="input"
          type="search"
          placeholder="Slug or URL"
          value={query}
          onChange={(e) => onQueryChange(e.target.value)}
          data-testid="search-input"
        />
      </div>
      <div className={`field ${styles.sort}`}>
        <label htmlFor="links-sort" className="label">
          Sort by
        </label>
        <select
          id="links-sort"
          className="select"
          value={sort}
          onChange={(e) => onSortChange(e.target.value as LinkSort)}
          data-testid="sort-select"
        >
          {sorts.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}

/** How many links there are (and match the search), and whether their view counts are live. */
function LinksCountLine({
  links,
  shownCount,
  query,
  live,
}: {
  links: readonly Link[] | null;
  shownCount: number;
  query: string;
  live: boolean;
}) {
  const connection = useLiveState();
  return (
    <div className={styles.countLine}>
      <p className={styles.count} role="status" aria-live="polite" data-testid="links-count">
        {links === null
          ? '\u00a0'
          : query.trim() === ''
            ? plural(links.length, 'link')
            : `${shownCount} of ${plural(links.length, 'link')} match`}
      </p>
      {live && (
        <LiveIndicator
          state={connection}
          suffix={shownCount > liveLinksMax ? `view counts of the first ${liveLinksMax}` : 'view counts'}
        />
      )}
    </div>
  );
}

/** The table, or what stands in for it: the load error, a skeleton, or why there is no row. */
function LinksListBody({
  links,
  shown,
  query,
  loadError,
  onRetry,
  onEdit,
  onDelete,
}: {
  links: readonly Link[] | null;
  shown: readonly Link[];
  query: string;
  loadError: string | null;
  onRetry: () => void;
  onEdit: (link: Link) => void;
  onDelete: (link: Link) => void;
}) {
  if (loadError !== null) {
    return (
      <div className="card">
        <FormError boxed>{loadError}</FormError>
        <button type="button" className={`btn btn-secondary ${styles.retry}`} onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  if (links === null) return <LinksTableSkeleton />;
  if (links.length === 0) {
    return (
      <MessageCard
        title="No links yet"
        testId="links-empty"
        actions={
          <NextLink href="/" className="btn btn-primary">
            Shorten your first link
          </NextLink>
        }
      >
        <p>Links you create show up here with their views. Sign in to keep them across browsers.</p>
      </MessageCard>
    );
  }
  if (shown.length === 0) {
    return (
      <MessageCard title="No matching links" testId="links-no-match">
        <p>Nothing matches “{query.trim()}”. Try part of the slug or of the long URL.</p>
      </MessageCard>
    );
  }
  return <LinksTable links={shown} onEdit={onEdit} onDelete={onDelete} />;
}

function DeleteLinkDialog({
  link,
  onConfirm,
  onClose,
}: {
  link: Link | null;
  onConfirm: (link: Link) => Promise<void>;
  onClose: () => void;
}) {
  return (
    <ConfirmDialog
      open={link !== null}
      title={link !== null ? `Delete /${link.slug}?` : 'Delete link?'}
      confirmLabel="Delete link"
      onConfirm={() => (link !== null ? onConfirm(link) : Promise.resolve())}
      onClose={onClose}
    >
      <p>The short URL will stop working for everyone (visitors get “gone”), and the slug can never be used again.</p>
    </ConfirmDialog>
  );
}
