// Secondary indexes (riak 2i): a data type may list a value under terms of named indexes
// (DataType.index), and each partition keeps, per index name, every listed key ordered by
// (term, sort, key) in four parallel columns. No object per key: an entry costs a reference
// to its term and key (strings the stored value and the store's map already hold), its sort
// and its entry hash, about 32 bytes. A term's keys are one contiguous run, found by binary
// search; its count and digest (XOR of entry hashes, so two replicas can tell they agree)
// are one pass over that run's hash column, never over values.
import type { DataType, IndexEntry } from './datatype';
import type { Entry } from './entry';

/** A position in a term's order: strictly after it means lower (sort, key) in a descending walk. */
export type IndexCursor = readonly [sort: number, key: string];

function cmp(ta: string, sa: number, ka: string, tb: string, sb: number, kb: string): number {
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (ka !== kb) return ka < kb ? -1 : 1;
  return 0;
}

export class SortedIndex {
  private readonly terms: string[] = [];
  private readonly sorts: number[] = [];
  private readonly keys: string[] = [];
  private readonly hashes: number[] = [];
  /** A value of a type that expires was ever listed: a count must then read values (expired ones are not live). */
  mayExpire = false;
  /**
   * Count and digest of the terms that were summarized with at least summaryCachedKeysMin
   * keys, kept up to date by upsert and remove from then on, so counting a large term (an
   * owner's million links) costs one lookup instead of a pass over its run. Small terms (most
   * owners have a few links) are walked and cost no memory here.
   */
  private readonly summaries = new Map<string, { count: number; digest: number }>();
  /** A term this long is summarized once and then kept up to date (keys). */
  static readonly summaryCachedKeysMin = 1_024;

  get size(): number {
    return this.keys.length;
  }

  /** First position whose (term, sort, key) is >= the given one. */
  private lowerBound(term: string, sort: number, key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(this.terms[mid]!, this.sorts[mid]!, this.keys[mid]!, term, sort, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Put (term, sort, key) in with its entry hash, or update the hash of the one already there. */
  upsert(term: string, sort: number, key: string, hash: number): void {
    const i = this.lowerBound(term, sort, key);
    const summary = this.summaries.get(term);
    if (i < this.keys.length && this.keys[i] === key && this.terms[i] === term && this.sorts[i] === sort) {
      if (summary) summary.digest ^= this.hashes[i]! ^ hash;
      this.hashes[i] = hash;
      return;
    }
    if (summary) {
      summary.count++;
      summary.digest ^= hash;
    }
    // Share one string per term (a neighbour's, when equal) rather than one per decoded value.
    const shared =
      i > 0 && this.terms[i - 1] === term
        ? this.terms[i - 1]!
        : i < this.keys.length && this.terms[i] === term
          ? this.terms[i]!
          : term;
    this.terms.splice(i, 0, shared);
    this.sorts.splice(i, 0, sort);
    this.keys.splice(i, 0, key);
    this.hashes.splice(i, 0, hash);
  }

  remove(term: string, sort: number, key: string): boolean {
    const i = this.lowerBound(term, sort, key);
    if (i >= this.keys.length || this.keys[i] !== key || this.terms[i] !== term || this.sorts[i] !== sort) return false;
    const summary = this.summaries.get(term);
    if (summary) {
      summary.count--;
      summary.digest ^= this.hashes[i]!;
      if (summary.count === 0) this.summaries.delete(term);
    }
    this.terms.splice(i, 1);
    this.sorts.splice(i, 1);
    this.keys.splice(i, 1);
    this.hashes.splice(i, 1);
    return true;
  }

  /**
   * The term's keys in descending (sort, key) order, strictly after `after` when given; stops
   * when `visit` returns false.
   */
  descending(
    term: string,
    after: IndexCursor | undefined,
    visit: (key: string, sort: number, hash: number) => boolean,
  ) {
    // Start at the last position below `after` (or the term's last key), walk down while in the term.
    let i = after ? this.lowerBound(term, after[0], after[1]) - 1 : this.lowerBound(term + '\u0000', -Infinity, '') - 1;
    for (; i >= 0 && this.terms[i] === term; i--) if (!visit(this.keys[i]!, this.sorts[i]!, this.hashes[i]!)) return;
  }

  /** How many keys the term lists, and the XOR of their entry hashes. */
  summary(term: string): { count: number; digest: number } {
    const kept = this.summaries.get(term);
    if (kept) return { count: kept.count, digest: kept.digest >>> 0 };
    let i = this.lowerBound(term, -Infinity, '');
    let count = 0;
    let digest = 0;
    for (; i < this.keys.length && this.terms[i] === term; i++) {
      count++;
      digest ^= this.hashes[i]!;
    }
    if (count >= SortedIndex.summaryCachedKeysMin) this.summaries.set(term, { count, digest });
    return { count, digest: digest >>> 0 };
  }
}

/**
 * Index entries of a stored entry: for a register, of its resolved live (non-deleted) value,
 * regardless of expiry (queries hide expired values as reads do); none for a tombstone.
 */
export function indexEntriesOf(type: DataType, entry: Entry | undefined): readonly IndexEntry[] {
  const index = type.index as ((value: unknown) => readonly IndexEntry[]) | undefined;
  if (!entry || !index) return [];
  if (entry.kind === 'crdt') return index(entry.value);
  const values: unknown[] = [];
  for (const s of entry.v.siblings) if (!s.deleted) values.push(s.value);
  if (values.length === 0) return [];
  const resolve = type.kind === 'register' ? type.resolve : undefined;
  return index(values.length > 1 && resolve ? resolve(values) : values[0]);
}

const same = (a: IndexEntry, b: IndexEntry) => a.name === b.name && a.term === b.term && a.sort === b.sort;

/** Keep a partition's indexes in step with one key's change from `before` to `after`. */
export function reindex(
  indexes: Map<string, SortedIndex>,
  type: DataType,
  key: string,
  before: Entry | undefined,
  after: Entry | undefined,
  afterHash: number,
): void {
  if (!type.index) return;
  const old = indexEntriesOf(type, before);
  const next = indexEntriesOf(type, after);
  for (const e of old) if (!next.some((n) => same(n, e))) indexes.get(e.name)?.remove(e.term, e.sort, key);
  for (const e of next) {
    let idx = indexes.get(e.name);
    if (!idx) indexes.set(e.name, (idx = new SortedIndex()));
    idx.upsert(e.term, e.sort, key, afterHash);
    if (type.expiresAt) idx.mayExpire = true;
  }
  for (const [name, idx] of indexes) if (idx.size === 0) indexes.delete(name);
}
