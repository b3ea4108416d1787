// The shortener's invariants, checked on what the simulated clients saw (the history) and
// on the cluster's state once the faults healed and the cluster went quiet. Pure functions
// of plain data, so tests can feed them a bad history (tests/sim/shortenerCheckers.test.ts).
//   slug-once      a slug is granted once (to one owner, and to it again only after a create
//                  that failed), whatever the partitions
//   max-clicks     a link never serves more clicks than its maximum, and once idle the
//                  clicks served plus those stranded with dead node lives equal the maximum
//   views-exact    every view a redirect counted is in the link's total exactly once (only
//                  views a crash took before they were shipped may be missing)
//   session-kept   a session is never replaced while a majority of its primaries is reachable

export interface ShortenerViolation {
  readonly invariant: 'slug-once' | 'max-clicks' | 'views-exact' | 'session-kept' | 'converged';
  readonly detail: string;
}

/** A create as a client saw it: `ok` when the API answered with the link. */
export interface CreateRecord {
  readonly client: string;
  readonly owner: string;
  readonly node: string;
  readonly invokedAt: number;
  /** The custom slug asked for; undefined for a random one. */
  readonly custom: string | undefined;
  outcome: 'pending' | 'ok' | 'taken' | 'failed';
  /** The granted slug (outcome ok). */
  slug?: string;
  completedAt?: number;
}

/** The final link documents, by slug (merged over every live replica). */
export type FinalLinks = ReadonlyMap<string, { owner: string }>;

export function checkSlugsGrantedOnce(creates: readonly CreateRecord[], finalLinks: FinalLinks): ShortenerViolation[] {
  const out: ShortenerViolation[] = [];
  const owners = new Map<string, Set<string>>();
  const randomGrants = new Map<string, number>();
  for (const c of creates) {
    if (c.outcome !== 'ok' || c.slug === undefined) continue;
    let set = owners.get(c.slug);
    if (!set) owners.set(c.slug, (set = new Set()));
    set.add(c.owner);
    if (c.custom === undefined) randomGrants.set(c.slug, (randomGrants.get(c.slug) ?? 0) + 1);
  }
  const violation = (detail: string) => out.push({ invariant: 'slug-once', detail });
  for (const [slug, set] of owners) {
    if (set.size > 1) violation(`"${slug}" was granted to ${set.size} owners: ${[...set].join(', ')}`);
    const doc = finalLinks.get(slug);
    if (!doc) violation(`"${slug}" was granted but no replica holds its link`);
    else if (!set.has(doc.owner)) violation(`"${slug}" belongs to ${doc.owner}, not to the owner it was granted to`);
  }
  for (const [slug, n] of randomGrants) if (n > 1) violation(`random slug "${slug}" was granted ${n} times`);
  // An owner may create a slug again after a create that failed, not after one that succeeded.
  const done = new Map<string, CreateRecord>();
  for (const c of [...creates].filter((c) => c.outcome === 'ok').sort((a, b) => a.invokedAt - b.invokedAt)) {
    const first = done.get(c.slug!);
    if (first && first.completedAt! < c.invokedAt) {
      violation(
        `"${c.slug}" was granted again to ${c.owner} at ${c.invokedAt}, after ${first.client}'s create succeeded`,
      );
    }
    if (!first) done.set(c.slug!, c);
  }
  return out;
}

/** A max-clicks link's record: clicks served per node life (redirects a client received). */
export interface BudgetRecord {
  readonly slug: string;
  readonly max: number;
  readonly servedByLife: ReadonlyMap<string, number>;
}

/** The budget register once idle (read through CAS): what was granted to whom. */
export interface BudgetFinal {
  readonly max: number;
  readonly granted: number;
  readonly holders: Readonly<Record<string, number>>;
}

/**
 * `budgets` holds every max-clicks link; `finals` the register of each one, read after the
 * clients used up every click following the heal (undefined when it could not be read);
 * `deadLives` the node lives that ended (a crash, a leave): what they were granted and did
 * not serve is stranded, by design. `exhausted` says whether that phase ended: every link
 * answered "used up" in two bursts in a row, with idle leases handed back in between.
 */
