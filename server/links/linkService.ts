// Links as the API sees them: create, read, edit, delete, list, stats, and moving an
// anonymous session's links to an account. Uniqueness of slugs comes from the ring's CAS;
// everything else is available under partition (quorum writes over a sloppy quorum).
import {
  gcounterValue,
  type GCounter,
  type IndexCursor,
  type Random,
  type RingNode,
  type TimerHandle,
  type Timers,
} from '../../ring';
import { hashPassword } from '../auth/passwords';
import { conflict, gone, invalidInput, notFound, unavailable, type DomainError } from '../domain/errors';
import { contextOf, liveValue, RingCallError, type RingClient } from '../ringClient';
import { randomBytesOf } from '../runtime';
import type { ClickBudget } from './clickBudget';
import type { LinkDirectory } from './linkDirectory';
import { isMintedSlug, mintedSlug, randomSlug, validateSlug, validateTarget } from './rules';
import { emptyStats, mergeStats, summarizeStats, type LinkStats } from './stats';
import { botsKey, linkKey, slugClaimKey, statsKey, viewsKey } from '../datatypes/keys';
import { linkTextFilter, ownerIndexName, type LinkDoc, type RedirectStatus } from './linkDoc';
import type { ViewRecorder } from './viewRecorder';
import type { LinkStatsView, LinkStatus, LinkView } from '../../contract/types';

/** Random slugs tried before giving up on finding one whose replicas are reachable. */
const randomSlugAttemptsMax = 64;
/** Random slugs whose claim is attempted (each a CAS round) before a minted slug is used instead. */
const randomSlugClaimsMax = 4;
/** How long a create tries to claim a short random slug before it mints a long one (mintRandom). */
const randomSlugClaimDeadlineMs = 1_500;
/** Minted slugs tried before a 503 (a taken one is a 1-in-1e25 event: more tries mean a broken random source). */
const mintedSlugAttemptsMax = 3;
/**
 * How long a create may spend claiming its slug before it answers 503. A CAS whose acceptors
 * cannot form a ready quorum (one cut off while the others still catch up after a ring
 * change) retries for many seconds; the person waiting gets an answer instead.
 */
const slugClaimDeadlineMs = 4_000;
/** Parallel reads when listing an owner's links. */
const listConcurrencyMax = 32;
/** Links moved per page when an anonymous session's links become an account's. */
const migratePageLinks = 200;

/** One page of an owner's links, newest first (LinkService.list). */
export interface LinkPage {
  readonly docs: LinkDoc[];
  /** Where the next page starts (strictly after this link), or null at the end. */
  readonly next: IndexCursor | null;
  /** The owner's links (matching `q` when given), counted exactly. */
  readonly total: number;
}

export interface LinkInput {
  url: string;
  slug?: string | undefined;
  expiresAt?: number | null | undefined;
  password?: string | null | undefined;
  maxClicks?: number | null | undefined;
  redirectStatus?: RedirectStatus | undefined;
}

interface SlugClaim {
  owner: string;
  at: number;
  /** Set once its link was created: the slug is then taken for its owner too. */
  created?: true;
}

export interface LinkServiceDeps {
  node: RingNode;
  ring: RingClient;
  directory: LinkDirectory;
  budget: ClickBudget;
  recorder: ViewRecorder;
  now: () => number;
  /** The runtime's timers (claim deadlines) and randomness (random slugs): ring/runtime.ts. */
  timers: Timers;
  random: Random;
  /** This service's own hosts, for the no-loops rule. */
  selfHosts: () => string[];
  allowPrivateTargets: boolean;
  /** Names of the site's own pages and routes, lower-case: never slugs (server/http/reservedSlugs.ts). */
  reservedSlugs: ReadonlySet<string>;
}

