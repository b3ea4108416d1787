// Cluster-wide rate limits, owned by the ring (docs/api.md, Rate limits). A limit key such as
// `create-addr/<address>` hashes to a partition like any key; its counter lives in memory on
// the key's owner, the first reachable primary of its preference list. A checking node asks
// the owner over the ring's application RPC and the owner decides; when this node is the
// owner it decides with no message. When the owner cannot be reached within
// rateLimitOwnerTimeoutMs, the node decides alone on a fallback whose windows hold
// ceil(limit / members): the request is neither blocked nor unlimited.
//
// Slack (docs/api.md): per window, each owner admits at most the limit, and each node deciding
// on its fallback at most ceil(limit / members). A partition into k sides makes each side's
// first reachable primary an owner: at most k times the limit, plus the fallbacks' shares
// while nodes notice the split. An owner change (failure, join, leave) starts a fresh window.
import type { RingNode } from '../../ring';
import { appMessages } from '../appMessages';
import { LocalLimits, type LimitDecision, type LimitOp, type LimitRequest } from './localLimits';
import { rateLimitOwnerRetryAfterMs, rateLimitOwnerTimeoutMs, type LimitPolicy } from './policies';

/** Longest limit key accepted from a peer (an address and a username fit many times over). */
const limitKeyCharsMax = 1024;

/** Where a decision was made: here as the owner, by a remote owner, or on this node's fallback. */
export type DecidedBy = 'local' | 'owner' | 'fallback';
export type DecisionListener = (by: DecidedBy, ms: number, decision: LimitDecision) => void;

const admitted: LimitDecision = { ok: true };

export class ClusterLimiter {
  private readonly own: LocalLimits;
  /** Fallback limits by the member count their budgets were divided by. */
  private readonly fallbacks = new Map<number, LocalLimits>();
  /** Owners whose last call failed: not asked again before this time (ms). */
  private readonly ownerRetryAt = new Map<string, number>();
  private readonly listeners: DecisionListener[] = [];

  constructor(
    private readonly node: RingNode,
    private readonly policies: ReadonlyMap<string, LimitPolicy>,
    private readonly now: () => number,
  ) {
    this.own = new LocalLimits(now);
    // From peers that may run another version: checked field by field.
    node.app.serve(appMessages.rpcs['limits.decide'], (_from, body: unknown, reply, refuse) => {
      const r = parseRequest(body);
      if (typeof r === 'string') return refuse(r);
      if (!this.own.accepts(r.policy)) return refuse(`more limit policies in use than this node keeps`);
      this.own.decide(r).then(reply, (err: unknown) => refuse(String(err)));
    });
  }

  policy(name: string): LimitPolicy | undefined {
    return this.policies.get(name);
  }

  onDecision(listener: DecisionListener): void {
    this.listeners.push(listener);
  }

  /** Admit or refuse one attempt under `policy` for `key`; a policy not configured (turned off) admits. */
  async decide(name: string, key: string, op: LimitOp = 'take'): Promise<LimitDecision> {
    const policy = this.policies.get(name);
    if (policy === undefined) return admitted;
    const r: LimitRequest = { policy, key, op };
    const t0 = performance.now();
    const owner = this.ownerOf(`limit/${name}/${key}`);
    let by: DecidedBy = 'fallback';
    let d: LimitDecision | undefined;
    if (owner === this.node.name) {
      // (Only refused when peers filled this node's policy table: then it decides as a fallback.)
      if (this.own.accepts(policy)) [by, d] = ['local', await this.own.decide(r)];
    } else if (owner !== undefined) [by, d] = ['owner', await this.ask(owner, r)];
    if (d === undefined) [by, d] = ['fallback', await this.fallback().decide(r)];
    const ms = performance.now() - t0;
    for (const l of this.listeners) l(by, ms, d);
    return d;
  }

