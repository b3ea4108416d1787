// What the cluster page derives from GET /api/cluster and the socket.io `cluster` events:
// node colors, preference lists, handoff progress and the client-side event log entries.

import type {
  ClusterEvent,
  ClusterHandoff,
  ClusterMember,
  ClusterUpdate,
  ClusterView,
  Liveness,
  MemberStatus,
} from './api';

/** Distinct on white and next to each other; the accent indigo comes first. */
const palette = [
  '#4f46e5', // indigo
  '#0d9488', // teal
  '#d97706', // amber
  '#db2777', // pink
  '#0284c7', // sky
  '#65a30d', // lime
  '#9333ea', // purple
  '#dc2626', // red
  '#0891b2', // cyan
  '#ea580c', // orange
  '#475569', // slate
  '#16a34a', // green
] as const;

function hash(text: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// A name keeps the color it got first for the life of the tab; the first choice comes from
// its hash, so the same cluster looks the same in every tab. A color already taken moves the
// next name along the palette until all are in use.
const assigned = new Map<string, number>();

/** The stable color of a node name (call with the names sorted for a deterministic first pick). */
export function nodeColor(name: string): string {
  let index = assigned.get(name);
  if (index === undefined) {
    const taken = new Set(assigned.values());
    index = hash(name) % palette.length;
    if (taken.size < palette.length) while (taken.has(index)) index = (index + 1) % palette.length;
    assigned.set(name, index);
  }
  return palette[index]!;
}

/** Every node name the view mentions (members, owners, next owners), sorted. */
export function nodeNames(view: ClusterView): string[] {
  const names = new Set<string>(view.members.map((m) => m.name));
  for (const p of view.ring.partitions) {
    if (p.owner) names.add(p.owner);
    if (p.next) names.add(p.next);
  }
  return [...names].sort();
}

/** name -> color for every node of the view. */
export function nodeColors(view: ClusterView): Map<string, string> {
  return new Map(nodeNames(view).map((name) => [name, nodeColor(name)]));
}

/**
 * The nodes that hold partition `index`: the server's list when it sent one, otherwise the
 * first nVal distinct owners walking clockwise from the partition.
 */
export function preferenceList(ring: ClusterUpdate['ring'], index: number): string[] {
  const given = ring.preferenceLists?.[index];
  if (Array.isArray(given) && given.length > 0) {
    return given.map((n: unknown) => (typeof n === 'string' ? n : String((n as { name?: unknown })?.name ?? n)));
  }
  const nodes: string[] = [];
  const size = ring.partitions.length;
  for (let step = 0; step < size && nodes.length < ring.nVal; step++) {
    const owner = ring.partitions[(index + step) % size]?.owner;
    if (owner && !nodes.includes(owner)) nodes.push(owner);
  }
  return nodes;
}

/** How many partitions each node owns now, and how many are on their way to it. */
export function ownership(ring: ClusterView['ring']): Map<string, { owned: number; incoming: number }> {
  const counts = new Map<string, { owned: number; incoming: number }>();
  const of = (name: string) => {
    let c = counts.get(name);
    if (c === undefined) counts.set(name, (c = { owned: 0, incoming: 0 }));
    return c;
  };
  for (const p of ring.partitions) {
    if (p.owner) of(p.owner).owned++;
    if (p.next) of(p.next).incoming++;
  }
  return counts;
}

export interface HandoffProgress {
  key: string;
  partition: number;
  kind: string | null;
  from: string | null;
  to: string;
  sent: number | null;
  total: number | null;
}

/**
 * A handoff in one shape whichever fields the node filled in (sent/total or keysSent/keysTotal).
 * The handoffs of a view are the ones its node runs, so that node sends.
 */
export function handoffProgress(h: ClusterHandoff, view: ClusterView): HandoffProgress {
  const ring = view.ring;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const to = Array.isArray(h.to)
    ? h.to.join(', ')
    : typeof h.to === 'string'
      ? h.to
      : (ring.partitions[h.partition]?.next ?? '?');
  const from = view.node || null;
  const kind = typeof h.kind === 'string' ? h.kind : null;
  return {
    key: `${h.partition}|${kind ?? ''}|${from ?? ''}|${to}`,
    partition: h.partition,
    kind,
    from,
    to,
    sent: num(h.sent) ?? num(h.keysSent),
    total: num(h.total) ?? num(h.keysTotal),
  };
}

export interface LogEntry {
  id: string;
  at: number;
  /** Arrival order, to keep entries of the same millisecond newest first. */
  seq: number;
  kind: string;
  message: string;
  /** server: from the node's event log; client: noticed by this page between two views. */
  source: 'server' | 'client';
}

/** Newest first, at most `max`. */
export function mergeLog(current: readonly LogEntry[], additions: readonly LogEntry[], max: number): LogEntry[] {
  if (additions.length === 0) return current as LogEntry[];
  return [...additions, ...current].sort((a, b) => b.at - a.at || b.seq - a.seq).slice(0, max);
}

export function eventTime(at: string | number | undefined, fallback: number): number {
  if (typeof at === 'number' && Number.isFinite(at)) return at;
  if (typeof at === 'string') {
    const parsed = Date.parse(at);
    if (!Number.isNaN(parsed)) return parsed;
    const n = Number(at);
    if (Number.isFinite(n)) return n;
  }
  return fallback;
}

export function serverEventKey(e: ClusterEvent): string {
  return `${String(e.at)}|${e.kind}|${e.message}`;
}

/** What changed about the members between two views, as log messages. */
export function memberChanges(
  before: readonly ClusterMember[],
  after: readonly ClusterMember[],
): { kind: string; message: string }[] {
  const changes: { kind: string; message: string }[] = [];
  const old = new Map(before.map((m) => [m.name, m]));
  for (const m of after) {
    const was = old.get(m.name);
    old.delete(m.name);
    if (was === undefined) {
      changes.push({ kind: 'member', message: `${m.name} appeared (${m.status}, ${m.liveness})` });
      continue;
    }
    if (was.status !== m.status) changes.push({ kind: 'status', message: `${m.name} is now ${m.status}` });
    if (was.liveness !== m.liveness) changes.push({ kind: 'liveness', message: `${m.name} is now ${m.liveness}` });
  }
  for (const name of old.keys()) changes.push({ kind: 'member', message: `${name} is no longer listed` });
  return changes;
}

export const statusTone: Record<MemberStatus, string> = {
  valid: 'badge badge-success',
  joining: 'badge badge-accent',
  leaving: 'badge badge-warning',
  exiting: 'badge badge-warning',
  downed: 'badge badge-danger',
  removed: 'badge',
};

export const livenessTone: Record<Liveness, string> = {
  alive: 'badge badge-success',
  suspect: 'badge badge-warning',
  dead: 'badge badge-danger',
};
