// After the last fault heals: measure convergence, then check the history.
//
// Convergence: the time from the heal until every node answers, for every link the history
// knows, with a state the history allows (owner GET /api/links/:slug and public HEAD /:slug,
// which never counts), every node reports the same view total for every link, two passes in a
// row, and the ring is settled (every member valid and alive, owners agreed). Bounded.
//
// Checkers (on the last pass):
//   links     an acknowledged create must exist on every node; its target must be the last
//             acknowledged one or that of an edit whose outcome is unknown; an acknowledged
//             delete must answer 410 everywhere (a deleted link never comes back); a target no
//             write ever sent is unexpected
//   sessions  the owner's session must still authenticate on every node (GET of its link)
//   views     per link, the agreed total T against the 302s: acknowledged A, unknown I.
//             T > A + I is an overcount (unexpected). T < A is a loss; it is "at risk" (the
//             documented loss, not an anomaly) as far as it is covered by the 302s answered by
//             a SIGKILLed node life within RISK_WINDOW_MS before the kill (counter deltas ship
//             every 100 ms and wait up to a 1 s request timeout for W acks); the rest is lost
//   slugs     at most one 201 per raced custom slug; the slug's link (if any) has the
//             winner's target, or an unknown-outcome contender's when nobody got 201
//   CAS       checkCasHistories (Wing-Gong linearizability per key, ring/sim/linearizability.ts)
import { checkCasHistories } from '../ring/sim';
import { pool, waitSettled } from '../testkit';
import type { ChaosCluster, ChaosNode, Life } from './cluster';
import { visit } from './http';
import type { LinkRec, RaceRec, Workload } from './workload';

/** How long before a SIGKILL a 302 may have been answered and still be lost with the node's unshipped counter deltas. */
export const RISK_WINDOW_MS = 100 + 1_000 + 900;

export interface Anomaly {
  checker: 'links' | 'sessions' | 'views' | 'slugs' | 'cas' | 'ring' | 'process' | 'partition';
  kind: 'lost' | 'unexpected';
  what: string;
  /** How many items (writes, views, ops) the anomaly covers. */
  n: number;
}

interface Observation {
  node: string;
  get: { status: number | string; url?: string; linkStatus?: string; total?: number };
  head: { status: number | string; location?: string | null };
}

export interface CheckResult {
  convergenceMs: number | null;
  convergedAfterStopMs: number | null;
  passes: number;
  /** How long one verification pass took (the resolution of the convergence time). */
  passMs: number[];
  settleError?: string;
  anomalies: Anomaly[];
  views: {
    acknowledged: number;
    indeterminate: number;
    atRiskAcked: number;
    lostAtRisk: number;
    lostUnexplained: number;
    overcount: number;
    gracefulStopWindow: number;
  };
  links: {
    tracked: number;
    deleted: number;
    checkedPairs: number;
    staleRedirectsAfterDelete: number;
    notFoundAnswers: number;
    expiredAnswers: number;
  };
  races: { total: number; withWinner: number; duplicateGrants: number };
  cas: {
    ops: number;
    keys: number;
    linearizable: number;
    inconclusive: number;
    notLinearizable: number;
    explored: number;
  };
  sessionReplacements: { total: number; excused: number };
}

const isOk = (o: Observation['get']) => o.status === 200;

function allowedUrls(l: LinkRec): { allowed: Set<string>; lastAcked: string; earlierAcked: Set<string> } {
  let lastIdx = 0;
  l.writes.forEach((w, i) => {
    if (w.status === 'ok') lastIdx = i;
  });
  const allowed = new Set<string>([l.writes[lastIdx]!.url]);
  for (const w of l.writes) if (w.status === 'info') allowed.add(w.url);
  const earlierAcked = new Set(l.writes.filter((w, i) => w.status === 'ok' && i < lastIdx).map((w) => w.url));
  return { allowed, lastAcked: l.writes[lastIdx]!.url, earlierAcked };
}

