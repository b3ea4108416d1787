// A node's in-memory data, split by the partition each key hashes to. Every change gets a
// store-wide sequence number (so handoff can drop exactly what it shipped and nothing
// written since) and updates an XOR digest per hashed bucket (so anti-entropy compares
// two replicas of a partition in one small message).
//
// Memory: most keys are registers written once, by one coordinator: one live sibling whose
// dot is the whole version vector. Such a key is held as one flat object (CompactRegister:
// the value, the dot's actor as an interned boot id and a number, small integers only), not
// as the general dotted-version-vector graph (entry, version, vector, sibling array, sibling,
// dot array, actor string: about 250 bytes more per key, see docs/storage.md). Its `entry`
// is rebuilt on each read. Any other state keeps the general form (GeneralEntry).
import { hash32 } from '../hash';
import type { DataType, DataTypeRegistry } from './datatype';
import { typeOfKey } from './datatype';
import { entryFingerprint, isTombstone, mergeEntries, type Entry } from './entry';
import { reindex, type SortedIndex } from './secondaryIndex';
import type { Versioned } from './versions';

export interface StoredEntry {
  readonly entry: Entry;
  readonly seq: number;
  readonly hash: number;
  /** The seq at which this key last entered this node's store: names the node's version actor for it. */
  readonly since: number;
  /** Local clock when this node first stored the entry in its current tombstone state. */
  readonly tombstoneSince?: number;
  /**
   * When the entry is one live register value held compactly, that value (what a read
   * resolves to, expiry aside), read without rebuilding `entry`; otherwise undefined.
   */
  readonly soleValue?: unknown;
}

/** Integers below this are small integers (Smis) on every V8 build: stored in the object, no heap number. */
const smiLimit = 2 ** 30;
const isSmi = (n: number) => Number.isInteger(n) && n >= 0 && n < smiLimit;

/** Boot ids of version actors (`<bootId>.<seq>`, see coordinateRegisterWrite), interned per process. */
class ActorTable {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  /** Distinct boot ids this table holds at most; past it, actors stay in the general form. */
  static readonly bootIdsMax = 65_536;

  /** [boot index, seq] of an actor, or undefined when it does not have the `<bootId>.<seq>` form. */
  split(actor: string): [number, number] | undefined {
    const dot = actor.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const tail = actor.slice(dot + 1);
    const seq = Number(tail);
    if (!isSmi(seq) || String(seq) !== tail) return undefined;
    const boot = actor.slice(0, dot);
    let id = this.ids.get(boot);
    if (id === undefined) {
      if (this.names.length >= ActorTable.bootIdsMax) return undefined;
      id = this.names.length;
      this.names.push(boot);
      this.ids.set(boot, id);
    }
    return [id, seq];
  }

  name(boot: number, seq: number): string {
    return `${this.names[boot]!}.${seq}`;
  }
}

/** Any entry: the general form. */
class GeneralEntry implements StoredEntry {
  private readonly hashHi: number;
  private readonly hashLo: number;

  constructor(
    readonly entry: Entry,
    readonly seq: number,
    hash: number,
    readonly since: number,
    readonly tombstoneSince: number | undefined,
  ) {
    // Two small integers rather than one heap number (a uint32 is a Smi only below 2^30).
    this.hashHi = hash >>> 16;
    this.hashLo = hash & 0xffff;
  }

  get hash(): number {
    return this.hashHi * 0x10000 + this.hashLo;
  }
}

/**
 * A register with one live sibling whose dot is its whole version vector ({a: n}, dot (a, n)),
 * with every number a small integer: the common case, in one object of 10 fields.
 */
class CompactRegister implements StoredEntry {
  private readonly hashHi: number;
  private readonly hashLo: number;
  private readonly atHi: number;
  private readonly atLo: number;

  constructor(
    private readonly actors: ActorTable,
    readonly seq: number,
    hash: number,
    readonly since: number,
    private readonly boot: number,
    private readonly actorSeq: number,
    private readonly counter: number,
    at: number,
    private readonly value: unknown,
  ) {
    this.hashHi = hash >>> 16;
    this.hashLo = hash & 0xffff;
    // `| 0`: both halves are below 2^30, and V8 keeps a field that ever held a non-Smi number boxed.
    this.atHi = Math.floor(at / smiLimit) | 0;
    this.atLo = (at % smiLimit) | 0;
  }

  /** The compact form of `v`, or undefined when it has none. */
  static of(actors: ActorTable, v: Versioned, seq: number, hash: number, since: number): CompactRegister | undefined {
    if (v.siblings.length !== 1) return undefined;
    const s = v.siblings[0]!;
    if (s.deleted || !isSmi(seq) || !isSmi(since) || !isSmi(s.dot[1])) return undefined;
    if (!Number.isSafeInteger(s.at) || s.at < 0) return undefined;
    let n = 0;
    for (const a in v.vv) if (++n > 1 || a !== s.dot[0] || v.vv[a] !== s.dot[1]) return undefined;
    if (n !== 1) return undefined;
    const actor = actors.split(s.dot[0]);
    if (!actor) return undefined;
    return new CompactRegister(actors, seq, hash, since, actor[0], actor[1], s.dot[1], s.at, s.value);
  }

  get hash(): number {
    return this.hashHi * 0x10000 + this.hashLo;
  }

  get tombstoneSince(): undefined {
    return undefined;
  }

  get soleValue(): unknown {
    return this.value;
  }

  get entry(): Entry {
    const actor = this.actors.name(this.boot, this.actorSeq);
    const at = this.atHi * smiLimit + this.atLo;
    const vv: Record<string, number> = {};
    vv[actor] = this.counter;
    return { kind: 'register', v: { vv, siblings: [{ dot: [actor, this.counter], value: this.value, at }] } };
  }
}

