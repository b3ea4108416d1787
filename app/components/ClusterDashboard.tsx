'use client';

import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { api, ApiError, errorMessage, type ClusterMember, type ClusterSummary, type ClusterUpdate } from '../lib/api';
import { eventTime, memberChanges, mergeLog, nodeColors, serverEventKey, type LogEntry } from '../lib/cluster';
import { plural } from '../lib/format';
import { liveState, onLiveState, subscribeCluster, useLiveState, type LiveState } from '../lib/live';
import { ClusterHandoffs } from './ClusterHandoffs';
import { ClusterMembers, type AdminAction } from './ClusterMembers';
import { ConfirmDialog } from './ConfirmDialog';
import { EventLog } from './EventLog';
import { FormError } from './Field';
import { LiveIndicator } from './LiveIndicator';
import { RingDiagram } from './RingDiagram';
import styles from './Cluster.module.css';

const logMax = 100;
const summaryRefreshMs = 5000;
/** GET /api/cluster stands in for the `cluster` events while the socket is down. */
const clusterFallbackPollMs = 5000;
const adminTokenKey = 'ringlink.adminToken';

type NodeColors = ReadonlyMap<string, string>;
type PendingAction = { action: AdminAction; member: ClusterMember };

export function ClusterDashboard() {
  const connection = useLiveState();
  const { log, addClientEntries, logUpdate } = useEventLog();
  const { view, viewError, subscribeError } = useLiveClusterView(logUpdate);
  const [adminToken, changeAdminToken] = useAdminToken();
  const [pending, setPending] = useState<PendingAction | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const adminHintId = useId();

  const token = adminToken.trim();
  const colors = useMemo(() => (view === null ? new Map<string, string>() : nodeColors(view)), [view]);

  async function runAction(action: AdminAction, member: ClusterMember) {
    if (action === 'leave') await api.adminLeave(member.name, token);
    else await api.adminRemove(member.name, token);
    const message = action === 'leave' ? `asked ${member.name} to leave` : `removed ${member.name} from the ring`;
    setAnnouncement(`Done: ${message}.`);
    addClientEntries([{ kind: 'admin', message }]);
  }

  return (
    <div className={`page ${styles.page}`}>
      <ClusterHeader view={view} connection={connection} subscribeError={subscribeError} />
      <ClusterNotices view={view} viewError={viewError} subscribeError={subscribeError} />
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>

      <ClusterTotals adminToken={token} />
      <RingCard view={view} colors={colors} />
      <MembersCard
        view={view}
        colors={colors}
        adminToken={adminToken}
        onAdminTokenChange={changeAdminToken}
        adminHintId={adminHintId}
        onAction={(action, member) => setPending({ action, member })}
      />

      <div className={styles.columns}>
        <HandoffsCard view={view} colors={colors} />
        <section className="card" aria-labelledby="events-title" data-testid="event-log">
          <h2 id="events-title" className="card-title">
            Events
          </h2>
          <EventLog entries={log} />
        </section>
      </div>

      <AdminActionDialog
        pending={pending}
        onConfirm={() => (pending !== null ? runAction(pending.action, pending.member) : Promise.resolve())}
        onClose={() => setPending(null)}
      />
    </div>
  );
}

/**
 * The event log: the server's events (each once) and what this page notices itself (a new node, member
 * changes between two views, admin actions).
 */
function useEventLog() {
  const [log, setLog] = useState<LogEntry[] | null>(null);
  // What the log has seen: the previous members (to notice changes) and the server's events.
  const previous = useRef<ClusterUpdate | null>(null);
  const seenEvents = useRef(new Set<string>());
  const seq = useRef(0);

  const addClientEntries = useCallback((entries: { kind: string; message: string }[], at = Date.now()) => {
    if (entries.length === 0) return;
    const additions = entries.map((e) => clientEntry(seq, at, e.kind, e.message));
    setLog((current) => mergeLog(current ?? [], additions, logMax));
  }, []);

  const logUpdate = useCallback((update: ClusterUpdate) => {
    const now = Date.now();
    const at = eventTime(update.at, now);
    const additions: LogEntry[] = [];
    const before = previous.current;
    if (before !== null) {
      if (before.node !== update.node) {
        additions.push(clientEntry(seq, at, 'connection', `now connected to node ${update.node}`));
      }
      for (const change of memberChanges(before.members, update.members)) {
        additions.push(clientEntry(seq, at, change.kind, change.message));
      }
    }
    previous.current = update;
    const events = Array.isArray(update.events) ? update.events : [];
    for (const e of events) {
      const key = serverEventKey(e);
      if (seenEvents.current.has(key)) continue;
      seenEvents.current.add(key);
      additions.push({
        id: `s${key}`,
        seq: ++seq.current,
        at: eventTime(e.at, now),
        kind: e.kind,
        message: e.message,
        source: 'server',
      });
    }
    // The node keeps its last 100 events; older keys can never come back.
    if (seenEvents.current.size > 1000) seenEvents.current = new Set(events.map(serverEventKey));
    setLog((current) => mergeLog(current ?? [], additions, logMax));
  }, []);

  return { log, addClientEntries, logUpdate };
}

