// Browser sessions on the ring (README.md, Security; docs/api.md, Who is calling): a random 128-bit id, which
// the HTTP layer carries in a cookie (server/http/sessionCookie.ts); the ring stores the session under a hash
// of the id, so a replica (or its disk) never holds a usable cookie. Expiry slides: a session in use is
// extended, at most once per `refreshEveryMs`, and the ring itself forgets expired ones.
import { createHash, randomBytes } from 'node:crypto';
import type { RingNode } from '../../ring';
import { appMessages } from '../appMessages';
import { unavailable } from '../domain/errors';
import { liveValue, type RingClient } from '../ringClient';
import { sessionKey } from '../datatypes/keys';
import type { SessionDoc } from './docs';
import { ReadThroughCache } from '../readThrough';

export const sessionTtlMs = 30 * 24 * 3600_000;
const refreshEveryMs = 24 * 3600_000;
const sessionIdPattern = /^[A-Za-z0-9_-]{22}$/;
/** Sessions a node caches, and for how long. */
const cacheLimits = { entriesMax: 50_000, ttlMs: 5_000 };

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
    node: RingNode,
    private readonly ring: RingClient,
    private readonly now: () => number,
  ) {
    this.docs = new ReadThroughCache(node, ring, appMessages.messages.session, cacheLimits);
  }

  /** The session the client's id names, refreshed when due, or null (no id, unknown, or expired). */
  async current(id: string | undefined): Promise<Session | null> {
    const session = await this.identify(id);
    if (session && session.doc.expiresAt - this.now() < sessionTtlMs - refreshEveryMs) return this.store(session.id, { ...session.doc, expiresAt: this.now() + sessionTtlMs });
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
    // still hold it as a hint that the primaries have not received yet), and replace it only
    // when the answer is authoritative: a majority of its primaries is reachable (during a
    // partition, fallbacks answer "not found" for what they never held).
    const old = id;
    if (old && sessionIdPattern.test(old)) {
      const idHash = hashSessionId(old);
      const everywhere = await this.ring.getEverywhere(sessionKey(idHash));
      const doc = liveValue<SessionDoc>(everywhere);
      if (doc && doc.expiresAt > this.now()) {
        this.docs.set(sessionKey(idHash), doc);
        return { id: old, idHash, doc, issued: false };
      }
      if (!everywhere.found && !this.ring.primaryQuorumUp(sessionKey(idHash))) {
        throw unavailable('The nodes holding your session cannot be reached from this node right now; your links are safe. Try again in a moment.');
      }
    }
    const doc: SessionDoc = { accountId: null, username: null, createdAt: this.now(), expiresAt: this.now() + sessionTtlMs };
    return this.store(randomBytes(16).toString('base64url'), doc);
  }

  /** Sign in: a new session id (rotation defeats fixation); the old session is ended. */
  async signIn(old: Session | null, account: { id: string; username: string }): Promise<Session> {
    const doc: SessionDoc = { accountId: account.id, username: account.username, createdAt: this.now(), expiresAt: this.now() + sessionTtlMs };
    const session = await this.store(randomBytes(16).toString('base64url'), doc);
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
