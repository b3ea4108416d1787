// Coordinated reads and writes with N/R/W over a sloppy quorum (Dynamo §4.5-4.6). Writes
// to registers are versioned by the coordinator, which must hold the key itself (it stores
// first, then replicates), so its version actor always sees its own history. Reads merge
// what R replicas say and repair the replicas that were behind (read repair).
import type { DataType } from '../storage/datatype';
import {
  decodeEntry,
  encodeEntry,
  entryFingerprint,
  isExpired,
  liveSiblingValues,
  mergeEntries,
  type Entry,
  type WireEntry,
} from '../storage/entry';
import { emptyVersioned, isDeleted, writeVersioned, type VersionVector } from '../storage/versions';
import { ringError, type Callback, type NodeContext, type RingError } from '../node/context';
import { scatter, type ScatterOptions } from '../node/scatter';

export type ReadResult =
  | { readonly found: false }
  | {
      readonly found: true;
      /** True when every version is a tombstone. */
      readonly deleted: boolean;
      /** Live sibling values, newest first (one unless concurrent writes happened). */
      readonly values: readonly unknown[];
      /** What a reader sees: the data type's resolution of the siblings, or the CRDT's value. */
      readonly value: unknown;
      /** Causal context to pass back with the next write of this key (registers only). */
      readonly context: VersionVector;
    };

export type WriteResult = { readonly context: VersionVector };

type KeyedWire = [key: string, entry: WireEntry];

export function installQuorumHandlers(ctx: NodeContext): void {
  ctx.rpc.on('fetch', (_from, body: { key: string }, reply) => {
    const stored = ctx.store.get(ctx.partitionOf(body.key), body.key);
    reply(stored ? encodeEntry(ctx.store.typeOf(body.key), stored.entry) : null);
  });
  ctx.rpc.on('fetch-many', (_from, body: { keys: string[] }, reply, refuse) => {
    if (!Array.isArray(body.keys) || body.keys.length > getManyKeysMax)
      return refuse(`fetch-many takes at most ${getManyKeysMax} keys`);
    reply(
      body.keys.map((key) => {
        const stored = ctx.store.get(ctx.partitionOf(key), key);
        return stored ? encodeEntry(ctx.store.typeOf(key), stored.entry) : null;
      }),
    );
  });
  ctx.rpc.on('store', (_from, body: { entries: KeyedWire[] }, reply) => {
    // One journal write for the whole message (a handoff chunk or a repair), before the answer.
    ctx.journalBatch(() => storeEntries(ctx, body.entries));
    reply(true);
  });
  ctx.rpc.on(
    'coord-write',
    (_from, body: { key: string; value?: unknown; deleted?: true; context: VersionVector }, reply, refuse) => {
      const type = ctx.store.typeOf(body.key);
      const value = body.deleted ? undefined : type.decode(body.value);
      coordinateRegisterWrite(ctx, body.key, { value, deleted: body.deleted, context: body.context }, (err, res) => {
        if (err) refuse(`${err.kind}: ${err.message}`);
        else reply(res);
      });
    },
  );
}

export function storeEntries(ctx: NodeContext, entries: readonly KeyedWire[]): void {
  const now = ctx.rt.clock.now();
  for (const [key, wire] of entries) {
    const type = ctx.store.typeOf(key);
    const p = ctx.partitionOf(key);
    if (ctx.store.merge(p, key, decodeEntry(type, wire), now).changed) forwardToIncoming(ctx, p, key, wire);
  }
}

/**
 * While this node hands a partition off, writes it applies also go to the incoming
 * primaries, so a read just after the owner switch finds them. (The push after the switch
 * would deliver them anyway; this only closes that window.)
 */
function forwardToIncoming(ctx: NodeContext, p: number, key: string, wire: WireEntry): void {
  const prefs = ctx.prefs();
  const planned = prefs.planned[p]!;
  if (planned.includes(ctx.name) || !prefs.primaries[p]!.includes(ctx.name)) return;
  for (const node of planned) {
    if (!prefs.primaries[p]!.includes(node) && ctx.isUp(node))
      ctx.rpc.call(node, 'store', { entries: [[key, wire]] }, ctx.config.requestTimeoutMs, () => {});
  }
}