function deletion(l: LinkRec): 'yes' | 'no' | 'maybe' {
  if (l.deletes.some((d) => d.status === 'ok')) return 'yes';
  if (l.deletes.some((d) => d.status === 'info')) return 'maybe';
  return 'no';
}

/** Whether one node's view of a link is one the history allows (ignoring totals). */
function linkStateOk(l: LinkRec, o: Observation, now: number): boolean {
  const { allowed } = allowedUrls(l);
  const del = deletion(l);
  const expired = l.expiresAt !== null && l.expiresAt <= now;
  if (!isOk(o.get)) return false;
  const active =
    o.get.linkStatus === 'active' &&
    !!o.get.url &&
    allowed.has(o.get.url) &&
    o.head.status === 302 &&
    !!o.head.location &&
    allowed.has(o.head.location);
  // A deleted link's document keeps whatever target the delete read (possibly a stale one, across a
  // partition): only "deleted everywhere, 410 everywhere" matters for it.
  const gone = (o.get.linkStatus === 'deleted' || (expired && o.get.linkStatus === 'expired')) && o.head.status === 410;
  if (expired) return gone;
  if (del === 'yes') return gone;
  if (del === 'no') return active;
  return active || gone;
}

function raceStateOk(r: RaceRec, head: { status: number | string; location?: string | null }): boolean {
  const winners = r.contenders.filter((c) => c.status === 'ok');
  if (winners.length === 1) return head.status === 302 && head.location === winners[0]!.url;
  if (winners.length > 1) return false;
  const maybe = new Set(r.contenders.filter((c) => c.status === 'info').map((c) => c.url));
  return head.status === 404 || (head.status === 302 && !!head.location && maybe.has(head.location));
}

async function observe(w: Workload, l: LinkRec, node: ChaosNode): Promise<Observation> {
  const b = w.browsers[l.user]!;
  // Owner reads keep the browser's own cookie (a replacement is recorded, never adopted).
  const [g, h] = await Promise.all([
    b.call(node, 'GET', `/api/links/${l.slug}`, undefined, 5000, l.ownerCookie ?? b.cookie),
    visit(node, l.slug, 'HEAD', 5000),
  ]);
  const get: Observation['get'] =
    g.kind === 'ok'
      ? g.status === 200
        ? { status: 200, url: g.body?.url, linkStatus: g.body?.status, total: g.body?.total }
        : { status: g.status }
      : { status: g.error };
  const head: Observation['head'] =
    h.kind === 'ok' ? { status: h.status, location: h.headers.get('location') } : { status: h.error };
  return { node: node.name, get, head };
}

export interface CheckOptions {
  healedAt: number;
  timeoutMs: number;
  /** Session replacements the scenario expects (a node whose clock ran past the session TTL). */
  excuseReplacement?: (r: { node: string; at: number }) => boolean;
}

