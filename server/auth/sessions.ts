// Browser sessions on the ring (README.md, Security; docs/api.md, Who is calling): a random 128-bit id in an HttpOnly,
// SameSite=Lax cookie; the ring stores the session under a hash of the id, so a replica
// (or its disk) never holds a usable cookie. Expiry slides: a session in use is extended,
// at most once per `refreshEveryMs`, and the ring itself forgets expired ones. Ids come
// from the runtime's randomness (ring/runtime.ts Random.hex): node:crypto's CSPRNG in
// production (server/runtime.ts cryptoRandom), the seeded one in the simulator.
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
    node: RingNode,
    private readonly ring: RingClient,
    private readonly now: () => number,
    /** Draws session ids: 16 bytes of `hex`, crypto-strength in production. */
    private readonly random: Random,
    private readonly secureCookies: boolean,
    private readonly limits: SessionLimits = defaultSessionLimits,
  ) {
    this.docs = new ReadThroughCache(node, ring, 'session', limits.cache, now);
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
    // still hold it as a hint that the primaries have not received yet), and replace it only
    // when the answer is authoritative: a majority of its primaries is reachable (during a
    // partition, fallbacks answer "not found" for what they never held).
    const old = readCookie(req, sessionCookie);
    if (old && sessionIdPattern.test(old)) {
      const idHash = hashSessionId(old);
      const everywhere = await this.ring.getEverywhere(sessionKey(idHash));
      const doc = liveValue<SessionDoc>(everywhere);
      if (doc && doc.expiresAt > this.now()) {
        this.docs.set(sessionKey(idHash), doc);
        return { id: old, idHash, doc };
      }
      if (!everywhere.found && !this.ring.primaryQuorumUp(sessionKey(idHash))) {
        throw new RingCallError({ kind: 'unavailable', message: 'the nodes holding your session cannot be reached from this node right now; your links are safe, try again in a moment' });
      }
    }
    const id = this.newId();
    const doc: SessionDoc = {
      accountId: null,
      username: null,
      createdAt: this.now(),
      expiresAt: this.now() + this.limits.ttlMs,
    };
    await this.store(res, id, doc);
    return { id, idHash: hashSessionId(id), doc };
  }

  /** Sign in: a new session id (rotation defeats fixation); the old session is ended. */
  async signIn(res: ServerResponse, old: Session | null, account: { id: string; username: string }): Promise<Session> {
    const id = this.newId();
    const doc: SessionDoc = {
      accountId: account.id,
      username: account.username,
      createdAt: this.now(),
      expiresAt: this.now() + this.limits.ttlMs,
    };
    await this.store(res, id, doc);
    if (old) await this.end(old.idHash);
    return { id, idHash: hashSessionId(id), doc };
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
    const age = Math.floor(this.limits.ttlMs / 1000);
    const secure = this.secureCookies ? '; Secure' : '';
    res.appendHeader('set-cookie', `${sessionCookie}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${age}${secure}`);
  }
}