async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The promise's value, or undefined when `ms` pass first; a later rejection is ignored. */
async function within<T>(p: Promise<T>, ms: number, timers: Timers): Promise<T | undefined> {
  let timer: TimerHandle | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = timers.setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  p.catch(() => {});
  try {
    return await Promise.race([p, late]);
  } finally {
    if (timer) timers.clearTimeout(timer);
  }
}

function claimTimedOut(slug: string): DomainError {
  return unavailable(
    `The slug "${slug}" could not be claimed in time: too few of its replicas can agree right now. ` +
      'Try again in a moment.',
  );
}

export function linkStatus(doc: LinkDoc, served: number, now: number): LinkStatus {
  if (doc.deletedAt !== null) return 'deleted';
  if (doc.expiresAt !== null && doc.expiresAt <= now) return 'expired';
  if (doc.maxClicks !== null && served >= doc.maxClicks) return 'used_up';
  return 'active';
}

export class LinkService {
  constructor(private readonly d: LinkServiceDeps) {}

  checkTarget(url: string): string {
    const r = validateTarget(url, { selfHosts: this.d.selfHosts(), allowPrivate: this.d.allowPrivateTargets });
    if (!r.ok) throw invalidInput('url', r.code, r.message);
    return r.url;
  }

  checkExpiry(expiresAt: number | null | undefined): number | null {
    if (expiresAt === undefined || expiresAt === null) return null;
    if (expiresAt <= this.d.now())
      throw invalidInput('expiresAt', 'expiry_in_past', 'The expiry must be in the future.');
    return expiresAt;
  }

  /**
   * Every rule a create or an edit must meet that needs no ring state, so the API can refuse
   * bad input with its 4xx before it touches the ring (a node that cannot reach a quorum
   * still says what is wrong with the input, not 503). Returns the normalized target.
   */
  checkInput(input: Partial<LinkInput>): { url: string | undefined; expiresAt: number | null | undefined } {
    const url = input.url !== undefined ? this.checkTarget(input.url) : undefined;
    const expiresAt = input.expiresAt !== undefined ? this.checkExpiry(input.expiresAt) : undefined;
    if (input.slug !== undefined) {
      const v = validateSlug(input.slug, this.d.reservedSlugs);
      if (!v.ok) throw invalidInput('slug', v.code, v.message);
      // A minted slug is never claimed (mintRandom), so no custom slug may take one's shape.
      if (isMintedSlug(input.slug))
        throw invalidInput(
          'slug',
          'slug_reserved',
          `"${input.slug}" has the shape of the random slugs this site makes (15 letters and digits). ` +
            'Change a character.',
        );
    }
    return { url, expiresAt };
  }

  async create(owner: string, input: LinkInput): Promise<LinkDoc> {
    const checked = this.checkInput(input);
    const url = checked.url!;
    const expiresAt = checked.expiresAt ?? null;
    const slug = input.slug !== undefined ? await this.claimCustom(owner, input.slug) : await this.claimRandom(owner);
    const now = this.d.now();
    const doc: LinkDoc = {
      slug,
      url,
      owner,
      createdAt: now,
      updatedAt: now,
      expiresAt,
      maxClicks: input.maxClicks ?? null,
      redirectStatus: input.redirectStatus ?? 302,
      password: input.password ? await hashPassword(input.password) : null,
      deletedAt: null,
    };
    if (doc.maxClicks !== null) await this.d.budget.setMax(slug, doc.maxClicks);
    // The owner's list is the ring's index of link documents: this write alone lists it.
    await this.d.ring.put(linkKey(slug), doc);
    this.d.directory.published(slug, doc);
    if (input.slug !== undefined) await this.markCreated(owner, slug);
    return doc;
  }

  /**
   * The claim records that its link exists, so the owner's next create of the slug is
   * refused without reading the link, which a partition can hide: the shortener simulation
   * saw a second create by the same owner read "no link" from fallbacks and overwrite the
   * first (server/sim, regression seed in tests/sim/shortener.test.ts). Best effort: without
   * the mark, that create still reads the link first.
   */
  private async markCreated(owner: string, slug: string): Promise<void> {
    await this.d.ring
      .casRetrying(slugClaimKey(slug), (cur) => {
        const held = cur as SlugClaim | undefined;
        if (held?.owner !== owner || held.created) return { next: cur, result: false };
        return { next: { ...held, created: true }, result: true };
      })
      .catch(() => false);
  }

