// The simulator's invariants, checked after the faults heal and the cluster quiesces.
// They read every live node's state directly (white-box), so a check never depends on
// a request that could itself be wrong.
import type { GCounter } from '../crdt/gcounter';
import { hash32, partitionOf } from '../hash';
import { isActive, ringFingerprint } from '../membership/ringState';
import { decodeEntry, encodeEntry, entryFingerprint, isTombstone, mergeEntries, type Entry } from '../storage/entry';
import { durableStateOf } from '../node/ringNode';
import { checkCasHistories } from './linearizability';
import type { RegisterOp, Workload } from './workload';
import type { SimWorld } from './world';

export interface Violation {
  readonly invariant:
    | 'a-durable'
    | 'b-deleted'
    | 'c-counter'
    | 'd-cas'
    | 'e-preflist'
    | 'e-zones'
    | 'f-balance'
    | 'f-replicas'
    | 'converged';
  readonly detail: string;
}

/** Merge of every live node's copy of every key. */
function finalState(world: SimWorld): Map<string, { entry: Entry; holders: string[]; hashes: Map<string, number> }> {
  const out = new Map<string, { entry: Entry; holders: string[]; hashes: Map<string, number> }>();
  for (const sim of world.upNodes()) {
    const store = durableStateOf(sim.node).store;
    for (const p of store.partitionIndexes()) {
      for (const [key, stored] of store.partition(p)!.entries) {
        const type = store.typeOf(key);
        // Round-trip through the wire encoding, as replicas exchange it.
        const entry = decodeEntry(type, encodeEntry(type, stored.entry));
        const cur = out.get(key);
        if (cur) {
          cur.entry = mergeEntries(type, cur.entry, entry);
          cur.holders.push(sim.name);
          cur.hashes.set(sim.name, stored.hash);
        } else out.set(key, { entry, holders: [sim.name], hashes: new Map([[sim.name, stored.hash]]) });
      }
    }
  }
  return out;
}

function liveValues(entry: Entry | undefined): string[] {
  if (!entry || entry.kind !== 'register') return [];
  return entry.v.siblings.filter((s) => !s.deleted).map((s) => s.value as string);
}

export function checkRegisters(workload: Workload, state: ReturnType<typeof finalState>): Violation[] {
  return checkRegisterHistories(workload.registerOps, (key) => liveValues(state.get(key)?.entry));
}

/**
 * The register check on plain data: each key's ops in issue order (one causal chain per key)
 * and the key's final live sibling values (empty when absent or deleted).
 */
export function checkRegisterHistories(
  registerOps: ReadonlyMap<string, readonly RegisterOp[]>,
  finalValues: (key: string) => string[],
): Violation[] {
  const out: Violation[] = [];
  for (const [key, ops] of registerOps) {
    const values = finalValues(key);
    const lastAcked = ops.reduce((i, op, j) => (op.status === 'ok' ? j : i), -1);
    const indexOf = new Map(ops.filter((o) => o.value).map((o) => [o.value!, o]));
    for (const v of values) {
      const op = indexOf.get(v);
      if (!op) out.push({ invariant: 'a-durable', detail: `${key}: value ${v} was never written` });
      else if (op.status === 'ok' && op.index < lastAcked)
        out.push({
          invariant: 'a-durable',
          detail: `${key}: superseded value ${v} (op ${op.index}) visible after acked op ${lastAcked}`,
        });
    }
    const last = ops[lastAcked];
    if (!last) continue;
    if (last.kind === 'delete') {
      const revived = values.filter((v) => indexOf.get(v)?.status === 'ok');
      if (revived.length > 0)
        out.push({
          invariant: 'b-deleted',
          detail: `${key}: deleted (op ${lastAcked}) but shows acknowledged ${revived.join(', ')}`,
        });
    } else {
      const later = ops.slice(lastAcked + 1);
      const acceptable = new Set([last.value!, ...later.filter((o) => o.value).map((o) => o.value!)]);
      const laterDelete = later.some((o) => o.kind === 'delete');
      if (!values.some((v) => acceptable.has(v)) && !laterDelete) {
        out.push({
          invariant: 'a-durable',
          detail: `${key}: acknowledged put ${last.value} (op ${lastAcked}) lost; final values [${values.join(', ')}]`,
        });
      }
    }
  }
  return out;
}

