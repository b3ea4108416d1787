// The HTTP face of the cluster-wide rate limits (server/limits): which limits each route
// takes, and a refusal as a 429 with Retry-After and a message a person can act on.
import type { ClusterLimiter, LimitDecision } from '../limits';
import { inputError } from './respond';

function retryAfterSec(d: LimitDecision & { ok: false }): number {
  return Math.max(1, Math.ceil(d.retryMs / 1000));
}

export class RateLimits {
  constructor(private readonly limiter: ClusterLimiter) {}

  /** A link creation (RATE_LIMIT_CREATE_PER_MIN per client address and per owner). */
  async create(addr: string, owner: string): Promise<void> {
    await this.take('create-addr', addr);
    await this.take('create-owner', owner);
  }

  /**
   * An edit, a delete, an API key created or revoked, a sign-out (RATE_LIMIT_WRITES_PER_MIN per address and per
   * owner).
   */
  async write(addr: string, owner: string): Promise<void> {
    await this.take('write-addr', addr);
    await this.take('write-owner', owner);
  }

  /**
   * A sign-in attempt: limited per address (across usernames) and per (address, username)
   * pair with progressive delays, never per username alone, so nobody can lock another's account.
   */
  async signIn(addr: string, username: string): Promise<void> {
    await this.take('signin-addr', addr);
    await this.take('signin-pair', `${addr}|${username}`);
  }

  /** A sign-in succeeded: the pair's failures are forgotten and the attempt is not held against the address. */
  async signedIn(addr: string, username: string): Promise<void> {
    await Promise.all([
      this.limiter.decide('signin-pair', `${addr}|${username}`, 'forgive'),
      this.limiter.decide('signin-addr', addr, 'forgive'),
    ]);
  }

  async signUp(addr: string): Promise<void> {
    await this.take('signup-addr', addr);
  }

  /** Seconds to wait, or 0 when a password-form guess for this link is allowed now. */
  async guess(addr: string, slug: string): Promise<number> {
    const d = await this.limiter.decide('guess', `${addr}|${slug}`);
    return d.ok ? 0 : retryAfterSec(d);
  }

  private async take(policy: string, key: string): Promise<void> {
    const d = await this.limiter.decide(policy, key);
    if (d.ok) return;
    const sec = retryAfterSec(d);
    const p = this.limiter.policy(policy)!;
    const detail =
      p.kind === 'window'
        ? `Too many ${p.what} (at most ${p.points} per minute). Try again in ${sec} seconds.`
        : `Too many ${p.what}. Try again in ${sec} seconds; each further failure doubles the wait ` +
          `(up to ${Math.round(p.delayMaxMs / 60_000)} minutes).`;
    throw inputError(429, undefined, 'rate_limited', detail, { 'retry-after': String(sec) });
  }
}