  /** A custom slug is granted once, through CAS. Its owner may retry a create that failed after the claim. */
  private async claimCustom(owner: string, slug: string): Promise<string> {
    const claim: SlugClaim = { owner, at: this.d.now() };
    const claiming = this.d.ring.casRetrying(slugClaimKey(slug), (cur) =>
      cur ? { next: cur, result: cur as SlugClaim } : { next: claim, result: claim },
    );
    // Past the deadline the claim may still land; its owner can simply create again (below).
    const held = await within(claiming, slugClaimDeadlineMs, this.d.timers);
    if (!held) throw claimTimedOut(slug);
    const taken = () =>
      conflict(
        'slug',
        'slug_taken',
        `The slug "${slug}" is already taken. Choose another one, or leave it empty for a random one.`,
      );
    if (held.owner !== owner || held.created) throw taken();
    if (held.at !== claim.at && liveValue(await this.d.ring.get(linkKey(slug))) !== undefined) throw taken();
    return slug;
  }

  /**
   * A random slug, claimed through CAS like a custom one, chosen among slugs whose claim
   * register has a majority of replicas reachable from here. When no such claim succeeds
   * within `randomSlugClaimDeadlineMs` (no majority of any claim register on this side of a
   * network partition, or the acceptors do not answer), the create mints a longer slug that
   * needs no claim (mintRandom), so creating stays available wherever W replicas of the
   * link are reachable.
   */
  private async claimRandom(owner: string): Promise<string> {
    const deadline = this.d.now() + randomSlugClaimDeadlineMs;
    for (let claims = 0; claims < randomSlugClaimsMax && this.d.now() < deadline; claims++) {
      const slug = this.reachableRandomSlug();
      if (!slug) break;
      const claim: SlugClaim = { owner, at: this.d.now() };
      try {
        // A claim that lands after the deadline only reserves a random slug nobody uses.
        const claiming = this.d.ring.casRetrying(slugClaimKey(slug), (cur) =>
          cur ? { next: cur, result: cur as SlugClaim } : { next: claim, result: claim },
        );
        const held = await within(claiming, deadline - this.d.now(), this.d.timers);
        if (!held) break;
        if (held.owner === owner && held.at === claim.at) return slug;
      } catch (err) {
        if (!(err instanceof RingCallError)) throw err;
      }
    }
    return this.mintRandom();
  }

  /**
   * A minted slug (rules.ts mintedSlug: 14 random base62 characters and a check character;
   * any two of a billion collide with probability 4.0e-8), put only where no node this one
   * can reach holds a link under it: it is never claimed, and its link is written by the
   * sloppy quorum (W acknowledgements) like any other.
   */
  private async mintRandom(): Promise<string> {
    let lastError: unknown;
    for (let i = 0; i < mintedSlugAttemptsMax; i++) {
      const slug = mintedSlug((n) => randomBytesOf(this.d.random, n));
      if (!validateSlug(slug, this.d.reservedSlugs).ok) continue;
      try {
        if (!(await this.d.ring.getEverywhere(linkKey(slug))).found) return slug;
        lastError = new Error(`the minted slug "${slug}" is taken`);
      } catch (err) {
        if (!(err instanceof RingCallError)) throw err;
        lastError = err;
      }
    }
    const why = lastError instanceof Error ? lastError.message : 'too few replicas reachable';
    throw unavailable(`No slug could be claimed right now (${why}). Try again in a moment.`);
  }