/** A counter state (G or PN) as signed slot entries: ['+slot', v] for increments, ['-slot', v] for decrements. */
function counterSides(value: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const v = value as { p?: GCounter; n?: GCounter } & GCounter;
  if (v && typeof v === 'object' && 'p' in v && 'n' in v && typeof v.p === 'object') {
    for (const [slot, x] of Object.entries(v.p!)) out.set(`+${slot}`, x);
    for (const [slot, x] of Object.entries(v.n!)) out.set(`-${slot}`, x);
  } else if (v) for (const [slot, x] of Object.entries(v as GCounter)) out.set(`+${slot}`, x);
  return out;
}

export function checkCounters(
  world: SimWorld,
  workload: Workload,
  state: ReturnType<typeof finalState>,
): { violations: Violation[]; lost: number } {
  const out: Violation[] = [];
  let lostTotal = 0;
  const lostBySlot = new Map(world.lostSlots.map((s) => [s.slot, s.totals]));
  for (const [key, applied] of workload.increments) {
    const entry = state.get(key)?.entry;
    const sides = counterSides(entry?.kind === 'crdt' ? entry.value : {});
    let lost = 0;
    // Live slots must be complete: everything they counted has been shipped.
    for (const sim of world.upNodes()) {
      const shipper = sim.node.counterState();
      const t = shipper.slotTotals().get(key);
      if (!t) continue;
      const slot = shipper.slotId();
      for (const [sign, want] of [
        ['+', t.total],
        ['-', t.neg],
      ] as const) {
        const have = sides.get(`${sign}${slot}`) ?? 0;
        if (have !== want)
          out.push({ invariant: 'c-counter', detail: `${key}: live slot ${sign}${slot} has ${have}, counted ${want}` });
      }
    }
    // A crashed slot holds between what a write quorum acknowledged and what it counted;
    // the difference is exactly what the crash lost.
    for (const [slot, totals] of lostBySlot) {
      const t = totals.get(key);
      if (!t) continue;
      for (const [sign, acked, counted] of [
        ['+', t.acked, t.total],
        ['-', t.ackedNeg ?? 0, t.neg ?? 0],
      ] as const) {
        const have = sides.get(`${sign}${slot}`) ?? 0;
        if (have < acked || have > counted)
          out.push({
            invariant: 'c-counter',
            detail: `${key}: crashed slot ${sign}${slot} has ${have}, outside [acked ${acked}, counted ${counted}]`,
          });
        lost += sign === '+' ? counted - have : -(counted - have);
        lostTotal += counted - have;
      }
    }
    let total = 0;
    for (const [k, x] of sides) total += k.startsWith('+') ? x : -x;
    if (total !== applied - lost)
      out.push({
        invariant: 'c-counter',
        detail: `${key}: total ${total} != applied ${applied} - lost in crashes ${lost}`,
      });
  }
  return { violations: out, lost: lostTotal };
}

export function checkCas(workload: Workload): Violation[] {
  const out: Violation[] = [];
  const createsOk = new Map<string, number>();
  for (const h of workload.casHistory)
    if (h.op.kind === 'create' && h.output?.ok) createsOk.set(h.key, (createsOk.get(h.key) ?? 0) + 1);
  for (const [key, n] of createsOk)
    if (n > 1) out.push({ invariant: 'd-cas', detail: `${key}: ${n} creates succeeded` });
  for (const [key, r] of checkCasHistories(workload.casHistory)) {
    if (!r.ok && !r.inconclusive) out.push({ invariant: 'd-cas', detail: `${key}: not linearizable: ${r.reason}` });
  }
  return out;
}

/**
 * (e) checked at sample times during the run: with >= N owners, every preference list has N
 * distinct nodes; with zones, when the owners span >= N zones, N distinct zones (e-zones),
 * judged from the members' zones in the node's own ring, independently of placementZones.
 */