/** Read a key from R of its N reachable replicas. */
export function quorumGet(ctx: NodeContext, key: string, done: Callback<ReadResult>): void {
  ctx.stats.gets++;
  const type = ctx.store.typeOf(key);
  const p = ctx.partitionOf(key);
  const targets = ctx.targets(p);
  const { r } = ctx.quorum(p);
  if (targets.length < r) return done(ringError('unavailable', `only ${targets.length} replicas reachable, R=${r}`));
  const replies = new Map<string, Entry | null>();
  fetchEntries(ctx, type, key, targets, replies, {
    need: r,
    settled: (got) => {
      if (got.met) done(null, readResult(type, mergeAll(type, replies), ctx.rt.clock.now()));
      else done(ringError('timeout', `${replies.size} of R=${r} replicas answered`));
    },
    allAnswered: () => readRepair(ctx, key, type, replies),
  });
}

/** Keys one getMany may read (one message per replica carries them all). */
export const getManyKeysMax = 1_000;

/**
 * Read many keys, each from R of its N reachable replicas as quorumGet reads one, in one
 * message per replica (the keys a node is a target for) instead of one per key and replica:
 * a page of 50 links reads its 100 counters in at most N messages rather than 100 quorum
 * reads. Answers once every key has R replies, or fails as a whole when a key cannot get
 * them; the replicas that were behind on a key are repaired once every message answered.
 */
export function quorumGetMany(ctx: NodeContext, keys: readonly string[], done: Callback<ReadResult[]>): void {
  if (keys.length > getManyKeysMax)
    return done(ringError('invalid', `getMany reads at most ${getManyKeysMax} keys, got ${keys.length}`));
  ctx.stats.gets += keys.length;
  const per = keys.map((key) => {
    const p = ctx.partitionOf(key);
    return {
      key,
      type: ctx.store.typeOf(key),
      targets: ctx.targets(p),
      r: ctx.quorum(p).r,
      replies: new Map<string, Entry | null>(),
      failed: 0,
    };
  });
  const short = per.find((k) => k.targets.length < k.r);
  if (short) return done(ringError('unavailable', `only ${short.targets.length} replicas reachable, R=${short.r}`));
  if (per.length === 0) return done(null, []);
  const byNode = new Map<string, number[]>();
  per.forEach((k, i) => {
    for (const n of k.targets) {
      const list = byNode.get(n) ?? [];
      list.push(i);
      byNode.set(n, list);
    }
  });
  let settled = false;
  let unmet = per.length;
  scatter(ctx.rpc, [...byNode.keys()], 'fetch-many', undefined, {
    timeoutMs: ctx.config.requestTimeoutMs,
    bodyFor: (n) => ({ keys: byNode.get(n)!.map((i) => per[i]!.key) }),
    onAnswer: (a) => {
      const idx = byNode.get(a.node)!;
      const wires = a.error ? undefined : (a.body as (WireEntry | null)[]);
      idx.forEach((i, j) => {
        const k = per[i]!;
        const before = k.replies.size >= k.r;
        if (wires) k.replies.set(a.node, wires[j] ? decodeEntry(k.type, wires[j]) : null);
        else k.failed++;
        if (!before && k.replies.size >= k.r) unmet--;
      });
      if (settled) return;
      const lost = per.find((k) => k.replies.size < k.r && k.targets.length - k.failed < k.r);
      if (lost) {
        settled = true;
        return done(ringError('timeout', `${lost.replies.size} of R=${lost.r} replicas of ${lost.key} answered`));
      }
      if (unmet === 0) {
        settled = true;
        const now = ctx.rt.clock.now();
        done(
          null,
          per.map((k) => readResult(k.type, mergeAll(k.type, k.replies), now)),
        );
      }
    },
    allAnswered: () => {
      // One 'store' per replica that was behind on any key, carrying all its repairs.
      const repairs = new Map<string, KeyedWire[]>();
      for (const k of per) {
        const merged = mergeAll(k.type, k.replies);
        if (!merged) continue;
        const want = entryFingerprint(k.type, merged);
        let wire: WireEntry | undefined;
        for (const [node, entry] of k.replies) {
          if (entry && entryFingerprint(k.type, entry) === want) continue;
          ctx.stats.readRepairs++;
          const list = repairs.get(node) ?? [];
          list.push([k.key, (wire ??= encodeEntry(k.type, merged))]);
          repairs.set(node, list);
        }
      }
      for (const [node, entries] of repairs)
        ctx.rpc.call(node, 'store', { entries }, ctx.config.requestTimeoutMs, () => {});
    },
  });
}

