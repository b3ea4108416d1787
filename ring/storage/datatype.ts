// Application data plugs into the ring the way riak_core vnodes do: a data type says how
// two versions combine, how to put a value on the wire or disk, and when it expires. The
// ring stores, replicates, hands off and repairs values without knowing what they are.

/**
 * A register holds arbitrary values versioned by dotted version vectors; concurrent
 * writes become siblings and `resolve` picks what a reader sees, deterministically.
 */
export interface RegisterType<T = unknown> {
  readonly name: string;
  readonly kind: 'register';
  /** Deterministic choice among live (non-deleted) sibling values, ordered newest first. */
  resolve?(values: readonly T[]): T;
  /** Secondary index entries of the resolved live value (riak 2i); tombstones have none. See ../index/. */
  index?(value: T): readonly IndexEntry[];
  encode(value: T): unknown;
  decode(wire: unknown): T;
  /** Absolute expiry in ms on the clock, or undefined for never. */
  expiresAt?(value: T): number | undefined;
}

/** A state-based CRDT: replicas merge by a join, so no siblings ever arise. */
export interface CrdtType<T = unknown> {
  readonly name: string;
  readonly kind: 'crdt';
  /** Counters the ring can increment itself, shipping batched deltas (see CounterShipper). */
  readonly counter?: 'g' | 'pn';
  empty(): T;
  merge(a: T, b: T): T;
  encode(value: T): unknown;
  decode(wire: unknown): T;
  expiresAt?(value: T): number | undefined;
  index?(value: T): readonly IndexEntry[];
}

/**
 * One secondary index entry of a value: the key is listed under `term` of index `name`,
 * ordered by `sort` (then key). Names and terms are short strings (an owner id, say).
 */
export interface IndexEntry {
  readonly name: string;
  readonly term: string;
  readonly sort: number;
}

export type DataType<T = unknown> = RegisterType<T> | CrdtType<T>;

export class DataTypeRegistry {
  private readonly types = new Map<string, DataType>();

  register<T>(type: DataType<T>): void {
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(type.name))
      throw new Error(`data type name "${type.name}" must match [a-z][a-z0-9_-]{0,31}`);
    if (this.types.has(type.name)) throw new Error(`data type "${type.name}" is already registered`);
    this.types.set(type.name, type);
  }

  get(name: string): DataType {
    const type = this.types.get(name);
    if (!type) throw new Error(`unknown data type "${name}"`);
    return type;
  }

  has(name: string): boolean {
    return this.types.has(name);
  }
}

/** Keys are namespaced by their data type: "link/abc123". */
export function typedKey(type: string, id: string): string {
  return `${type}/${id}`;
}

export function typeOfKey(key: string): string {
  const slash = key.indexOf('/');
  if (slash <= 0) throw new Error(`key "${key}" has no data type prefix`);
  return key.slice(0, slash);
}
