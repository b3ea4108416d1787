// Promise wrappers over the ring node's callback API, for server code. (The ring core is
// callback-based so the simulator controls every step; the server lives in real time.)
import type { RingError } from '../ring/node/context';
import type { RingNode } from '../ring/node/ringNode';
import type { ReadResult, WriteResult } from '../ring/coordinator/quorum';
import type { CoverageResult } from '../ring/coverage/coverage';
import type { VersionVector } from '../ring/storage/versions';

export class RingCallError extends Error {
  constructor(readonly ringError: RingError) {
    super(`${ringError.kind}: ${ringError.message}`);
  }
}

function call<T>(fn: (cb: (err: RingError | null, result?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, result) => (err ? reject(new RingCallError(err)) : resolve(result as T))));
}

export class RingClient {
  constructor(readonly node: RingNode) {}
  get(key: string): Promise<ReadResult> {
    return call((cb) => this.node.get(key, cb));
  }
  put(key: string, value: unknown, context: VersionVector = {}): Promise<WriteResult> {
    return call((cb) => this.node.put(key, value, context, cb));
  }
  delete(key: string, context: VersionVector): Promise<WriteResult> {
    return call((cb) => this.node.delete(key, context, cb));
  }
  merge(key: string, value: unknown): Promise<true> {
    return call((cb) => this.node.merge(key, value, cb));
  }
  increment(key: string, by = 1): Promise<true> {
    return call((cb) => this.node.increment(key, by, cb));
  }
  readCounter(key: string): Promise<{ value: unknown }> {
    return call((cb) => this.node.readCounter(key, cb));
  }
  cas<R>(key: string, change: (current: unknown) => { next: unknown; result: R }): Promise<R> {
    return call((cb) => this.node.cas(key, change, cb));
  }
  coverage<A>(name: string, args: unknown): Promise<CoverageResult<A>> {
    return call((cb) => this.node.coverageQuery(name, args, cb));
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