/** Ask `nodes` for their entry of the key; `replies` gets each answer as it arrives (null: the node has none). */
function fetchEntries(
  ctx: NodeContext,
  type: DataType,
  key: string,
  nodes: readonly string[],
  replies: Map<string, Entry | null>,
  opts: Pick<ScatterOptions, 'need' | 'settled' | 'allAnswered'>,
): void {
  scatter(
    ctx.rpc,
    nodes,
    'fetch',
    { key },
    {
      ...opts,
      timeoutMs: ctx.config.requestTimeoutMs,
      onAnswer: (a) => {
        if (!a.error) replies.set(a.node, a.body ? decodeEntry(type, a.body as WireEntry) : null);
      },
    },
  );
}

/**
 * A read that asks every given node (every member up, typically), not just the key's
 * preference list, and merges whatever any of them holds: "not found" then means no
 * reachable node has the key, including a fallback still holding it as a hint after a
 * partition healed. For rare reads where a false "not found" is costly; no read repair.
 */
export function exhaustiveGet(
  ctx: NodeContext,
  key: string,
  nodes: readonly string[],
  done: Callback<ReadResult>,
): void {
  const type = ctx.store.typeOf(key);
  if (nodes.length === 0) return done(ringError('unavailable', 'no node to ask'));
  const replies = new Map<string, Entry | null>();
  fetchEntries(ctx, type, key, nodes, replies, {
    allAnswered: () => {
      const failures = nodes.length - replies.size;
      const none = `none of ${nodes.length} nodes answered (${failures} failed)`;
      if (replies.size === 0) return done(ringError('timeout', none));
      done(null, readResult(type, mergeAll(type, replies), ctx.rt.clock.now()));
    },
  });
}

function mergeAll(type: DataType, replies: ReadonlyMap<string, Entry | null>): Entry | null {
  let merged: Entry | null = null;
  for (const e of replies.values()) if (e) merged = merged ? mergeEntries(type, merged, e) : e;
  return merged;
}

/** What a reader at `now` sees of an entry: expired values are absent. */
export function readResult(type: DataType, entry: Entry | null, now: number): ReadResult {
  if (!entry) return { found: false };
  if (entry.kind === 'crdt')
    return isExpired(type, entry, now)
      ? { found: false }
      : { found: true, deleted: false, values: [entry.value], value: entry.value, context: {} };
  const values = liveSiblingValues(type, entry, now);
  const deleted = isDeleted(entry.v);
  if (values.length === 0 && !deleted) return { found: false };
  const value =
    values.length === 0 ? undefined : type.kind === 'register' && type.resolve ? type.resolve(values) : values[0];
  return { found: true, deleted, values, value, context: entry.v.vv };
}

function readRepair(ctx: NodeContext, key: string, type: DataType, replies: ReadonlyMap<string, Entry | null>): void {
  const merged = mergeAll(type, replies);
  if (!merged) return;
  const want = entryFingerprint(type, merged);
  const wire = encodeEntry(type, merged);
  for (const [node, entry] of replies) {
    if (entry && entryFingerprint(type, entry) === want) continue;
    ctx.stats.readRepairs++;
    ctx.rpc.call(node, 'store', { entries: [[key, wire]] }, ctx.config.requestTimeoutMs, () => {});
  }
}

export interface RegisterWrite {
  value?: unknown;
  deleted?: true;
  context: VersionVector;
}