  private reachableRandomSlug(): string | undefined {
    for (let i = 0; i < randomSlugAttemptsMax; i++) {
      const slug = randomSlug(this.d.reservedSlugs, (n) => randomBytesOf(this.d.random, n));
      const { primaries } = this.d.node.placement(slugClaimKey(slug));
      const up = primaries.filter((n) => this.d.node.isUp(n)).length;
      if (primaries.length > 0 && up * 2 > primaries.length) return slug;
    }
    return undefined;
  }

  /** The owner's link, with the context to write over it; 404 when it is missing or someone else's. */
  async owned(owner: string, slug: string): Promise<{ doc: LinkDoc; context: ReturnType<typeof contextOf> }> {
    if (!validateSlug(slug, new Set()).ok) throw notFound('link_not_found', `There is no link "${slug}" among yours.`);
    const r = await this.d.ring.get(linkKey(slug));
    const doc = liveValue<LinkDoc>(r);
    if (!doc || doc.owner !== owner) throw notFound('link_not_found', `There is no link "${slug}" among yours.`);
    return { doc, context: contextOf(r) };
  }

  async update(owner: string, slug: string, patch: Partial<LinkInput>): Promise<LinkDoc> {
    const { doc, context } = await this.owned(owner, slug);
    if (doc.deletedAt !== null) throw gone('link_deleted', 'This link was deleted and can no longer be edited.');
    const next: LinkDoc = {
      ...doc,
      url: patch.url !== undefined ? this.checkTarget(patch.url) : doc.url,
      expiresAt: patch.expiresAt !== undefined ? this.checkExpiry(patch.expiresAt) : doc.expiresAt,
      maxClicks: patch.maxClicks !== undefined ? patch.maxClicks : doc.maxClicks,
      redirectStatus: patch.redirectStatus ?? doc.redirectStatus,
      password:
        patch.password === undefined
          ? doc.password
          : patch.password === null
            ? null
            : await hashPassword(patch.password),
      updatedAt: Math.max(this.d.now(), doc.updatedAt + 1),
    };
    if (next.maxClicks !== null && next.maxClicks !== doc.maxClicks) await this.d.budget.setMax(slug, next.maxClicks);
    await this.d.ring.put(linkKey(slug), next, context);
    this.d.directory.published(slug, next);
    return next;
  }

  /** The document stays (marked deleted): the short URL answers 410 and the slug is never reissued. */
  async remove(owner: string, slug: string): Promise<void> {
    const { doc, context } = await this.owned(owner, slug);
    if (doc.deletedAt !== null) return;
    const next: LinkDoc = { ...doc, deletedAt: this.d.now(), updatedAt: Math.max(this.d.now(), doc.updatedAt + 1) };
    await this.d.ring.put(linkKey(slug), next, context);
    this.d.directory.published(slug, next);
  }

  /**
   * One page of the owner's links, newest first, strictly after `after`, from the ring's
   * owner index (2 replicas per partition reconciled), with the exact total; `q` (lower-case)
   * keeps links whose slug or target contains it.
   */
  async list(owner: string, o: { limit: number; after?: IndexCursor; q?: string }): Promise<LinkPage> {
    const filter = o.q ? { filter: { name: linkTextFilter.name, arg: o.q } } : {};
    const args = { index: ownerIndexName, term: owner, ...filter };
    // The page and the exact total in one coverage query (with q, one pass over the values).
    const page = await this.d.ring.indexPage({
      ...args,
      limit: o.limit,
      count: true,
      ...(o.after ? { after: o.after } : {}),
    });
    return { docs: page.items.map((i) => i.value as LinkDoc), next: page.next, total: page.count! };
  }

  async totals(slug: string): Promise<{ total: number; bots: number }> {
    const [views, bots] = await Promise.all([
      this.d.ring.readCounter(viewsKey(slug)),
      this.d.ring.readCounter(botsKey(slug)),
    ]);
    return { total: gcounterValue(views.value as GCounter), bots: gcounterValue(bots.value as GCounter) };
  }