export function checkMaxClicks(
  budgets: readonly BudgetRecord[],
  finals: ReadonlyMap<string, BudgetFinal | undefined>,
  deadLives: ReadonlySet<string>,
  exhausted: boolean,
): ShortenerViolation[] {
  const out: ShortenerViolation[] = [];
  const violation = (detail: string) => out.push({ invariant: 'max-clicks', detail });
  if (!exhausted && budgets.length > 0) violation("after the heal, the clients could not use up every link's clicks");
  for (const b of budgets) {
    let served = 0;
    for (const n of b.servedByLife.values()) served += n;
    if (served > b.max) violation(`${b.slug}: ${served} clicks served, max ${b.max}`);
    if (!exhausted) continue;
    const f = finals.get(b.slug);
    if (!f) {
      violation(`${b.slug}: its budget could not be read after the heal`);
      continue;
    }
    let held = 0;
    let stranded = 0;
    for (const [holder, n] of Object.entries(f.holders)) {
      held += n;
      const spent = b.servedByLife.get(holder) ?? 0;
      if (spent > n) violation(`${b.slug}: life ${holder} served ${spent} clicks, granted ${n}`);
      if (deadLives.has(holder)) stranded += Math.max(0, n - spent);
      else if (n !== spent) violation(`${b.slug}: live holder ${holder} keeps ${n} clicks once idle, served ${spent}`);
    }
    for (const [life, spent] of b.servedByLife) {
      if (spent > 0 && f.holders[life] === undefined) {
        violation(`${b.slug}: life ${life} served ${spent} clicks, never granted`);
      }
    }
    if (f.granted !== held) violation(`${b.slug}: granted ${f.granted}, holders hold ${held}`);
    if (f.granted > f.max) violation(`${b.slug}: granted ${f.granted} above max ${f.max}`);
    if (served + stranded !== b.max) {
      violation(`${b.slug}: idle with ${served} served + ${stranded} stranded in dead lives != max ${b.max}`);
    }
  }
  return out;
}

/** A counter slot's part of a link's views: what the redirects through its life counted, what the cluster holds. */
export interface ViewSlot {
  readonly slot: string;
  /** Views the redirect path counted in this slot (redirects the clients received). */
  readonly counted: number;
  /** The slot's value in the replicas' merged counter after the heal. */
  readonly held: number;
  /** For a slot whose life crashed: what a write quorum had acknowledged when it did; undefined for a live slot. */
  readonly ackedAtCrash: number | undefined;
}

export interface ViewRecord {
  readonly key: string;
  readonly slots: readonly ViewSlot[];
  /** The total the API reports on each live node, after the heal (undefined: the read failed). */
  readonly reported: ReadonlyMap<string, number | undefined>;
}

export function checkViewTotals(views: readonly ViewRecord[]): ShortenerViolation[] {
  const out: ShortenerViolation[] = [];
  const violation = (detail: string) => out.push({ invariant: 'views-exact', detail });
  for (const v of views) {
    let held = 0;
    for (const s of v.slots) {
      held += s.held;
      if (s.ackedAtCrash === undefined) {
        if (s.held !== s.counted) violation(`${v.key}: live slot ${s.slot} holds ${s.held}, counted ${s.counted}`);
      } else if (s.held > s.counted || s.held < s.ackedAtCrash) {
        const range = `[acked ${s.ackedAtCrash}, counted ${s.counted}]`;
        violation(`${v.key}: crashed slot ${s.slot} holds ${s.held}, outside ${range}`);
      }
    }
    for (const [node, total] of v.reported) {
      if (total === undefined) violation(`${v.key}: ${node} could not read the total after the heal`);
      else if (total !== held) violation(`${v.key}: ${node} reports ${total}, the replicas hold ${held}`);
    }
  }
  return out;
}

/** One Sessions.ensure a client made with a cookie, and what the network was like when it did. */
export interface EnsureRecord {
  readonly client: string;
  readonly node: string;
  readonly invokedAt: number;
  /** The session the cookie named. */
  readonly cookie: string;
  /** The cookie's session had been stored (a client received it) before this request. */
  readonly cookieAcked: boolean;
  /** The session key's primaries (the serving node's view) at the start. */
  readonly primaries: readonly string[];
  /** How many of them were up, with both directions open to the serving node, at the start. */
  readonly reachable: number;
  /** Whether any fault (partition, crash, block, heal) happened while the request ran. */
  networkChanged: boolean;
  outcome: 'pending' | 'ok' | 'failed';
  /** The session the answer carried. */
  result?: string;
  completedAt?: number;
}

export function checkSessionsKept(ensures: readonly EnsureRecord[]): ShortenerViolation[] {
  const out: ShortenerViolation[] = [];
  for (const e of ensures) {
    if (e.outcome !== 'ok' || !e.cookieAcked || e.result === e.cookie || e.networkChanged) continue;
    if (e.reachable * 2 > e.primaries.length) {
      out.push({
        invariant: 'session-kept',
        detail:
          `${e.client}'s session ${e.cookie.slice(0, 6)}… replaced by ${e.result?.slice(0, 6)}… on ${e.node} ` +
          `at ${e.invokedAt}-${e.completedAt} while ${e.reachable} of its primaries [${e.primaries.join(',')}] ` +
          'were reachable',
      });
    }
  }
  return out;
}
