// Accounts: a username is granted once, cluster-wide, through the ring's compare-and-set
// (a CAS register per lowercased username holds the account). Sign-in reads it back through
// CAS too, so it always sees the account as created, even right after a partition.
import { randomBytes } from 'node:crypto';
import type { RingClient } from '../ringClient';
import { userKey } from '../datatypes/keys';
import type { AccountDoc } from './docs';
import { decoyHash, hashPassword, verifyPassword } from './passwords';

export const USERNAME_PATTERN = /^[a-z0-9_-]{3,32}$/;

export type SignUpResult = { ok: true; account: AccountDoc } | { ok: false; reason: 'taken' };

export class Accounts {
  constructor(
    private readonly ring: RingClient,
    private readonly now: () => number,
  ) {}

  async signUp(username: string, password: string): Promise<SignUpResult> {
    const doc: AccountDoc = {
      id: randomBytes(12).toString('base64url'),
      username: username.toLowerCase(),
      password: await hashPassword(password),
      createdAt: this.now(),
    };
    // A retried round that finds our own document knows its first attempt landed.
    const winner = await this.ring.casRetrying(userKey(username), (cur) =>
      cur ? { next: cur, result: cur as AccountDoc } : { next: doc, result: doc },
    );
    return winner.id === doc.id ? { ok: true, account: doc } : { ok: false, reason: 'taken' };
  }

  /** The account when the password matches; null otherwise (same work either way). */
  async verify(username: string, password: string): Promise<AccountDoc | null> {
    const account = await this.ring.casRetrying(userKey(username), (cur) => ({
      next: cur,
      result: (cur as AccountDoc | undefined) ?? null,
    }));
    const ok = await verifyPassword(password, account?.password ?? decoyHash);
    return ok && account ? account : null;
  }
}