export interface StoreMutation {
  readonly partition: number;
  readonly key: string;
  /** Undefined when the key was removed from this node. */
  readonly entry: Entry | undefined;
  /** The entry's version-actor seq (see StoredEntry.since); absent on removal. */
  readonly since?: number;
}

export class PartitionData {
  readonly entries = new Map<string, StoredEntry>();
  readonly buckets: Uint32Array;
  /** Secondary indexes by name (./secondaryIndex.ts), kept in step with `entries` by the store. */
  readonly indexes = new Map<string, SortedIndex>();

  constructor(bucketCount: number) {
    this.buckets = new Uint32Array(bucketCount);
  }

  bucketOf(key: string): number {
    return hash32(key, 0x9e3779b9) % this.buckets.length;
  }
}

export class VnodeStore {
  private readonly partitions = new Map<number, PartitionData>();
  private seq = 0;
  private readonly actors = new ActorTable();
  private observer: ((m: StoreMutation) => void) | undefined;

  constructor(
    private readonly types: DataTypeRegistry,
    private readonly bucketCount: number,
  ) {}

  /**
   * The node that owns this store: told of every change, in order, before the change is
   * acknowledged to anyone. One owner; a node restarted in the simulator over its
   * predecessor's store takes over.
   */
  attach(observer: (m: StoreMutation) => void): void {
    this.observer = observer;
  }

  partition(p: number): PartitionData | undefined {
    return this.partitions.get(p);
  }

  partitionIndexes(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  keyCount(): number {
    let n = 0;
    for (const data of this.partitions.values()) n += data.entries.size;
    return n;
  }

  get(p: number, key: string): StoredEntry | undefined {
    return this.partitions.get(p)?.entries.get(key);
  }

  /** The partition's secondary index `name`, when any key of it is listed there. */
  index(p: number, name: string): SortedIndex | undefined {
    return this.partitions.get(p)?.indexes.get(name);
  }

  typeOf(key: string): DataType {
    return this.types.get(typeOfKey(key));
  }

  /** Merge an incoming entry; returns the stored result and whether anything changed. */
  merge(
    p: number,
    key: string,
    incoming: Entry,
    now: number,
    since?: number,
  ): { stored: StoredEntry; changed: boolean } {
    const data = this.partitionFor(p);
    const current = data.entries.get(key);
    const type = this.typeOf(key);
    const currentEntry = current?.entry;
    const merged = currentEntry ? mergeEntries(type, currentEntry, incoming) : incoming;
    const hash = hash32(`${key}#${entryFingerprint(type, merged)}`);
    if (current && current.hash === hash) return { stored: current, changed: false };
    const seq = ++this.seq;
    const keySince = current?.since ?? since ?? seq;
    const stored: StoredEntry =
      (merged.kind === 'register' ? CompactRegister.of(this.actors, merged.v, seq, hash, keySince) : undefined) ??
      new GeneralEntry(merged, seq, hash, keySince, isTombstone(merged) ? (current?.tombstoneSince ?? now) : undefined);
    this.install(data, p, key, current, stored, type, currentEntry, merged);
    return { stored, changed: true };
  }

  /** Reserve a sequence number no entry will ever get (a fresh version actor for a key not held here). */
  reserveSeq(): number {
    return ++this.seq;
  }

  /** Put an entry back as it was (restoring from disk), keeping its version actor. */
  restore(p: number, key: string, entry: Entry, since: number, now: number): void {
    this.seq = Math.max(this.seq, since);
    this.merge(p, key, entry, now, since);
  }

  /** The highest sequence number handed out; persisted so a restart never reuses one. */
  sequence(): number {
    return this.seq;
  }

  /** After a restart: continue numbering above everything used before. */
  raiseSequence(floor: number): void {
    this.seq = Math.max(this.seq, floor);
  }

  *entries(): Generator<[number, string, StoredEntry]> {
    for (const [p, data] of this.partitions) for (const [key, stored] of data.entries) yield [p, key, stored];
  }

  /** Remove a key only if it has not changed since `seq` (handoff drop, tombstone reap, expiry). */
  removeIfUnchanged(p: number, key: string, seq: number): boolean {
    const data = this.partitions.get(p);
    const current = data?.entries.get(key);
    if (!data || !current || current.seq !== seq) return false;
    data.entries.delete(key);
    data.buckets[data.bucketOf(key)]! ^= current.hash;
    reindex(data.indexes, this.typeOf(key), key, current.entry, undefined, 0);
    if (data.entries.size === 0) this.partitions.delete(p);
    this.observer?.({ partition: p, key, entry: undefined });
    return true;
  }

  /** Drop everything (a node that must not resurrect stale data). */
  clear(): void {
    for (const [p, data] of this.partitions) {
      for (const key of data.entries.keys()) this.observer?.({ partition: p, key, entry: undefined });
    }
    this.partitions.clear();
  }

  private partitionFor(p: number): PartitionData {
    let data = this.partitions.get(p);
    if (!data) {
      data = new PartitionData(this.bucketCount);
      this.partitions.set(p, data);
    }
    return data;
  }

  private install(
    data: PartitionData,
    p: number,
    key: string,
    old: StoredEntry | undefined,
    stored: StoredEntry,
    type: DataType,
    /** The old and new entries as already built by merge (a compact entry rebuilds its form on each read). */
    oldEntry: Entry | undefined,
    entry: Entry,
  ): void {
    const bucket = data.bucketOf(key);
    if (old) data.buckets[bucket]! ^= old.hash;
    data.buckets[bucket]! ^= stored.hash;
    data.entries.set(key, stored);
    reindex(data.indexes, type, key, oldEntry, entry, stored.hash);
    this.observer?.({ partition: p, key, entry, since: stored.since });
  }
}