export async function checkScenario(cluster: ChaosCluster, w: Workload, opts: CheckOptions): Promise<CheckResult> {
  const anomalies: Anomaly[] = [];
  const deadline = performance.now() + opts.timeoutMs;
  // Nodes that are not running at the end (one that exits by itself when restarted) cannot be
  // checked: the ring cannot settle, and the history is checked against the running ones.
  const down = cluster.nodes.filter((n) => !n.alive);
  const nodes = cluster.nodes.filter((n) => n.alive);

  // ---- the ring settles (bounded)
  let settleError: string | undefined;
  if (down.length > 0) {
    settleError = `${down.map((n) => n.name).join(', ')} not running after the faults healed`;
    anomalies.push({
      checker: 'ring',
      kind: 'unexpected',
      what: `${settleError}: the ring never gets its members back (checks below use the running nodes)`,
      n: down.length,
    });
  } else {
    try {
      await waitSettled(nodes, Math.max(5_000, Math.min(90_000, deadline - performance.now())));
    } catch (err) {
      settleError = (err as Error).message;
      anomalies.push({ checker: 'ring', kind: 'unexpected', what: `ring did not settle: ${settleError}`, n: 1 });
    }
  }

  // ---- passes until every node agrees with the history and itself (bounded)
  const links = w.links;
  const pairs: [LinkRec, ChaosNode][] = [];
  for (const l of links) for (const n of nodes) pairs.push([l, n]);
  const racePairs: [RaceRec, ChaosNode][] = [];
  for (const r of w.races) for (const n of nodes) racePairs.push([r, n]);
  let last: Observation[] = [];
  let lastRace: { status: number | string; location?: string | null }[] = [];
  let prevTotals = '';
  let convergedAt: number | null = null;
  let passes = 0;
  let prevOk = false;
  let prevEnd = 0;
  const passMs: number[] = [];
  for (;;) {
    passes++;
    const passStart = performance.now();
    const now = Date.now();
    last = await pool(pairs, 16, ([l, n]) => observe(w, l, n));
    lastRace = await pool(racePairs, 16, async ([r, n]) => {
      const h = await visit(n, r.slug, 'HEAD', 5000);
      return h.kind === 'ok' ? { status: h.status, location: h.headers.get('location') } : { status: h.error };
    });
    const statesOk =
      pairs.every(([l], i) => linkStateOk(l, last[i]!, now)) &&
      racePairs.every(([r], i) => raceStateOk(r, lastRace[i]!));
    const totals = links.map((_, li) => nodes.map((_, ni) => last[li * nodes.length + ni]!.get.total));
    const agreed = totals.every((ts) => ts.every((t) => t !== undefined && t === ts[0]));
    const print = JSON.stringify(totals);
    const passOk = statesOk && agreed && !settleError;
    if (down.length > 0 && passes >= 3) break; // cannot converge: a few passes for the record
    // Converged as of the end of the previous pass when that pass was already right and this
    // one saw the very same totals (a pass takes a while: it reads every link on every node).
    if (passOk && prevOk && print === prevTotals) {
      convergedAt = prevEnd;
      break;
    }
    prevOk = passOk;
    prevTotals = print;
    prevEnd = performance.now();
    passMs.push(Math.round(prevEnd - passStart));
    if (performance.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }

  // ---- links and sessions
  let deleted = 0;
  const now = Date.now();
  const linkSamples = {
    missing: [] as string[],
    lostUpdate: [] as string[],
    resurrected: [] as string[],
    unknown: [] as string[],
    session: [] as string[],
    other: [] as string[],
  };
  let missing = 0;
  let lostUpdates = 0;
  let resurrected = 0;
  let unknownContent = 0;
  let sessionLost = 0;
  let otherBad = 0;
  const sample = (xs: string[], s: string) => xs.length < 5 && xs.push(s);
  links.forEach((l, li) => {
    const del = deletion(l);
    if (del === 'yes') deleted++;
    const { allowed, earlierAcked } = allowedUrls(l);
    const everWritten = new Set(l.writes.map((x) => x.url));
    let linkMissing = false;
    let linkLostUpdate = false;
    let linkResurrected = false;
    let linkUnknown = false;
    let linkSession = false;
    let linkOther = false;
    nodes.forEach((n, ni) => {
      const o = last[li * nodes.length + ni]!;
      if (linkStateOk(l, o, now)) return;
      const where = `${l.slug} via ${n.name}: GET ${o.get.status}${o.get.url ? ` ${o.get.linkStatus} ${o.get.url}` : ''}, HEAD ${o.head.status}${o.head.location ? ` -> ${o.head.location}` : ''}`;
      const urls = [o.get.url, o.head.status === 302 ? o.head.location : undefined].filter((u): u is string => !!u);
      if (o.head.status === 404 && o.get.status !== 200) {
        linkMissing = true;
        sample(linkSamples.missing, where);
      } else if (del === 'yes' && (o.head.status === 302 || o.get.linkStatus === 'active')) {
        linkResurrected = true;
        sample(linkSamples.resurrected, where);
      } else if (urls.some((u) => !everWritten.has(u))) {
        linkUnknown = true;
        sample(linkSamples.unknown, where);
      } else if (urls.some((u) => !allowed.has(u) && earlierAcked.has(u))) {
        linkLostUpdate = true;
        sample(linkSamples.lostUpdate, `${where} (last acknowledged ${allowedUrls(l).lastAcked})`);
      } else if (o.get.status !== 200 && (o.head.status === 302 || o.head.status === 410)) {
        linkSession = true;
        sample(linkSamples.session, where);
      } else {
        linkOther = true;
        sample(linkSamples.other, where);
      }
    });
    if (linkMissing) missing++;
    if (linkResurrected) resurrected++;
    if (linkUnknown) unknownContent++;
    if (linkLostUpdate) lostUpdates++;
    if (linkSession) sessionLost++;
    if (linkOther) otherBad++;
  });
  if (missing)
    anomalies.push({
      checker: 'links',
      kind: 'lost',
      what: `${missing} acknowledged links missing (404) on some node, e.g. ${linkSamples.missing.join('; ')}`,
      n: missing,
    });
  if (lostUpdates)
    anomalies.push({
      checker: 'links',
      kind: 'lost',
      what: `${lostUpdates} links show an older acknowledged target, e.g. ${linkSamples.lostUpdate.join('; ')}`,
      n: lostUpdates,
    });
  if (resurrected)
    anomalies.push({
      checker: 'links',
      kind: 'unexpected',
      what: `${resurrected} links deleted with 204 are live again, e.g. ${linkSamples.resurrected.join('; ')}`,
      n: resurrected,
    });
  if (unknownContent)
    anomalies.push({
      checker: 'links',
      kind: 'unexpected',
      what: `${unknownContent} links show a target never written, e.g. ${linkSamples.unknown.join('; ')}`,
      n: unknownContent,
    });
  if (sessionLost)
    anomalies.push({
      checker: 'sessions',
      kind: 'lost',
      what: `${sessionLost} links whose owner's session no longer authenticates on some node, e.g. ${linkSamples.session.join('; ')}`,
      n: sessionLost,
    });
  if (otherBad)
    anomalies.push({
      checker: 'links',
      kind: 'unexpected',
      what: `${otherBad} links in a state the history does not allow (or unreadable), e.g. ${linkSamples.other.join('; ')}`,
      n: otherBad,
    });

  // ---- views
  const killedLives = cluster.lives.filter((x) => x.end === 'SIGKILL' || x.end === 'exit');
  const gracefulLives = cluster.lives.filter((x) => x.end === 'SIGTERM' || x.end === 'SIGINT');
  // From RISK_WINDOW_MS before the signal until the process was seen to exit (a node handles a
  // graceful stop asynchronously and answers requests in flight meanwhile).
  const inWindow = (life: Life, times: number[]) => {
    if (life.endedAt === undefined) return 0;
    const from = life.endedAt - RISK_WINDOW_MS;
    const to = (life.exitedAt ?? life.endedAt) + 100;
    return times.filter((t) => t >= from && t <= to).length;
  };
  const v = {
    acknowledged: 0,
    indeterminate: 0,
    atRiskAcked: 0,
    lostAtRisk: 0,
    lostUnexplained: 0,
    overcount: 0,
    gracefulStopWindow: 0,
  };
  const viewSamples: string[] = [];
  const overSamples: string[] = [];
  let disagreeing = 0;
  const disagreeSamples: string[] = [];
  links.forEach((l, li) => {
    const acked = [...l.visits.values()].reduce((s, t) => s + t.length, 0);
    const atRisk = killedLives.reduce((s, life) => s + inWindow(life, l.visits.get(life) ?? []), 0);
    const graceful = gracefulLives.reduce((s, life) => s + inWindow(life, l.visits.get(life) ?? []), 0);
    v.acknowledged += acked;
    v.indeterminate += l.visitsInfo;
    v.atRiskAcked += atRisk;
    v.gracefulStopWindow += graceful;
    const ts = nodes.map((_, ni) => last[li * nodes.length + ni]!.get.total);
    const known = ts.filter((t): t is number => typeof t === 'number');
    if (known.length === 0) return; // unreadable: reported by the links checker
    if (known.length !== ts.length || new Set(known).size > 1) {
      disagreeing++;
      if (disagreeSamples.length < 5)
        disagreeSamples.push(`${l.slug}: ${nodes.map((n, ni) => `${n.name}=${ts[ni]}`).join(' ')}`);
    }
    const total = Math.min(...known);
    const top = Math.max(...known);
    if (top > acked + l.visitsInfo) {
      v.overcount += top - acked - l.visitsInfo;
      if (overSamples.length < 5)
        overSamples.push(`${l.slug}: total ${top} > ${acked} acknowledged + ${l.visitsInfo} unknown`);
    }
    if (total < acked) {
      const deficit = acked - total;
      const excused = Math.min(deficit, atRisk);
      v.lostAtRisk += excused;
      if (deficit > excused) {
        v.lostUnexplained += deficit - excused;
        if (viewSamples.length < 5)
          viewSamples.push(
            `${l.slug}: total ${total} < ${acked} acknowledged (${atRisk} at risk in a SIGKILL window, ${graceful} answered within ${RISK_WINDOW_MS} ms before a graceful stop)`,
          );
      }
    }
  });
  if (v.lostUnexplained)
    anomalies.push({
      checker: 'views',
      kind: 'lost',
      what: `${v.lostUnexplained} acknowledged views (302) missing from the totals beyond what SIGKILL windows explain, e.g. ${viewSamples.join('; ')}`,
      n: v.lostUnexplained,
    });
  if (v.overcount)
    anomalies.push({
      checker: 'views',
      kind: 'unexpected',
      what: `${v.overcount} views counted beyond the 302s and unknown visits, e.g. ${overSamples.join('; ')}`,
      n: v.overcount,
    });
  if (disagreeing)
    anomalies.push({
      checker: 'views',
      kind: 'unexpected',
      what: `${disagreeing} links whose view total differs between nodes after the convergence bound, e.g. ${disagreeSamples.join('; ')}`,
      n: disagreeing,
    });

  // ---- slug races
  let duplicateGrants = 0;
  let withWinner = 0;
  const raceSamples: string[] = [];
  let raceBad = 0;
  w.races.forEach((r, ri) => {
    const winners = r.contenders.filter((c) => c.status === 'ok');
    if (winners.length === 1) withWinner++;
    if (winners.length > 1) {
      duplicateGrants++;
      if (raceSamples.length < 5)
        raceSamples.push(`${r.slug}: 201 to ${winners.map((c) => `u${c.user} via ${c.node}`).join(' and ')}`);
      return;
    }
    const bad = nodes.filter((_, ni) => !raceStateOk(r, lastRace[ri * nodes.length + ni]!));
    if (bad.length > 0) {
      raceBad++;
      if (raceSamples.length < 5)
        raceSamples.push(
          `${r.slug}: ${bad.map((n) => `${n.name} ${JSON.stringify(lastRace[ri * nodes.length + nodes.indexOf(n)])}`).join(', ')} (contenders ${JSON.stringify(r.contenders.map((c) => [c.status, c.code]))})`,
        );
    }
  });
  if (duplicateGrants)
    anomalies.push({
      checker: 'slugs',
      kind: 'unexpected',
      what: `${duplicateGrants} custom slugs granted (201) more than once: ${raceSamples.join('; ')}`,
      n: duplicateGrants,
    });
  if (raceBad)
    anomalies.push({
      checker: 'slugs',
      kind: 'unexpected',
      what: `${raceBad} raced slugs whose link does not match the race's outcome: ${raceSamples.join('; ')}`,
      n: raceBad,
    });

  // ---- CAS: a final read of every key through every node joins the history
  const keys = w.casKeysUsed();
  await pool(
    keys.flatMap((k) => nodes.map((n) => [k, n] as const)),
    6,
    ([k, n]) => w.finalCasRead(n, k, 15_000),
  );
  const casResults = checkCasHistories(w.cas);
  const cas = {
    ops: w.cas.length,
    keys: casResults.size,
    linearizable: 0,
    inconclusive: 0,
    notLinearizable: 0,
    explored: 0,
  };
  for (const [key, r] of casResults) {
    cas.explored += r.explored;
    if (r.ok) cas.linearizable++;
    else if (r.inconclusive) cas.inconclusive++;
    else {
      cas.notLinearizable++;
      anomalies.push({
        checker: 'cas',
        kind: 'unexpected',
        what: `CAS register ${key} is not linearizable: ${r.reason}`,
        n: 1,
      });
    }
  }
  const createsOk = new Map<string, number>();
  for (const e of w.cas)
    if (e.op.kind === 'create' && e.output?.ok) createsOk.set(e.key, (createsOk.get(e.key) ?? 0) + 1);
  for (const [key, n] of createsOk)
    if (n > 1)
      anomalies.push({
        checker: 'cas',
        kind: 'unexpected',
        what: `CAS register ${key}: ${n} creates succeeded`,
        n: n - 1,
      });

  // ---- sessions replaced while the browser had one
  const reps = w.browsers.flatMap((b) => b.replacements.map((r) => ({ ...r, browser: b.id })));
  const excused = reps.filter((r) => opts.excuseReplacement?.(r) ?? false);
  const unexcused = reps.filter((r) => !(opts.excuseReplacement?.(r) ?? false));
  if (unexcused.length) {
    const byNode = new Map<string, number>();
    for (const r of unexcused) byNode.set(r.node, (byNode.get(r.node) ?? 0) + 1);
    anomalies.push({
      checker: 'sessions',
      kind: 'unexpected',
      what: `${unexcused.length} answers (${new Set(unexcused.map((r) => r.browser)).size} browsers) set a NEW session cookie for a browser that had a valid session (the node could not read it and issued another: the browser would lose its links); by node ${JSON.stringify(Object.fromEntries(byNode))}; at ${unexcused
        .slice(0, 5)
        .map((r) => `${Math.round(r.at - cluster.t0)} ms`)
        .join(', ')}`,
      n: unexcused.length,
    });
  }

  // ---- processes that exited by themselves
  for (const life of cluster.lives)
    if (life.end === 'exit')
      anomalies.push({
        checker: 'process',
        kind: 'unexpected',
        what: `${life.name} (life ${life.gen}) exited by itself: ${JSON.stringify(life.exit)}`,
        n: 1,
      });

  return {
    convergenceMs: convergedAt === null ? null : Math.round(convergedAt - opts.healedAt),
    convergedAfterStopMs: convergedAt === null ? null : Math.round(convergedAt - w.stoppedAt),
    passes,
    passMs,
    ...(settleError ? { settleError } : {}),
    anomalies,
    views: v,
    links: {
      tracked: links.length,
      deleted,
      checkedPairs: pairs.length,
      staleRedirectsAfterDelete: links.reduce((s, l) => s + l.staleAfterDelete, 0),
      notFoundAnswers: links.reduce((s, l) => s + l.notFound, 0),
      expiredAnswers: links.reduce((s, l) => s + l.expiredAnswers.length, 0),
    },
    races: { total: w.races.length, withWinner, duplicateGrants },
    cas,
    sessionReplacements: { total: reps.length, excused: excused.length },
  };
}
