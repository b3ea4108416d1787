// Browser sessions on the ring (README.md, Security; docs/api.md, Who is calling): a random 128-bit id, which
// the HTTP layer carries in a cookie (server/http/sessionCookie.ts); the ring stores the session under a hash
// of the id, so a replica (or its disk) never holds a usable cookie. Expiry slides: a session in use is extended,
// at most once per `refreshEveryMs`, and the ring itself forgets expired ones. Ids come
// from the runtime's randomness (ring/runtime.ts Random.hex): node:crypto's CSPRNG in
// production (server/runtime.ts cryptoRandom), the seeded one in the simulator.
//
// A session is never replaced while a majority of its primaries is reachable: a new one is
// handed out only once a majority of its key's primaries hold it, and a cookie whose
// session this node cannot find is replaced only when a majority of those primaries answer
// that they do not hold it (two majorities share a primary). A write acknowledged by the
// sloppy quorum alone is not enough: during a partition it may sit on fallbacks only, which
// the other side cannot ask (the shortener simulation found it: server/sim, regression
// seeds in tests/sim/shortener.test.ts).
import { createHash } from 'node:crypto';
import type { Random, RingNode } from '../../ring';
import { appMessages } from '../appMessages';
import { sessionKey } from '../datatypes/keys';
import { unavailable } from '../domain/errors';
import { liveValue, type RingClient } from '../ringClient';
import type { SessionDoc } from './docs';
import { ReadThroughCache } from '../readThrough';
import { randomBytesOf } from '../runtime';

export const sessionTtlMs = 30 * 24 * 3600_000;

export interface SessionLimits {
  /** A session lives this long after it was last extended. */
  ttlMs: number;
  /** A session in use is extended at most once per this interval. */
  refreshEveryMs: number;
  /** Sessions a node caches, and for how long. */
  cache: { entriesMax: number; ttlMs: number };
}

export const defaultSessionLimits: SessionLimits = {
  ttlMs: sessionTtlMs,
  refreshEveryMs: 24 * 3600_000,
  cache: { entriesMax: 50_000, ttlMs: 5_000 },
};
const sessionIdPattern = /^[A-Za-z0-9_-]{22}$/;
/** How long a primary has to answer it. */
const primaryAskTimeoutMs = 1_000;
/** Ids drawn for a new session, looking for one whose key has a majority of its primaries up here. */
const newIdDrawsMax = 64;
/** New sessions stored before giving up (each is confirmed by a majority of its primaries). */
const newSessionAttemptsMax = 2;
/** Rounds asking the primaries whether they hold a new session (the put reaches the last ones a little later). */
const confirmRoundsMax = 3;

/** A primary's answer: its live copy, "absent" (none, expired or ended), or that it is not a primary of the key. */
export type PrimaryCopy = SessionDoc | 'absent' | 'not-primary';

export interface Session {
  readonly id: string;
  readonly idHash: string;
  readonly doc: SessionDoc;
  /** Written by the call that returned it (created, refreshed or rotated): the client must be given it again. */
  readonly issued: boolean;
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 32);
}

export class Sessions {
  private readonly docs: ReadThroughCache<SessionDoc>;
  private readonly signedOutListeners: ((idHash: string) => void)[] = [];

  constructor(
    private readonly node: RingNode,
    private readonly ring: RingClient,
    private readonly now: () => number,
    /** Draws session ids: 16 bytes of `hex`, crypto-strength in production. */
    private readonly random: Random,
    private readonly limits: SessionLimits = defaultSessionLimits,
  ) {
    this.docs = new ReadThroughCache(node, ring, appMessages.messages.session, limits.cache, now);
    node.app.serve(appMessages.rpcs['session.primary-copy'], (_from, body: unknown, reply) => {
      const key = (body as { key?: unknown } | null)?.key;
      reply(typeof key === 'string' && key.startsWith(sessionKey('')) ? this.primaryCopy(key) : 'not-primary');
    });
  }

  /** The session the client's id names, refreshed when due, or null (no id, unknown, or expired). */
  async current(id: string | undefined): Promise<Session | null> {
    const session = await this.identify(id);
    const { ttlMs, refreshEveryMs } = this.limits;
    if (session && session.doc.expiresAt - this.now() < ttlMs - refreshEveryMs) {
      return this.store(session.id, { ...session.doc, expiresAt: this.now() + ttlMs });
    }
    return session;
  }

  /** The session the client's id names, without refreshing it (socket handshakes). */
  async identify(id: string | undefined): Promise<Session | null> {
    if (!id || !sessionIdPattern.test(id)) return null;
    const idHash = hashSessionId(id);
    const doc = await this.docs.get(sessionKey(idHash));
    return doc && doc.expiresAt > this.now() ? { id, idHash, doc, issued: false } : null;
  }

