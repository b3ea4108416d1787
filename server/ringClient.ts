// Promise wrappers over the ring node's callback API, for server code. (The ring core is
// callback-based so the simulator controls every step; the server lives in real time.)
import type {
  AppRpc,
  CoverageResult,
  IndexCount,
  IndexPage,
  IndexPageArgs,
  IndexQueryArgs,
  ReadResult,
  RingError,
  RingNode,
  VersionVector,
  WriteResult,
} from '../ring';
import type { ServiceRuntime } from './runtime';

export class RingCallError extends Error {
  constructor(readonly ringError: RingError) {
    super(`${ringError.kind}: ${ringError.message}`);
  }
}

function call<T>(fn: (cb: (err: RingError | null, result?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    fn((err, result) => (err ? reject(new RingCallError(err)) : resolve(result as T))),
  );
}

/**
 * Attempts of an idempotent call (a read, a CRDT merge) that timed out. At a partition's onset
 * the first attempt can wait on replicas the failure detector has not yet marked down; by the
 * next one it usually has, and the coordinator picks reachable replicas (fallbacks) instead.
 */
export const timedOutAttemptsMax = 2;

function callIdempotent<T>(fn: (cb: (err: RingError | null, result?: T) => void) => void): Promise<T> {
  const attempt = (n: number): Promise<T> =>
    call(fn).catch((err: unknown) => {
      if (n >= timedOutAttemptsMax || !(err instanceof RingCallError) || err.ringError.kind !== 'timeout') throw err;
      return attempt(n + 1);
    });
  return attempt(1);
}

/** Compare-and-set attempts a server call makes when contention leaves the outcome unknown. */
export const casAttemptsMax = 6;
const casRetryBackoffMs = 25;

export class RingClient {
  constructor(
    readonly node: RingNode,
    /** Timers and randomness for the retries' jittered backoff. */
    private readonly rt: Pick<ServiceRuntime, 'timers' | 'random'>,
  ) {}

  /**
   * Whether a majority of the key's primary replicas is reachable from this node. Only then
   * is a read's "not found" authoritative: during a partition the fallbacks that stand in
   * for unreachable primaries answer "not found" for what they never held.
   */
  primaryQuorumUp(key: string): boolean {
    const { primaries } = this.node.placement(key);
    let up = 0;
    for (const n of primaries) if (this.node.isUp(n)) up++;
    return up >= Math.floor(primaries.length / 2) + 1;
  }

  get(key: string): Promise<ReadResult> {
    return callIdempotent((cb) => this.node.get(key, cb));
  }
  /** Every member up is asked (RingNode.getEverywhere): for rare reads where a false "not found" is costly. */
  getEverywhere(key: string): Promise<ReadResult> {
    return callIdempotent((cb) => this.node.getEverywhere(key, cb));
  }
  /**
   * A write over `context`. A first write (empty context: a new link, a new session) that
   * timed out is tried once more like a read: its key is fresh, so an attempt that landed
   * after all can only leave a sibling equal to the retry's value.
   */
  put(key: string, value: unknown, context: VersionVector = {}): Promise<WriteResult> {
    const write = (cb: (err: RingError | null, result?: WriteResult) => void) => this.node.put(key, value, context, cb);
    return Object.keys(context).length === 0 ? callIdempotent(write) : call(write);
  }
  delete(key: string, context: VersionVector): Promise<WriteResult> {
    return call((cb) => this.node.delete(key, context, cb));
  }
  merge(key: string, value: unknown): Promise<true> {
    return callIdempotent((cb) => this.node.merge(key, value, cb));
  }
  increment(key: string, by = 1): Promise<true> {
    return call((cb) => this.node.increment(key, by, cb));
  }
  readCounter(key: string): Promise<{ value: unknown }> {
    return callIdempotent((cb) => this.node.readCounter(key, cb));
  }
  /** Many counters' states in one batched read (one message per replica), in the order of `keys`. */
  readCounters(keys: readonly string[]): Promise<{ values: unknown[] }> {
    return callIdempotent((cb) => this.node.readCounters(keys, cb));
  }
  /** Compare-and-set, once: a 'timeout' error means the outcome is unknown (the change may still be chosen). */
  cas<R>(key: string, change: (current: unknown) => { next: unknown; result: R }): Promise<R> {
    return call((cb) => this.node.cas(key, change, cb));
  }

  /**
   * Compare-and-set, retried (bounded, with jittered backoff) when contention left the
   * outcome unknown. Only for changes that recognise their own earlier attempt in the
   * state they see (an operation id, an owner), or whose repetition is harmless: a plain
   * compare-and-set retried after it landed would report a failure for a change that took
   * effect (the history checker in tests/cluster/histories.test.ts catches exactly that).
   */
  async casRetrying<R>(key: string, change: (current: unknown) => { next: unknown; result: R }): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call<R>((cb) => this.node.cas(key, change, cb));
      } catch (err) {
        const kind = err instanceof RingCallError ? err.ringError.kind : undefined;
        if ((kind !== 'timeout' && kind !== 'unavailable') || attempt >= casAttemptsMax) throw err;
        const backoffMs = casRetryBackoffMs * attempt * (0.5 + this.rt.random.next());
        await new Promise<void>((r) => this.rt.timers.setTimeout(r, backoffMs));
      }
    }
  }
  /** An application request to one member (served there with node.app.serve). */
  callApp<Req, Rep>(to: string, rpc: AppRpc<Req, Rep>, body: Req, timeoutMs: number): Promise<Rep> {
    return call((cb) => this.node.app.call(to, rpc, body, timeoutMs, cb));
  }
  coverage<A>(name: string, args: unknown): Promise<CoverageResult<A>> {
    return call((cb) => this.node.coverageQuery(name, args, cb));
  }
  /** A page of a secondary index term, newest first, over 2 replicas per partition. */
  indexPage(args: IndexPageArgs): Promise<IndexPage> {
    return call((cb) => this.node.indexPage(args, cb));
  }
  /** The exact number of live keys under a secondary index term (matching the filter when given). */
  indexCount(args: IndexQueryArgs): Promise<IndexCount> {
    return call((cb) => this.node.indexCount(args, cb));
  }
}

/** A read's resolved live value, or undefined when the key is missing or deleted. */
export function liveValue<T>(r: ReadResult | undefined): T | undefined {
  return r?.found && !r.deleted ? (r.value as T | undefined) : undefined;
}

/** The causal context to write over what a read saw (empty when nothing was there). */
export function contextOf(r: ReadResult): VersionVector {
  return r.found ? r.context : {};
}
