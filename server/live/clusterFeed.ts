// The `cluster` channel: this node's view of the cluster (members with status and
// liveness, the ring with preference lists, handoffs in progress) and a log of what
// changed, pushed to the node's own sockets when something changes and at least every
// `heartbeatMs`. Each node describes what it sees, so no fan-out is needed.
import type { RingNode } from '../../ring/node/ringNode';
import type { Clock, TimerHandle, Timers } from '../../ring/runtime';

export const eventLogMax = 100;
const checkEveryMs = 250;
const heartbeatMs = 2_000;

export interface ClusterEvent {
  at: string;
  kind: 'member' | 'liveness' | 'handoff' | 'ring';
  message: string;
}

export class ClusterFeed {
  private readonly events: ClusterEvent[] = [];
  private last = '';
  private lastSentAt = 0;
  private members = new Map<string, { status: string; liveness: string }>();
  private handoffs = new Set<string>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly node: RingNode,
    private readonly view: () => Record<string, unknown>,
    private readonly send: (snapshot: Record<string, unknown>) => void,
    private readonly rt: { clock: Clock; timers: Timers },
  ) {}

  start(): void {
    const tick = () => {
      this.check();
      this.timer = this.rt.timers.setTimeout(tick, checkEveryMs);
    };
    this.timer = this.rt.timers.setTimeout(tick, checkEveryMs);
  }

  stop(): void {
    if (this.timer) this.rt.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  snapshot(): Record<string, unknown> {
    const v = this.view();
    const ring = v.ring as Record<string, unknown>;
    const at = new Date(this.rt.clock.now()).toISOString();
    return { ...v, ring: { ...ring, preferenceLists: this.node.preferenceLists().primaries }, events: this.events, at };
  }

  private log(kind: ClusterEvent['kind'], message: string): void {
    this.events.push({ at: new Date(this.rt.clock.now()).toISOString(), kind, message });
    if (this.events.length > eventLogMax) this.events.splice(0, this.events.length - eventLogMax);
  }

  private check(): void {
    const seen = new Map<string, { status: string; liveness: string }>();
    for (const m of this.node.members()) {
      seen.set(m.name, { status: m.status, liveness: m.liveness });
      const before = this.members.get(m.name);
      if (!before) this.log('member', `${m.name} (${m.addr}) is a member, ${m.status}`);
      else {
        if (before.status !== m.status) this.log('member', `${m.name} is now ${m.status}`);
        if (before.liveness !== m.liveness) this.log('liveness', `${m.name} is ${m.liveness}${m.name === this.node.name ? '' : ` (seen from ${this.node.name})`}`);
      }
    }
    this.members = seen;
    const active = new Set<string>();
    for (const h of this.node.handoffs()) {
      const id = `${h.kind}:${h.partition}:${h.to.join(',')}`;
      active.add(id);
      if (!this.handoffs.has(id)) this.log('handoff', `${h.kind} handoff of partition ${h.partition} to ${h.to.join(', ')} started`);
    }
    for (const id of this.handoffs) if (!active.has(id)) this.log('handoff', `handoff of partition ${id.split(':')[1]} to ${id.split(':')[2]} finished`);
    this.handoffs = active;
    const print = JSON.stringify([[...seen], [...active], this.node.ring().partitions.map((p) => `${p.owner}>${p.next ?? ''}`), this.events.length]);
    const now = this.rt.clock.now();
    if (print !== this.last || now - this.lastSentAt >= heartbeatMs) {
      this.last = print;
      this.lastSentAt = now;
      this.send(this.snapshot());
    }
  }
}
