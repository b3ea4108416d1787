// API keys for `Authorization: Bearer`: shown once, stored only as a SHA-256 hash (the key
// is 256 random bits, so a fast hash is enough; no salt or stretching needed). An account's
// keys are listed through a two-phase set of "id:hash".
import { createHash, randomBytes } from 'node:crypto';
import type { RingNode } from '../../ring';
import { appMessages } from '../appMessages';
import { contextOf, liveValue, type RingClient } from '../ringClient';
import { ReadThroughCache } from '../readThrough';
import { apiKeyKey, keysKey } from '../datatypes/keys';
import { twoPhaseMembers, type TwoPhaseSet } from '../datatypes/twoPhaseSet';
import type { ApiKeyDoc } from './docs';

/** Keys an account may hold at once. */
export const apiKeysPerAccountMax = 50;
/** API keys a node caches, and for how long. */
const cacheLimits = { entriesMax: 10_000, ttlMs: 5_000 };

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** Names one key across accounts (key ids are random per account). */
export const apiKeyRef = (accountId: string, id: string) => `${accountId}:${id}`;

export class ApiKeys {
  private readonly docs: ReadThroughCache<ApiKeyDoc>;
  private readonly revokedListeners: ((keyRef: string) => void)[] = [];

  constructor(
    node: RingNode,
    private readonly ring: RingClient,
    private readonly now: () => number,
  ) {
    this.docs = new ReadThroughCache(node, ring, appMessages.messages.apikey, cacheLimits, now);
  }

  async list(accountId: string): Promise<ApiKeyDoc[]> {
    const members = twoPhaseMembers(liveValue<TwoPhaseSet>(await this.ring.get(keysKey(accountId))) ?? {});
    const docs = await Promise.all(
      members.map(async (m) => liveValue<ApiKeyDoc>(await this.ring.get(apiKeyKey(m.slice(m.indexOf(':') + 1))))),
    );
    return docs.filter((d): d is ApiKeyDoc => !!d && d.revokedAt === null).sort((a, b) => b.createdAt - a.createdAt);
  }

  async create(
    account: { id: string; username: string },
    name: string,
  ): Promise<{ doc: ApiKeyDoc; key: string } | { tooMany: true }> {
    if ((await this.list(account.id)).length >= apiKeysPerAccountMax) return { tooMany: true };
    const key = `rl_${randomBytes(32).toString('base64url')}`;
    const hash = hashApiKey(key);
    const doc: ApiKeyDoc = {
      id: randomBytes(8).toString('hex'),
      accountId: account.id,
      username: account.username,
      name,
      prefix: key.slice(0, 10),
      createdAt: this.now(),
      revokedAt: null,
    };
    await this.ring.put(apiKeyKey(hash), doc);
    await this.ring.merge(keysKey(account.id), { [`${doc.id}:${hash}`]: 0 });
    return { doc, key };
  }

  /** Called with apiKeyRef(accountId, id) after every revocation (live sockets of that key are dropped). */
  onRevoked(listener: (keyRef: string) => void): void {
    this.revokedListeners.push(listener);
  }

  async revoke(accountId: string, id: string): Promise<boolean> {
    const member = twoPhaseMembers(liveValue<TwoPhaseSet>(await this.ring.get(keysKey(accountId))) ?? {}).find((m) =>
      m.startsWith(`${id}:`),
    );
    if (!member) return false;
    const hash = member.slice(member.indexOf(':') + 1);
    const cur = await this.ring.get(apiKeyKey(hash));
    const doc = liveValue<ApiKeyDoc>(cur);
    if (doc) await this.ring.put(apiKeyKey(hash), { ...doc, revokedAt: this.now() }, contextOf(cur));
    await this.ring.merge(keysKey(accountId), { [member]: 1 });
    this.docs.invalidate(apiKeyKey(hash));
    for (const listener of this.revokedListeners) listener(apiKeyRef(accountId, id));
    return true;
  }

  /** The live key behind a bearer token, or null. */
  async authenticate(token: string): Promise<ApiKeyDoc | null> {
    if (!/^rl_[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const doc = await this.docs.get(apiKeyKey(hashApiKey(token)));
    return doc && doc.revokedAt === null ? doc : null;
  }
}