  /** The client's session, or a new anonymous one when it has none. */
  async ensure(id: string | undefined): Promise<Session> {
    const existing = await this.current(id);
    if (existing) return existing;
    // The cookie names a session this node did not find. Replacing it would orphan whatever
    // that session owns, so first ask every member up (after a partition heals, a fallback may
    // still hold it as a hint that the primaries have not received yet), then its primaries:
    // it is replaced only when a majority of them answer that they do not hold it.
    const old = id;
    if (old && sessionIdPattern.test(old)) {
      const idHash = hashSessionId(old);
      const key = sessionKey(idHash);
      const unreachable = () =>
        unavailable(
          'The nodes holding your session cannot be reached from this node right now; your links are safe. Try again in a moment.',
        );
      const found = liveValue<SessionDoc>(await this.ring.getEverywhere(key));
      let copies: (PrimaryCopy | undefined)[];
      if (found && found.expiresAt > this.now()) copies = [found];
      else if (this.ring.primaryQuorumUp(key)) copies = await this.askPrimaries(key, () => false);
      else throw unreachable();
      const doc = copies.find((c): c is SessionDoc => typeof c === 'object');
      if (doc) {
        this.docs.set(key, doc);
        return { id: old, idHash, doc, issued: false };
      }
      if (copies.filter((c) => c === 'absent').length < majorityOf(copies.length)) throw unreachable();
    }
    const doc: SessionDoc = {
      accountId: null,
      username: null,
      createdAt: this.now(),
      expiresAt: this.now() + this.limits.ttlMs,
    };
    return this.storeNew(doc);
  }

  /** Sign in: a new session id (rotation defeats fixation); the old session is ended. */
  async signIn(old: Session | null, account: { id: string; username: string }): Promise<Session> {
    const doc: SessionDoc = {
      accountId: account.id,
      username: account.username,
      createdAt: this.now(),
      expiresAt: this.now() + this.limits.ttlMs,
    };
    const session = await this.storeNew(doc);
    if (old) await this.end(old.idHash);
    return session;
  }

  /** Called with the session id hash after every sign-out (live sockets of that session are dropped). */
  onSignedOut(listener: (idHash: string) => void): void {
    this.signedOutListeners.push(listener);
  }

  async signOut(session: Session): Promise<void> {
    await this.end(session.idHash);
    for (const listener of this.signedOutListeners) listener(session.idHash);
  }

  /** A random 128-bit id, base64url (22 characters). */
  private newId(): string {
    return randomBytesOf(this.random, 16).toString('base64url');
  }

  /**
   * Store a new session, returned once a majority of its key's primaries hold it.
   * Its id is drawn among those whose key has a majority of its primaries up here.
   */
  private async storeNew(doc: SessionDoc): Promise<Session> {
    let draws = 0;
    for (let attempt = 0; attempt < newSessionAttemptsMax; attempt++) {
      let id = this.newId();
      while (!this.ring.primaryQuorumUp(sessionKey(hashSessionId(id))) && ++draws < newIdDrawsMax) id = this.newId();
      const idHash = hashSessionId(id);
      const key = sessionKey(idHash);
      await this.ring.put(key, doc, {});
      for (let round = 0; round < confirmRoundsMax; round++) {
        const copies = await this.askPrimaries(key, (held, of) => held >= majorityOf(of));
        if (copies.filter((c) => typeof c === 'object').length >= majorityOf(copies.length)) {
          this.docs.set(key, doc);
          return { id, idHash, doc, issued: true };
        }
      }
    }
    throw unavailable(
      'Too few of the nodes that would hold a new session can be reached from this node right now. Try again.',
    );
  }

  /** This node's own copy of a session, as one of its key's primaries. */
  private primaryCopy(key: string): PrimaryCopy {
    const r = this.node.localRead(key);
    if (!r) return 'not-primary';
    const doc = liveValue<SessionDoc>(r);
    return doc && doc.expiresAt > this.now() ? doc : 'absent';
  }

  /**
   * Each of the key's primaries' own copy (this node's directly), in placement order;
   * undefined for one that did not answer. Settles early once `enough(held, of)` says so.
   */
  private askPrimaries(
    key: string,
    enough: (held: number, of: number) => boolean,
  ): Promise<(PrimaryCopy | undefined)[]> {
    const { primaries } = this.node.placement(key);
    const answers = new Array<PrimaryCopy | undefined>(primaries.length);
    return new Promise((resolve) => {
      let pending = primaries.length;
      let held = 0;
      const answer = (i: number, copy: PrimaryCopy | undefined) => {
        answers[i] = copy;
        if (typeof copy === 'object') held++;
        if (--pending === 0 || enough(held, primaries.length)) resolve(answers);
      };
      if (pending === 0) return resolve(answers);
      primaries.forEach((name, i) => {
        if (name === this.node.name) return answer(i, this.primaryCopy(key));
        this.ring.callApp(name, appMessages.rpcs['session.primary-copy'], { key }, primaryAskTimeoutMs).then(
          (copy) => answer(i, isPrimaryCopy(copy) ? copy : undefined),
          () => answer(i, undefined),
        );
      });
    });
  }

  private async end(idHash: string): Promise<void> {
    const r = await this.ring.get(sessionKey(idHash));
    await this.ring.delete(sessionKey(idHash), r.found ? r.context : {});
    this.docs.invalidate(sessionKey(idHash));
  }

  private async store(id: string, doc: SessionDoc): Promise<Session> {
    const idHash = hashSessionId(id);
    const prior = await this.ring.get(sessionKey(idHash));
    await this.ring.put(sessionKey(idHash), doc, prior.found ? prior.context : {});
    this.docs.set(sessionKey(idHash), doc);
    return { id, idHash, doc, issued: true };
  }
}

const majorityOf = (n: number) => Math.floor(n / 2) + 1;

function isPrimaryCopy(v: unknown): v is PrimaryCopy {
  if (v === 'absent' || v === 'not-primary') return true;
  const d = v as SessionDoc | null;
  return typeof d === 'object' && d !== null && typeof d.expiresAt === 'number' && typeof d.createdAt === 'number';
}
