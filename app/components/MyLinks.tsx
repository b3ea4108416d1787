'use client';

import NextLink from 'next/link';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
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

/** Waits this long after the last keystroke before asking the server to search (ms). */
const searchDebounceMs = 250;

export function MyLinks() {
  const [query, setQuery] = useState('');
  const search = useDebounced(query.trim(), searchDebounceMs);
  const { list, loadError, loadingMore, load, loadMore, replaceLink, dropLink, applyCounts } = useMyLinkList(search);
  const [editing, setEditing] = useState<Link | null>(null);
  const [deleting, setDeleting] = useState<Link | null>(null);
  const [announcement, setAnnouncement] = useState('');

  const shown = useMemo(() => list?.links ?? [], [list]);

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
      <LinksToolbar query={query} onQueryChange={setQuery} />
      <LinksCountLine list={list} query={search} live={liveSlugs.length > 0} />
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>

      <LinksListBody
        list={list}
        query={search}
        loadError={loadError}
        onRetry={() => void load()}
        onEdit={setEditing}
        onDelete={setDeleting}
      />
      {list?.nextCursor != null && loadError === null && (
        <div className={styles.more}>
          <button
            type="button"
            className="btn btn-secondary"
            disabled={loadingMore}
            onClick={() => void loadMore()}
            data-testid="links-load-more"
          >
            {loadingMore ? 'Loading…' : `Load more (${list.links.length} of ${list.total} shown)`}
          </button>
        </div>
      )}

      <EditLinkDialog link={editing} onClose={() => setEditing(null)} onSaved={saved} />
      <DeleteLinkDialog link={deleting} onConfirm={remove} onClose={() => setDeleting(null)} />
    </div>
  );
}

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

interface ListState {
  links: Link[];
  nextCursor: string | null;
  /** The exact count of the owner's links (matching the search), from the server. */
  total: number;
}

/**
 * The links of this browser or account (GET /api/links), a page at a time, newest first,
 * searched on the server (`q`), kept current by edits, deletes and live counts.
 */
function useMyLinkList(search: string) {
  const [list, setList] = useState<ListState | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  /** Answers to an older search are dropped. */
  const generation = useRef(0);

  const load = useCallback(async () => {
    const mine = ++generation.current;
    setLoadError(null);
    try {
      const page = await api.listLinks(search ? { q: search } : {});
      if (mine === generation.current) setList({ links: page.links, nextCursor: page.nextCursor, total: page.total });
    } catch (error) {
      if (mine === generation.current) setLoadError(errorMessage(error));
    }
  }, [search]);

  useEffect(() => {
    void load();
  }, [load]);

  const loadMore = useCallback(async () => {
    const cursor = list?.nextCursor;
    if (!cursor) return;
    const mine = generation.current;
    setLoadingMore(true);
    try {
      const page = await api.listLinks({ cursor, ...(search ? { q: search } : {}) });
      if (mine !== generation.current) return;
      setList((current) => {
        if (!current) return current;
        const have = new Set(current.links.map((l) => l.slug));
        return {
          links: [...current.links, ...page.links.filter((l) => !have.has(l.slug))],
          nextCursor: page.nextCursor,
          total: page.total,
        };
      });
    } catch (error) {
      if (mine === generation.current) setLoadError(errorMessage(error));
    } finally {
      setLoadingMore(false);
    }
  }, [list, search]);

  const applyCounts = useCallback((counts: ReadonlyMap<string, LiveCounts>) => {
    setList((current) => {
      if (!current) return current;
      let changed = false;
      const links = current.links.map((l) => {
        const c = counts.get(l.slug);
        if (c === undefined || (c.total === l.total && c.bots === l.bots)) return l;
        changed = true;
        return { ...l, total: c.total, bots: c.bots };
      });
      return changed ? { ...current, links } : current;
    });
  }, []);

  function replaceLink(link: Link) {
    setList((current) =>
      current ? { ...current, links: current.links.map((l) => (l.slug === link.slug ? link : l)) } : current,
    );
  }

  function dropLink(slug: string) {
    setList((current) =>
      current && current.links.some((l) => l.slug === slug)
        ? { ...current, links: current.links.filter((l) => l.slug !== slug), total: Math.max(0, current.total - 1) }
        : current,
    );
  }

  return { list, loadError, loadingMore, load, loadMore, replaceLink, dropLink, applyCounts };
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

function LinksToolbar({ query, onQueryChange }: { query: string; onQueryChange: (query: string) => void }) {
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
          maxLength={200}
          value={query}
          onChange={(e) => onQueryChange(e.target.value)}
          data-testid="search-input"
        />
      </div>
    </div>
  );
}

/** How many links there are (or match the search, counted on the server), and whether their view counts are live. */
function LinksCountLine({ list, query, live }: { list: ListState | null; query: string; live: boolean }) {
  const connection = useLiveState();
  return (
    <div className={styles.countLine}>
      <p className={styles.count} role="status" aria-live="polite" data-testid="links-count">
        {list === null
          ? '\u00a0'
          : query === ''
            ? plural(list.total, 'link')
            : `${plural(list.total, 'link')} match “${query}”`}
      </p>
      {live && (
        <LiveIndicator
          state={connection}
          suffix={
            list !== null && list.links.length > liveLinksMax
              ? `view counts of the first ${liveLinksMax}`
              : 'view counts'
          }
        />
      )}
    </div>
  );
}

/** The table, or what stands in for it: the load error, a skeleton, or why there is no row. */
function LinksListBody({
  list,
  query,
  loadError,
  onRetry,
  onEdit,
  onDelete,
}: {
  list: ListState | null;
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
  if (list === null) return <LinksTableSkeleton />;
  if (list.links.length === 0 && query === '') {
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
  if (list.links.length === 0) {
    return (
      <MessageCard title="No matching links" testId="links-no-match">
        <p>Nothing matches “{query}”. Try part of the slug or of the long URL.</p>
      </MessageCard>
    );
  }
  return <LinksTable links={list.links} onEdit={onEdit} onDelete={onDelete} />;
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