/** Write a register: coordinate here if this node is one of the key's N targets, else forward to one that is. */
export function quorumWrite(ctx: NodeContext, key: string, write: RegisterWrite, done: Callback<WriteResult>): void {
  ctx.stats.puts++;
  const type = ctx.store.typeOf(key);
  if (type.kind !== 'register') return done(ringError('invalid', `type ${type.name} is a CRDT: use merge, not put`));
  const p = ctx.partitionOf(key);
  const targets = ctx.targets(p);
  const { w } = ctx.quorum(p);
  if (targets.length < w) return done(ringError('unavailable', `only ${targets.length} replicas reachable, W=${w}`));
  if (targets.includes(ctx.name)) return coordinateRegisterWrite(ctx, key, write, done);
  forwardWrite(ctx, key, type, write, targets, 0, done);
}

function forwardWrite(
  ctx: NodeContext,
  key: string,
  type: DataType,
  write: RegisterWrite,
  targets: string[],
  attempt: number,
  done: Callback<WriteResult>,
): void {
  const to = targets[attempt];
  if (!to || attempt >= ctx.config.forwardHopsMax)
    return done(ringError('unavailable', `no coordinator accepted the write of ${key}`));
  const body = {
    key,
    deleted: write.deleted,
    value: write.deleted ? undefined : type.encode(write.value),
    context: write.context,
  };
  ctx.rpc.call(to, 'coord-write', body, ctx.config.requestTimeoutMs * 2, (err, res) => {
    if (!err) return done(null, res as WriteResult);
    // Retry elsewhere only when the coordinator certainly applied nothing; otherwise a second
    // coordinator would write the same value under a second version the client never saw.
    const nothingApplied =
      err.kind === 'overloaded' ||
      err.kind === 'unknown-method' ||
      (err.kind === 'refused' && /^(unavailable|stopped):|node stopped/.test(err.detail));
    if (!nothingApplied) return done(ringError('timeout', `write of ${key} via ${to}: ${err.detail}`));
    forwardWrite(ctx, key, type, write, targets, attempt + 1, done);
  });
}

export function coordinateRegisterWrite(
  ctx: NodeContext,
  key: string,
  write: RegisterWrite,
  done: Callback<WriteResult>,
): void {
  const p = ctx.partitionOf(key);
  const local = ctx.store.get(p, key);
  const since = local?.since ?? ctx.store.reserveSeq();
  const actor = `${ctx.bootId}.${since}`;
  const base = local?.entry.kind === 'register' ? local.entry.v : emptyVersioned;
  const v = writeVersioned(base, write.context, actor, {
    value: write.value,
    deleted: write.deleted,
    at: ctx.rt.clock.now(),
  });
  const entry: Entry = { kind: 'register', v };
  ctx.store.merge(p, key, entry, ctx.rt.clock.now(), since);
  const type = ctx.store.typeOf(key);
  const wire = encodeEntry(type, entry);
  forwardToIncoming(ctx, p, key, wire);
  replicate(ctx, key, wire, 1, (err) => (err ? done(err) : done(null, { context: v.vv })));
}

/** Merge a CRDT state (or delta) into a key's replicas. Idempotent: safe to retry. */
export function quorumMerge(ctx: NodeContext, key: string, value: unknown, done: Callback<true>): void {
  const type = ctx.store.typeOf(key);
  if (type.kind !== 'crdt') return done(ringError('invalid', `type ${type.name} is not a CRDT`));
  replicate(ctx, key, encodeEntry(type, { kind: 'crdt', value }), 0, (err) => (err ? done(err) : done(null, true)));
}

/** Send an entry to the key's targets (other than self when already stored) and wait for W acks. */
function replicate(
  ctx: NodeContext,
  key: string,
  wire: WireEntry,
  localAcks: number,
  done: (err: RingError | null) => void,
): void {
  const p = ctx.partitionOf(key);
  const { w } = ctx.quorum(p);
  const targets = localAcks > 0 ? ctx.targets(p).filter((node) => node !== ctx.name) : ctx.targets(p);
  scatter(
    ctx.rpc,
    targets,
    'store',
    { entries: [[key, wire]] },
    {
      need: w - localAcks,
      timeoutMs: ctx.config.requestTimeoutMs,
      settled: (got) => {
        if (got.met) done(null);
        else done(ringError('timeout', `${localAcks + got.accepted.size} of W=${w} replicas acknowledged ${key}`));
      },
    },
  );
}