  /** The key's first reachable primary; undefined when none is, or it failed a call moments ago. */
  private ownerOf(routingKey: string): string | undefined {
    const owner = this.node.placement(routingKey).primaries.find((n) => this.node.isUp(n));
    if (owner === undefined || owner === this.node.name) return owner;
    const retryAt = this.ownerRetryAt.get(owner);
    if (retryAt !== undefined && this.now() < retryAt) return undefined;
    return owner;
  }

  /**
   * The owner's decision, or undefined when it refused or did not answer in time. A timeout is
   * remembered (the owner is probably cut off); a refusal came back at once and is not.
   */
  private ask(owner: string, r: LimitRequest): Promise<LimitDecision | undefined> {
    return new Promise((resolve) => {
      this.node.app.call(owner, appMessages.rpcs['limits.decide'], r, rateLimitOwnerTimeoutMs, (err, reply) => {
        const d = err ? undefined : asDecision(reply);
        if (err?.kind === 'timeout') this.ownerRetryAt.set(owner, this.now() + rateLimitOwnerRetryAfterMs);
        else if (d !== undefined) this.ownerRetryAt.delete(owner);
        resolve(d);
      });
    });
  }

  private fallback(): LocalLimits {
    const serving = this.node.members().filter((m) => m.status === 'valid' || m.status === 'leaving');
    const members = Math.max(1, serving.length);
    let f = this.fallbacks.get(members);
    if (f === undefined) {
      f = new LocalLimits(this.now, members);
      this.fallbacks.set(members, f);
    }
    return f;
  }
}

/** A peer's request, checked field by field and rebuilt from the fields it may carry. */
function parseRequest(body: unknown): LimitRequest | string {
  const b = body as { policy?: Record<string, unknown>; key?: unknown; op?: unknown } | null;
  if (typeof b !== 'object' || b === null || typeof b.policy !== 'object' || b.policy === null) {
    return 'limit request must be an object with a policy';
  }
  if (typeof b.key !== 'string' || b.key.length > limitKeyCharsMax) {
    return `limit key must be a string of at most ${limitKeyCharsMax} characters`;
  }
  if (b.op !== 'take' && b.op !== 'forgive') return 'limit op must be take or forgive';
  const p = b.policy;
  const count = (v: unknown) => (Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : undefined);
  const name = typeof p.name === 'string' && p.name.length <= 64 ? p.name : undefined;
  const what = typeof p.what === 'string' && p.what.length <= 200 ? p.what : undefined;
  if (name === undefined || what === undefined) return 'limit policy needs a name and a description';
  if (p.kind === 'window') {
    const points = count(p.points);
    const windowMs = count(p.windowMs);
    if (points === undefined || windowMs === undefined) return 'window policy needs whole positive points and windowMs';
    return { policy: { kind: 'window', name, points, windowMs, what }, key: b.key, op: b.op };
  }
  if (p.kind === 'delay') {
    const failuresBeforeDelay = count(p.failuresBeforeDelay);
    const delayBaseMs = count(p.delayBaseMs);
    const delayMaxMs = count(p.delayMaxMs);
    const memoryMs = count(p.memoryMs);
    if (!failuresBeforeDelay || !delayBaseMs || !delayMaxMs || !memoryMs) {
      return 'delay policy needs whole positive counts and durations';
    }
    const policy = { kind: 'delay', name, failuresBeforeDelay, delayBaseMs, delayMaxMs, memoryMs, what } as const;
    return { policy, key: b.key, op: b.op };
  }
  return 'limit policy kind must be window or delay';
}

function asDecision(reply: unknown): LimitDecision | undefined {
  const r = reply as { ok?: unknown; retryMs?: unknown } | null;
  if (typeof r !== 'object' || r === null) return undefined;
  if (r.ok === true) return admitted;
  if (r.ok === false && typeof r.retryMs === 'number' && r.retryMs > 0) return { ok: false, retryMs: r.retryMs };
  return undefined;
}