export function checkPreferenceLists(world: SimWorld): Violation[] {
  const out: Violation[] = [];
  const n = world.config.nVal;
  for (const sim of world.upNodes()) {
    const ring = sim.node.ring();
    const owners = new Set(ring.partitions.map((c) => c.owner).filter((o) => o !== ''));
    if (owners.size < n) continue;
    const zoneOf = (name: string): string => ring.members[name]?.zone ?? '';
    const zoned = [...owners].some((o) => zoneOf(o) !== '') && new Set([...owners].map(zoneOf)).size >= n;
    sim.node.preferenceLists().primaries.forEach((list, p) => {
      if (list.length !== n || new Set(list).size !== n)
        out.push({
          invariant: 'e-preflist',
          detail: `${sim.name} at ${world.now()}: partition ${p} has [${list.join(',')}]`,
        });
      else if (zoned && new Set(list.map(zoneOf)).size !== n)
        out.push({
          invariant: 'e-zones',
          detail: `${sim.name} at ${world.now()}: partition ${p} has [${list.map((m) => `${m}@${zoneOf(m)}`)}]`,
        });
    });
  }
  return out.slice(0, 5);
}

/** (f) once membership is stable: one ring everywhere, balanced, no pending moves, every key on its N primaries. */
export function checkConvergence(world: SimWorld, state: ReturnType<typeof finalState>): Violation[] {
  const out: Violation[] = [];
  const up = world.upNodes();
  const prints = new Set(up.map((s) => ringFingerprint(s.node.ring())));
  if (prints.size !== 1)
    return [{ invariant: 'converged', detail: `${prints.size} different rings across ${up.length} nodes` }];
  const ring = up[0]!.node.ring();
  const valid = Object.values(ring.members)
    .filter((m) => m.status === 'valid')
    .map((m) => m.name);
  const counts = new Map(valid.map((v) => [v, 0]));
  for (const c of ring.partitions) {
    if (c.next) out.push({ invariant: 'f-balance', detail: `partition still moving to ${c.next}` });
    counts.set(c.owner, (counts.get(c.owner) ?? 0) + 1);
  }
  const q = ring.ringSize;
  // With zones spanning >= N_VAL zones, balance is per zone: each zone floor/ceil of Q/zones,
  // shared floor/ceil among its nodes (placement/zones.ts). Else among all members.
  const zoneOf = (name: string): string => ring.members[name]?.zone ?? '';
  const zoneNames = [...new Set(valid.map(zoneOf))];
  const zoned = valid.some((m) => zoneOf(m) !== '') && zoneNames.length >= world.config.nVal;
  const groups = zoned ? zoneNames.map((z) => valid.filter((m) => zoneOf(m) === z)) : [valid];
  for (const group of groups) {
    const share = zoned ? group.reduce((s, m) => s + (counts.get(m) ?? 0), 0) : q;
    if (zoned && (share < Math.floor(q / groups.length) || share > Math.ceil(q / groups.length)))
      out.push({ invariant: 'f-balance', detail: `zone ${zoneOf(group[0]!)} owns ${share} of ${q}` });
    for (const name of group) {
      const k = counts.get(name) ?? 0;
      if (k < Math.floor(share / group.length) || k > Math.ceil(share / group.length))
        out.push({ invariant: 'f-balance', detail: `${name} owns ${k} of ${share} with ${group.length} members` });
    }
  }
  for (const [name, k] of counts) {
    if (!valid.includes(name))
      out.push({ invariant: 'f-balance', detail: `${name} (${ring.members[name]?.status}) owns ${k} partitions` });
  }
  const prefs = up[0]!.node.preferenceLists();
  const activeUp = up.filter((s) => isActive(ring.members[s.name]));
  if (activeUp.length === valid.length) {
    for (const [key, { entry, holders, hashes }] of state) {
      // Tombstones are collected asynchronously; one caught mid-collection is harmless.
      if (isTombstone(entry)) continue;
      const primaries = prefs.primaries[partitionOfKey(world, key)]!;
      const want = hash32(`${key}#${entryFingerprint(durableStateOf(up[0]!.node).store.typeOf(key), entry)}`);
      const behind = primaries.filter((n) => hashes.get(n) !== want);
      if (behind.length > 0)
        out.push({
          invariant: 'f-replicas',
          detail: `${key}: primaries ${behind.join(',')} lack the merged version (held by ${holders.join(',')})`,
        });
    }
  }
  return out.slice(0, 10);
}

function partitionOfKey(world: SimWorld, key: string): number {
  return partitionOf(key, world.config.ringSize);
}

export { finalState };