/** An entry this page noticed itself; `seq` numbers all entries in arrival order. */
function clientEntry(seq: { current: number }, at: number, kind: string, message: string): LogEntry {
  return { id: `c${++seq.current}`, seq: seq.current, at, kind, message, source: 'client' };
}

/** Live cluster view, with GET /api/cluster for the first paint and while the socket is down. */
function useLiveClusterView(logUpdate: (update: ClusterUpdate) => void) {
  const [view, setView] = useState<ClusterUpdate | null>(null);
  const [viewError, setViewError] = useState<unknown>(null);
  const [subscribeError, setSubscribeError] = useState<string | null>(null);

  const accept = useCallback(
    (update: ClusterUpdate) => {
      logUpdate(update);
      setView((current) =>
        update.events === undefined && current?.events !== undefined ? { ...update, events: current.events } : update,
      );
      setViewError(null);
    },
    [logUpdate],
  );

  useEffect(() => {
    let active = true;
    let socketUpdates = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    async function fetchView() {
      const before = socketUpdates;
      try {
        const answer = await api.cluster();
        if (active && socketUpdates === before) accept(answer);
      } catch (error) {
        if (active && socketUpdates === before) setViewError(error);
      }
    }

    function poll() {
      timer = setTimeout(async () => {
        if (liveState() !== 'connected' && document.visibilityState === 'visible') await fetchView();
        if (active) poll();
      }, clusterFallbackPollMs);
    }

    const unsubscribe = subscribeCluster(
      (update) => {
        if (!active) return;
        socketUpdates++;
        setSubscribeError(null);
        accept(update);
      },
      (error) => active && setSubscribeError(error),
    );
    const stopWatching = onLiveState(() => {
      if (liveState() === 'connected') setSubscribeError(null);
    });
    void fetchView();
    poll();
    return () => {
      active = false;
      if (timer !== undefined) clearTimeout(timer);
      stopWatching();
      unsubscribe();
    };
  }, [accept]);

  return { view, viewError, subscribeError };
}

/** The admin token lives in this tab's sessionStorage only. */
function useAdminToken(): [string, (value: string) => void] {
  const [adminToken, setAdminToken] = useState('');

  useEffect(() => {
    try {
      setAdminToken(sessionStorage.getItem(adminTokenKey) ?? '');
    } catch {
      // Storage disabled: the token lasts until the page is left.
    }
  }, []);

  function changeAdminToken(value: string) {
    setAdminToken(value);
    try {
      if (value === '') sessionStorage.removeItem(adminTokenKey);
      else sessionStorage.setItem(adminTokenKey, value);
    } catch {
      // See above.
    }
  }

  return [adminToken, changeAdminToken];
}

function ClusterHeader({
  view,
  connection,
  subscribeError,
}: {
  view: ClusterUpdate | null;
  connection: LiveState;
  subscribeError: string | null;
}) {
  return (
    <div className="page-header">
      <div>
        <h1 className="page-title">Cluster</h1>
        <p className="page-lead" data-testid="cluster-node-line">
          {view !== null ? (
            <>
              Connected to node{' '}
              <strong className={styles.mono} data-testid="cluster-node">
                {view.node}
              </strong>
              {' · '}
              {plural(view.members.length, 'member')} · ring of {view.ring.size} partitions, {view.ring.nVal} replicas
              each
            </>
          ) : (
            'Connecting to the cluster…'
          )}
        </p>
      </div>
      <LiveIndicator
        state={connection}
        live={connection === 'connected' && subscribeError === null}
        testId="cluster-live"
      />
    </div>
  );
}

/** Why the page is not live (refused subscription) or not current (failed fetch). */
function ClusterNotices({
  view,
  viewError,
  subscribeError,
}: {
  view: ClusterUpdate | null;
  viewError: unknown;
  subscribeError: string | null;
}) {
  return (
    <>
      {subscribeError !== null && (
        <p className={styles.notice} role="status">
          Live updates were refused ({subscribeError}); the page refreshes every few seconds instead.
        </p>
      )}
      {viewError !== null && (
        <div className="card">
          <FormError boxed>
            {errorMessage(viewError)} {view === null ? 'Retrying…' : 'Showing the last known state.'}
          </FormError>
        </div>
      )}
    </>
  );
}

