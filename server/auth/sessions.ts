// Browser sessions on the ring (README.md, Security; docs/api.md, Who is calling): a random 128-bit id in an HttpOnly,
// SameSite=Lax cookie; the ring stores the session under a hash of the id, so a replica
// (or its disk) never holds a usable cookie. Expiry slides: a session in use is extended,
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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RingNode } from '../../ring/node/ringNode';
import type { Random } from '../../ring/runtime';
import { liveValue, RingCallError, type RingClient } from '../ringClient';
import { sessionKey, type SessionDoc } from '../links/types';
import { ReadThroughCache } from '../readThrough';
import { randomBytesOf } from '../runtime';

export const sessionCookie = 'rl_sid';
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
/** The app request a session key's primaries answer with their own copy (primaryCopy). */
const primaryCopyMethod = 'session:primary-copy';
/** How long a primary has to answer it. */
const primaryAskTimeoutMs = 1_000;
/** Ids drawn for a new session, looking for one whose key has a majority of its primaries up here. */
const newIdDrawsMax = 64;
/** New sessions stored before giving up (each is confirmed by a majority of its primaries). */
const newSessionAttemptsMax = 2;
/** Rounds asking the primaries whether they hold a new session (the put reaches the last ones a little later). */
const confirmRoundsMax = 3;

/** A primary's answer: its live copy, "absent" (none, expired or ended), or that it is not a primary of the key. */
type PrimaryCopy = SessionDoc | 'absent' | 'not-primary';

