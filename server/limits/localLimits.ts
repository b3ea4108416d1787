// One node's own limit decisions: what a limit key's owner decides for the whole cluster,
// and (with budgets divided) what a node decides alone when the owner cannot be reached.
// Windows are GCRA (gcra.ts: a sustained rate with a burst of the whole budget, no fixed-window
// boundary); failure delays are FailureDelays. A store per policy, made on first use: a request names
// its policy in full, so during a rolling config change each node's requests are held to
// that node's configured limits over the one shared counter.
import { FailureDelays } from './failureDelays';
import { Gcra } from './gcra';
import { failureDelayEntriesMax, limitPolicyVariantsMax, rateLimitKeysMax, type LimitPolicy } from './policies';

/** take: count one attempt (refused when over the limit); forgive: undo one (a window) or forget the key (a delay). */
export type LimitOp = 'take' | 'forgive';

/** What a checking node asks a key's owner (the wire format of the `limits.decide` call). */
export interface LimitRequest {
  policy: LimitPolicy;
  key: string;
  op: LimitOp;
}

export type LimitDecision = { ok: true } | { ok: false; retryMs: number };

const admitted: LimitDecision = { ok: true };

export class LocalLimits {
  private readonly stores = new Map<string, Gcra | FailureDelays>();

  /** `pointsDivisor` > 1 gives each window that share of its budget (rounded up): the fallback's budget. */
  constructor(
    private readonly now: () => number,
    private readonly pointsDivisor = 1,
  ) {}

  /** Whether a decision under `policy` can be made (false when too many policy variants are in use already). */
  accepts(policy: LimitPolicy): boolean {
    return this.stores.has(policyId(policy)) || this.stores.size < limitPolicyVariantsMax;
  }

  async decide(r: LimitRequest): Promise<LimitDecision> {
    const store = this.storeOf(r.policy);
    if (store instanceof FailureDelays) {
      if (r.op === 'take') return store.attempt(r.key);
      store.forget(r.key);
      return admitted;
    }
    if (r.op === 'forgive') {
      store.forgive(r.key);
      return admitted;
    }
    return store.take(r.key);
  }

  private storeOf(p: LimitPolicy): Gcra | FailureDelays {
    const id = policyId(p);
    let store = this.stores.get(id);
    if (store === undefined) {
      if (this.stores.size >= limitPolicyVariantsMax) {
        throw new Error(`more than ${limitPolicyVariantsMax} limit policies in use`);
      }
      const points = p.kind === 'window' ? Math.max(1, Math.ceil(p.points / this.pointsDivisor)) : 0;
      store =
        p.kind === 'window'
          ? new Gcra({ points, windowMs: p.windowMs }, this.now, rateLimitKeysMax)
          : new FailureDelays(p, this.now, failureDelayEntriesMax);
      this.stores.set(id, store);
    }
    return store;
  }
}

/** A policy's identity: its name and every parameter that changes a decision. */
function policyId(p: LimitPolicy): string {
  if (p.kind === 'window') return `w|${p.name}|${p.points}|${p.windowMs}`;
  return `d|${p.name}|${p.failuresBeforeDelay}|${p.delayBaseMs}|${p.delayMaxMs}|${p.memoryMs}`;
}