function RingCard({ view, colors }: { view: ClusterUpdate | null; colors: NodeColors }) {
  return (
    <section className="card" aria-labelledby="ring-title">
      <h2 id="ring-title" className="card-title">
        Ring
      </h2>
      {view !== null ? (
        <RingDiagram ring={view.ring} colors={colors} node={view.node} />
      ) : (
        <div className={`skeleton ${styles.ringSkeleton}`} aria-hidden="true" />
      )}
    </section>
  );
}

function MembersCard({
  view,
  colors,
  adminToken,
  onAdminTokenChange,
  adminHintId,
  onAction,
}: {
  view: ClusterUpdate | null;
  colors: NodeColors;
  adminToken: string;
  onAdminTokenChange: (value: string) => void;
  adminHintId: string;
  onAction: (action: AdminAction, member: ClusterMember) => void;
}) {
  return (
    <section className="card" aria-labelledby="members-title">
      <div className={styles.cardHeader}>
        <h2 id="members-title" className="card-title">
          Members
        </h2>
        <AdminTokenField value={adminToken} onChange={onAdminTokenChange} hintId={adminHintId} />
      </div>
      {view !== null ? (
        <ClusterMembers
          view={view}
          colors={colors}
          canAdmin={adminToken.trim() !== ''}
          adminHintId={adminHintId}
          onAction={onAction}
        />
      ) : (
        <div className={styles.rowSkeletons} aria-hidden="true">
          <span className="skeleton" />
          <span className="skeleton" />
          <span className="skeleton" />
        </div>
      )}
    </section>
  );
}

function AdminTokenField({
  value,
  onChange,
  hintId,
}: {
  value: string;
  onChange: (value: string) => void;
  hintId: string;
}) {
  return (
    <div className={`field ${styles.tokenField}`}>
      <label htmlFor="admin-token" className="label">
        Admin token
      </label>
      <div className={styles.tokenRow}>
        <input
          id="admin-token"
          className="input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="ADMIN_TOKEN"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-describedby={hintId}
          data-testid="admin-token-input"
        />
        {value !== '' && (
          <button type="button" className="btn btn-ghost btn-small" onClick={() => onChange('')}>
            Forget
          </button>
        )}
      </div>
      <p id={hintId} className="hint">
        Kept in this tab only. Enables Leave, Remove and the top links.
      </p>
    </div>
  );
}

function HandoffsCard({ view, colors }: { view: ClusterUpdate | null; colors: NodeColors }) {
  return (
    <section className="card" aria-labelledby="handoffs-title" data-testid="handoffs">
      <h2 id="handoffs-title" className="card-title">
        Handoffs in progress{' '}
        {view !== null && view.handoffs.length > 0 && (
          <span className="badge badge-accent">{view.handoffs.length}</span>
        )}
      </h2>
      {view !== null ? (
        <ClusterHandoffs view={view} colors={colors} />
      ) : (
        <div className={`skeleton ${styles.blockSkeleton}`} aria-hidden="true" />
      )}
    </section>
  );
}