export interface Session {
  readonly id: string;
  readonly idHash: string;
  readonly doc: SessionDoc;
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 32);
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
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
    private readonly secureCookies: boolean,
    private readonly limits: SessionLimits = defaultSessionLimits,
  ) {
    this.docs = new ReadThroughCache(node, ring, 'session', limits.cache, now);
    node.serveApp(primaryCopyMethod, (_from, body: { key?: unknown } | null, reply) => {
      const key = body?.key;
      reply(typeof key === 'string' && key.startsWith(sessionKey('')) ? this.primaryCopy(key) : 'not-primary');
    });
  }

  /** The caller's session, or null (no cookie, unknown, or expired). */
  async current(req: IncomingMessage, res: ServerResponse): Promise<Session | null> {
    const session = await this.identify(req);
    const { ttlMs, refreshEveryMs } = this.limits;
    if (session && session.doc.expiresAt - this.now() < ttlMs - refreshEveryMs) {
      await this.store(res, session.id, { ...session.doc, expiresAt: this.now() + ttlMs });
    }
    return session;
  }

  /** The session a request's cookie names, without refreshing it (socket handshakes). */
  async identify(req: IncomingMessage): Promise<Session | null> {
    const id = readCookie(req, sessionCookie);
    if (!id || !sessionIdPattern.test(id)) return null;
    const idHash = hashSessionId(id);
    const doc = await this.docs.get(sessionKey(idHash));
    return doc && doc.expiresAt > this.now() ? { id, idHash, doc } : null;
  }

  /** The caller's session, creating an anonymous one (and its cookie) when there is none. */
  async ensure(req: IncomingMessage, res: ServerResponse): Promise<Session> {
    const existing = await this.current(req, res);
    if (existing) return existing;
    // The cookie names a session this node did not find. Replacing it would orphan whatever
    // that session owns, so first ask every member up (after a partition heals, a fallback may
    // still hold it as a hint that the primaries have not received yet), then its primaries:
    // it is replaced only when a majority of them answer that they do not hold it.
    const old = readCookie(req, sessionCookie);
    if (old && sessionIdPattern.test(old)) {
      const idHash = hashSessionId(old);
      const key = sessionKey(idHash);
      const unreachable = () => {
        const message =
          'the nodes holding your session cannot be reached from this node right now; your links are safe, try again in a moment';
        return new RingCallError({ kind: 'unavailable', message });
      };
      const found = liveValue<SessionDoc>(await this.ring.getEverywhere(key));
      let copies: (PrimaryCopy | undefined)[] = [];
      if (found && found.expiresAt > this.now()) copies = [found];
      else if (this.ring.primaryQuorumUp(key)) copies = await this.askPrimaries(key, () => false);
      else throw unreachable();
      const doc = copies.find((c): c is SessionDoc => typeof c === 'object');
      if (doc) {
        this.docs.set(key, doc);
        return { id: old, idHash, doc };
      }
      if (copies.filter((c) => c === 'absent').length < majorityOf(copies.length)) throw unreachable();
    }
    const doc: SessionDoc = {
      accountId: null,
      username: null,
      createdAt: this.now(),
      expiresAt: this.now() + this.limits.ttlMs,
    };
    const { id, idHash } = await this.storeNew(res, doc);
    return { id, idHash, doc };
  }

  /** Sign in: a new session id (rotation defeats fixation); the old session is ended. */
  async signIn(res: ServerResponse, old: Session | null, account: { id: string; username: string }): Promise<Session> {
    const doc: SessionDoc = {
      accountId: account.id,
      username: account.username,
      createdAt: this.now(),
      expiresAt: this.now() + this.limits.ttlMs,
    };
    const { id, idHash } = await this.storeNew(res, doc);
    if (old) await this.end(old.idHash);
    return { id, idHash, doc };
  }

  /** Called with the session id hash after every sign-out (live sockets of that session are dropped). */
  onSignedOut(listener: (idHash: string) => void): void {
    this.signedOutListeners.push(listener);
  }

  async signOut(res: ServerResponse, session: Session | null): Promise<void> {
    if (session) {
      await this.end(session.idHash);
      for (const listener of this.signedOutListeners) listener(session.idHash);
    }
    res.appendHeader('set-cookie', `${sessionCookie}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${this.secureCookies ? '; Secure' : ''}`);
  }

  /** A random 128-bit id, base64url (22 characters). */
  private newId(): string {
    return randomBytesOf(this.random, 16).toString('base64url');
  }

  /**
   * Store a new session and set its cookie, once a majority of its key's primaries hold it.
   * Its id is drawn among those whose key has a majority of its primaries up here.
   */
  private async storeNew(res: ServerResponse, doc: SessionDoc): Promise<{ id: string; idHash: string }> {
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
          this.setCookie(res, id);
          return { id, idHash };
        }
      }
    }
    const message = 'too few of the nodes that would hold a new session can be reached from this node right now; try again';
    throw new RingCallError({ kind: 'unavailable', message });
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
  private askPrimaries(key: string, enough: (held: number, of: number) => boolean): Promise<(PrimaryCopy | undefined)[]> {
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
        this.ring.callApp(name, primaryCopyMethod, { key }, primaryAskTimeoutMs).then(
          (copy) => answer(i, isPrimaryCopy(copy) ? copy : undefined),
          () => answer(i, undefined),
        );
      });
    });
  }

  private setCookie(res: ServerResponse, id: string): void {
    const age = Math.floor(this.limits.ttlMs / 1000);
    const secure = this.secureCookies ? '; Secure' : '';
    res.appendHeader('set-cookie', `${sessionCookie}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${age}${secure}`);
  }

  private async end(idHash: string): Promise<void> {
    const r = await this.ring.get(sessionKey(idHash));
    await this.ring.delete(sessionKey(idHash), r.found ? r.context : {});
    this.docs.invalidate(sessionKey(idHash));
  }

  private async store(res: ServerResponse, id: string, doc: SessionDoc): Promise<void> {
    const idHash = hashSessionId(id);
    const prior = await this.ring.get(sessionKey(idHash));
    await this.ring.put(sessionKey(idHash), doc, prior.found ? prior.context : {});
    this.docs.set(sessionKey(idHash), doc);
    this.setCookie(res, id);
  }
}

const majorityOf = (n: number) => Math.floor(n / 2) + 1;

function isPrimaryCopy(v: unknown): v is PrimaryCopy {
  if (v === 'absent' || v === 'not-primary') return true;
  const d = v as SessionDoc | null;
  return typeof d === 'object' && d !== null && typeof d.expiresAt === 'number' && typeof d.createdAt === 'number';
}
