'use client';

import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { api, ApiError, errorMessage, type ClusterMember, type ClusterSummary, type ClusterUpdate } from '../lib/api';
import { eventTime, memberChanges, mergeLog, nodeColors, serverEventKey, type LogEntry } from '../lib/cluster';
import { plural } from '../lib/format';
import { liveState, onLiveState, subscribeCluster, useLiveState } from '../lib/live';
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

export function ClusterDashboard() {
  const connection = useLiveState();
  const [view, setView] = useState<ClusterUpdate | null>(null);
  const [viewError, setViewError] = useState<unknown>(null);
  const [subscribeError, setSubscribeError] = useState<string | null>(null);
  const [log, setLog] = useState<LogEntry[] | null>(null);
  const [adminToken, setAdminToken] = useState('');
  const [pending, setPending] = useState<{ action: AdminAction; member: ClusterMember } | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const adminHintId = useId();

  // What the log has seen: the previous members (to notice changes) and the server's events.
  const previous = useRef<ClusterUpdate | null>(null);
  const seenEvents = useRef(new Set<string>());
  const seq = useRef(0);

  const addClientEntries = useCallback((entries: { kind: string; message: string }[], at = Date.now()) => {
    if (entries.length === 0) return;
    const additions = entries.map((e) => ({
      id: `c${++seq.current}`,
      seq: seq.current,
      at,
      kind: e.kind,
      message: e.message,
      source: 'client' as const,
    }));
    setLog((current) => mergeLog(current ?? [], additions, logMax));
  }, []);

  const accept = useCallback((update: ClusterUpdate) => {
    const now = Date.now();
    const at = eventTime(update.at, now);
    const additions: LogEntry[] = [];
    const before = previous.current;
    if (before !== null) {
      if (before.node !== update.node)
        additions.push({
          id: `c${++seq.current}`,
          seq: seq.current,
          at,
          kind: 'connection',
          message: `now connected to node ${update.node}`,
          source: 'client',
        });
      for (const change of memberChanges(before.members, update.members)) {
        additions.push({
          id: `c${++seq.current}`,
          seq: seq.current,
          at,
          kind: change.kind,
          message: change.message,
          source: 'client',
        });
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
    setView((current) =>
      update.events === undefined && current?.events !== undefined ? { ...update, events: current.events } : update,
    );
    setViewError(null);
    setLog((current) => mergeLog(current ?? [], additions, logMax));
  }, []);

  // Live cluster view, with GET /api/cluster for the first paint and while the socket is down.
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

  // The admin token lives in this tab's sessionStorage only.
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
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>

      <ClusterTotals adminToken={token} />

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

      <section className="card" aria-labelledby="members-title">
        <div className={styles.cardHeader}>
          <h2 id="members-title" className="card-title">
            Members
          </h2>
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
                value={adminToken}
                onChange={(e) => changeAdminToken(e.target.value)}
                aria-describedby={adminHintId}
                data-testid="admin-token-input"
              />
              {adminToken !== '' && (
                <button type="button" className="btn btn-ghost btn-small" onClick={() => changeAdminToken('')}>
                  Forget
                </button>
              )}
            </div>
            <p id={adminHintId} className="hint">
              Kept in this tab only. Enables Leave, Remove and the top links.
            </p>
          </div>
        </div>
        {view !== null ? (
          <ClusterMembers
            view={view}
            colors={colors}
            canAdmin={token !== ''}
            adminHintId={adminHintId}
            onAction={(action, member) => setPending({ action, member })}
          />
        ) : (
          <div className={styles.rowSkeletons} aria-hidden="true">
            <span className="skeleton" />
            <span className="skeleton" />
            <span className="skeleton" />
          </div>
        )}
      </section>

      <div className={styles.columns}>
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

        <section className="card" aria-labelledby="events-title" data-testid="event-log">
          <h2 id="events-title" className="card-title">
            Events
          </h2>
          <EventLog entries={log} />
        </section>
      </div>

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
        onConfirm={() => (pending !== null ? runAction(pending.action, pending.member) : Promise.resolve())}
        onClose={() => setPending(null)}
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
    </div>
  );
}

/** Cluster-wide counts (a coverage query, every 5 s) and, with the admin token, the top links. */
function ClusterTotals({ adminToken }: { adminToken: string }) {
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

  const top = adminToken !== '' ? summary?.top : undefined;
  return (
    <div className={styles.totalsRow}>
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
              : `Every partition read once${summary?.partitions !== undefined ? ` (${summary.partitions})` : ''}; refreshed every 5 s.`}
          </p>
        )}
      </section>

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
        )}
      </section>
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