/** Asks before a Leave or Remove of a member. */
function AdminActionDialog({
  pending,
  onConfirm,
  onClose,
}: {
  pending: PendingAction | null;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  return (
    <ConfirmDialog
      open={pending !== null}
      title={
        pending === null
          ? 'Confirm'
          : pending.action === 'leave'
            ? `Ask ${pending.member.name} to leave?`
            : `Remove ${pending.member.name}?`
      }
      confirmLabel={pending?.action === 'remove' ? 'Remove node' : 'Leave the ring'}
      onConfirm={onConfirm}
      onClose={onClose}
    >
      {pending?.action === 'leave' ? (
        <p>
          <strong>{pending.member.name}</strong> hands its partitions to the other members, then stops serving. Links
          stay available while it leaves.
        </p>
      ) : (
        <p>
          <strong>{pending?.member.name}</strong> is dropped from the ring at once and its partitions are reassigned.
          Use this for a node that is gone for good; its copies are rebuilt from the other replicas.
        </p>
      )}
    </ConfirmDialog>
  );
}

/** Cluster-wide counts (a coverage query, every 5 s) and, with the admin token, the top links. */
function ClusterTotals({ adminToken }: { adminToken: string }) {
  const { summary, error, topError } = useClusterSummary(adminToken);
  return (
    <div className={styles.totalsRow}>
      <TotalsCard summary={summary} error={error} />
      <TopLinksCard adminToken={adminToken} summary={summary} topError={topError} />
    </div>
  );
}

/**
 * GET /api/cluster/summary, at once for a new token (debounced while it is typed), then every 5 s. With a token
 * the server rejects, the public totals still show and `topError` says why the top links do not.
 */
function useClusterSummary(adminToken: string) {
  const [summary, setSummary] = useState<ClusterSummary | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [topError, setTopError] = useState<string | null>(null);
  const tokenRef = useRef(adminToken);
  tokenRef.current = adminToken;

  useEffect(() => {
    let active = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let generation = 0;

    async function load() {
      const mine = ++generation;
      const token = tokenRef.current;
      try {
        let answer: ClusterSummary;
        let rejected: string | null = null;
        try {
          answer = await api.clusterSummary(token || null);
        } catch (e) {
          // A wrong token must not hide the public totals.
          if (token === '' || !(e instanceof ApiError) || (e.status !== 401 && e.status !== 403)) throw e;
          rejected = errorMessage(e);
          answer = await api.clusterSummary(null);
        }
        if (!active || mine !== generation) return;
        setSummary(answer);
        setError(null);
        setTopError(rejected);
      } catch (e) {
        if (active && mine === generation) setError(e);
      }
    }

    function schedule() {
      timer = setTimeout(async () => {
        if (document.visibilityState === 'visible') await load();
        if (active) schedule();
      }, summaryRefreshMs);
    }

    // A new token answers at once (debounced while it is typed), then every 5 s.
    const first = setTimeout(() => void load(), adminToken === '' ? 0 : 400);
    schedule();
    return () => {
      active = false;
      clearTimeout(first);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [adminToken]);

  return { summary, error, topError };
}

function TotalsCard({ summary, error }: { summary: ClusterSummary | null; error: unknown }) {
  const partitions = summary?.partitions !== undefined ? ` (${summary.partitions})` : '';
  return (
    <section className={`card ${styles.totals}`} aria-labelledby="totals-title" data-testid="cluster-summary">
      <div className={styles.cardHeader}>
        <h2 id="totals-title" className="card-title">
          Cluster totals
        </h2>
        {summary?.partial === true && (
          <span
            className="badge badge-warning"
            title="Some partitions could not be read; the counts are lower bounds."
            data-testid="summary-partial"
          >
            Partial
          </span>
        )}
      </div>
      <div className={styles.tiles}>
        <Tile label="Links" value={summary?.links} testId="summary-links" />
        <Tile label="Views" value={summary?.views} testId="summary-views" />
        <Tile label="Bots" value={summary?.bots} testId="summary-bots" />
      </div>
      {error !== null ? (
        <p className={styles.totalsNote} role="status">
          {summary === null ? 'Totals are not available: ' : 'Totals may be stale: '}
          {errorMessage(error)}
        </p>
      ) : (
        <p className={styles.totalsNote}>
          {summary?.partial === true
            ? 'Some partitions could not be read, so these are lower bounds.'
            : `Every partition read once${partitions}; refreshed every 5 s.`}
        </p>
      )}
    </section>
  );
}

function TopLinksCard({
  adminToken,
  summary,
  topError,
}: {
  adminToken: string;
  summary: ClusterSummary | null;
  topError: string | null;
}) {
  const top = adminToken !== '' ? summary?.top : undefined;
  return (
    <section className={`card ${styles.top}`} aria-labelledby="top-title">
      <h2 id="top-title" className="card-title">
        Top links
      </h2>
      {adminToken === '' ? (
        <p className={styles.empty}>
          Enter the admin token (Members, below) to see the most viewed links. Slugs are not public.
        </p>
      ) : topError !== null ? (
        <FormError>{topError}</FormError>
      ) : top === undefined ? (
        summary === null ? (
          <div className={`skeleton ${styles.blockSkeleton}`} aria-hidden="true" />
        ) : (
          <p className={styles.empty}>This node did not list top links.</p>
        )
      ) : top.length === 0 ? (
        <p className={styles.empty} data-testid="top-links">
          No views yet.
        </p>
      ) : (
        <TopLinksTable top={top} />
      )}
    </section>
  );
}

function TopLinksTable({ top }: { top: NonNullable<ClusterSummary['top']> }) {
  return (
    <div className={styles.tableScroll}>
      <table className={`${styles.table} ${styles.compact}`} data-testid="top-links">
        <caption className="visually-hidden">The 10 most viewed links</caption>
        <thead>
          <tr>
            <th scope="col" className={styles.num}>
              #
            </th>
            <th scope="col">Slug</th>
            <th scope="col" className={styles.num}>
              Views
            </th>
          </tr>
        </thead>
        <tbody>
          {top.map((t, i) => (
            <tr key={t.slug} data-slug={t.slug}>
              <td className={styles.num}>{i + 1}</td>
              <td className={styles.mono}>/{t.slug}</td>
              <td className={styles.num}>{t.total}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Tile({ label, value, testId }: { label: string; value: number | undefined; testId: string }) {
  return (
    <div className={styles.tile}>
      <p className={styles.tileLabel}>{label}</p>
      <p className={styles.tileValue}>
        {value === undefined ? (
          <span className={`skeleton ${styles.tileSkeleton}`} aria-hidden="true" />
        ) : (
          <span data-testid={testId}>{value.toLocaleString()}</span>
        )}
      </p>
    </div>
  );
}