  async view(doc: LinkDoc, baseUrl: string): Promise<LinkView> {
    const { total, bots } = await this.totals(doc.slug);
    return toView(doc, baseUrl, total, bots, this.d.now());
  }

  /**
   * The answer to a create, without reading the link's counters (two quorum reads): it was
   * claimed and written just now, so no view was counted before. A view counted since is
   * a lag a counter read may show anyway (a node ships its counts every 100 ms).
   */
  createdView(doc: LinkDoc, baseUrl: string): LinkView {
    return toView(doc, baseUrl, 0, 0, this.d.now());
  }

  /** Views of a page of links: their views and bots counters in one batched read (readCounters). */
  async views(docs: readonly LinkDoc[], baseUrl: string): Promise<LinkView[]> {
    if (docs.length === 0) return [];
    const keys = docs.flatMap((d) => [viewsKey(d.slug), botsKey(d.slug)]);
    const { values } = await this.d.ring.readCounters(keys);
    const now = this.d.now();
    return docs.map((d, i) =>
      toView(d, baseUrl, gcounterValue(values[2 * i] as GCounter), gcounterValue(values[2 * i + 1] as GCounter), now),
    );
  }

  async stats(slug: string): Promise<LinkStatsView> {
    const [totals, r] = await Promise.all([this.totals(slug), this.d.ring.get(statsKey(slug))]);
    let s: LinkStats = liveValue<LinkStats>(r) ?? emptyStats();
    const local = this.d.recorder.localStats(slug);
    if (local) s = mergeStats(s, local);
    const placement = this.d.node.placement(linkKey(slug));
    return {
      slug,
      ...totals,
      ...summarizeStats(s, this.d.now()),
      partition: placement.partition,
      nodes: [
        ...placement.primaries.map((name) => ({ name, role: 'primary' as const, up: this.d.node.isUp(name) })),
        ...placement.fallbacks.map((name) => ({ name, role: 'fallback' as const, up: this.d.node.isUp(name) })),
      ],
    };
  }

  /** Sign-in: the anonymous session's links become the account's. Returns how many moved. */
  async migrate(from: string, to: string): Promise<number> {
    let movedTotal = 0;
    let after: IndexCursor | undefined;
    for (;;) {
      const page = await this.d.ring.indexPage({
        index: ownerIndexName,
        term: from,
        limit: migratePageLinks,
        ...(after ? { after } : {}),
      });
      movedTotal += await this.move(
        page.items.map((i) => (i.value as LinkDoc).slug),
        from,
        to,
      );
      if (!page.next) return movedTotal;
      after = page.next;
    }
  }

  private async move(slugs: readonly string[], from: string, to: string): Promise<number> {
    const moved = await mapBounded(slugs, listConcurrencyMax, async (slug) => {
      const r = await this.d.ring.get(linkKey(slug));
      const doc = liveValue<LinkDoc>(r);
      if (!doc || doc.owner !== from) return null;
      const next: LinkDoc = { ...doc, owner: to, updatedAt: Math.max(this.d.now(), doc.updatedAt + 1) };
      await this.d.ring.put(linkKey(slug), next, contextOf(r));
      this.d.directory.published(slug, next);
      return slug;
    });
    return moved.filter((s) => s !== null).length;
  }
}

export function toView(doc: LinkDoc, baseUrl: string, total: number, bots: number, now: number): LinkView {
  return {
    slug: doc.slug,
    shortUrl: `${baseUrl}/${doc.slug}`,
    url: doc.url,
    createdAt: new Date(doc.createdAt).toISOString(),
    updatedAt: new Date(doc.updatedAt).toISOString(),
    expiresAt: doc.expiresAt === null ? null : new Date(doc.expiresAt).toISOString(),
    maxClicks: doc.maxClicks,
    redirectStatus: doc.redirectStatus,
    hasPassword: doc.password !== null,
    status: linkStatus(doc, total + bots, now),
    total,
    bots,
  };
}
