// The node's public ports, through ring/index.ts and ring/sim/index.ts only: typed events
// with many listeners (the emitter itself, then a real RingNode joining, leaving and storing
// on the simulated network), the durability journal and snapshot, and app messages and
// requests declared once in a table, whose handlers a node refuses to take twice.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  appMessage,
  appProtocol,
  appRpc,
  Emitter,
  initHash,
  restoreDurableState,
  RingNode,
  silentLogger,
  type Callback,
  type DurableChange,
  type DurableJournal,
  type DurableState,
  type HandoffStatus,
  type Logger,
  type MemberChange,
  type WriteResult,
} from '../../ring';
import { simClock, SimWorld, simRingConfig, simTypes } from '../../ring/sim';

beforeAll(async () => {
  await initHash();
});

// ---------------------------------------------------------------- the emitter

interface TestEvents {
  tick: number;
  done: void;
}

function recordingLogger(): Logger & { errors: { msg: string; fields?: Record<string, unknown> }[] } {
  const errors: { msg: string; fields?: Record<string, unknown> }[] = [];
  const error = (msg: string, fields?: Record<string, unknown>) => errors.push({ msg, ...(fields ? { fields } : {}) });
  return { errors, debug() {}, info() {}, warn() {}, error };
}

describe('Emitter', () => {
  it('calls every listener, in subscription order, with the payload', () => {
    const e = new Emitter<TestEvents>(recordingLogger());
    const seen: string[] = [];
    e.on('tick', (n) => seen.push(`a${n}`));
    e.on('tick', (n) => seen.push(`b${n}`));
    e.on('done', () => seen.push('done'));
    e.emit('tick', 1);
    e.emit('done');
    e.emit('tick', 2);
    expect(seen).toEqual(['a1', 'b1', 'done', 'a2', 'b2']);
  });

  it('unsubscribes one listener and leaves the others; a second unsubscribe is harmless', () => {
    const e = new Emitter<TestEvents>(recordingLogger());
    const seen: string[] = [];
    const offA = e.on('tick', (n) => seen.push(`a${n}`));
    e.on('tick', (n) => seen.push(`b${n}`));
    // The same function twice is two subscriptions, each with its own unsubscribe.
    const c = (n: number) => seen.push(`c${n}`);
    const offC1 = e.on('tick', c);
    e.on('tick', c);
    e.emit('tick', 1);
    offA();
    offC1();
    offA();
    e.emit('tick', 2);
    expect(seen).toEqual(['a1', 'b1', 'c1', 'c1', 'b2', 'c2']);
    expect(e.listenerCount('tick')).toBe(2);
  });

  it('once: called for the next emission only, and can be cancelled before it', () => {
    const e = new Emitter<TestEvents>(recordingLogger());
    const seen: number[] = [];
    e.once('tick', (n) => seen.push(n));
    const cancelled = e.once('tick', (n) => seen.push(-n));
    cancelled();
    e.emit('tick', 1);
    e.emit('tick', 2);
    expect(seen).toEqual([1]);
    expect(e.listenerCount('tick')).toBe(0);
  });

  it('a listener that throws is logged and does not stop the others, nor reach the emitter', () => {
    const logger = recordingLogger();
    const e = new Emitter<TestEvents>(logger);
    const seen: string[] = [];
    e.on('tick', () => seen.push('before'));
    e.on('tick', () => {
      throw new Error('listener failed');
    });
    e.on('tick', () => seen.push('after'));
    expect(() => e.emit('tick', 1)).not.toThrow();
    expect(seen).toEqual(['before', 'after']);
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]!.fields).toMatchObject({ event: 'tick' });
    expect(String(logger.errors[0]!.fields?.err)).toContain('listener failed');
  });

  it('a listener unsubscribed during an emission is not called by it; one added during it waits for the next', () => {
    const e = new Emitter<TestEvents>(recordingLogger());
    const seen: string[] = [];
    let offB = () => {};
    e.on('tick', (n) => {
      seen.push(`a${n}`);
      offB();
      if (n === 1) e.on('tick', (m) => seen.push(`late${m}`));
    });
    offB = e.on('tick', (n) => seen.push(`b${n}`));
    e.emit('tick', 1);
    e.emit('tick', 2);
    expect(seen).toEqual(['a1', 'a2', 'late2']);
  });
});

// ---------------------------------------------------------------- a real node

function runUntil(world: SimWorld, pred: () => boolean, maxMs: number, stepMs = 50): boolean {
  const end = world.now() + maxMs;
  while (!pred()) {
    if (world.now() >= end) return false;
    world.run(stepMs);
  }
  return true;
}

function node(world: SimWorld, name: string): RingNode {
  const sim = world.nodes.get(name);
  if (!sim?.up) throw new Error(`${name} is not up`);
  return sim.node;
}

/** Every up node a valid member, no pending owner, no handoff running, one ring everywhere. */
function settled(world: SimWorld): boolean {
  const up = world.upNodes();
  const view = (n: RingNode) => JSON.stringify([n.members().map((m) => [m.name, m.status]), n.ring().partitions]);
  const first = view(up[0]!.node);
  return up.every((s) => {
    const n = s.node;
    return (
      view(n) === first &&
      n.ready() &&
      n.handoffs().length === 0 &&
      n.ring().partitions.every((c) => c.next === null) &&
      n.members().every((m) => m.liveness === 'alive')
    );
  });
}

function putAll(world: SimWorld, via: string, keys: readonly string[]): void {
  let acked = 0;
  const done: Callback<WriteResult> = (err) => {
    expect(err).toBeNull();
    acked++;
  };
  for (const key of keys) node(world, via).put(key, `v:${key}`, {}, done);
  expect(runUntil(world, () => acked === keys.length, 10_000)).toBe(true);
}

const keys = Array.from({ length: 200 }, (_, i) => `kv/events-${i}`);

describe('RingNode events (real nodes on the simulated network)', () => {
  it('a join: handoffs start, progress, finish in order; ring, member and key events reach several listeners', () => {
    const world = new SimWorld(7101, simRingConfig());
    world.addNode('n0', []);
    world.addNode('n1', ['n0']);
    world.addNode('n2', ['n0']);
    expect(runUntil(world, () => settled(world), 30_000)).toBe(true);
    putAll(world, 'n0', keys);
    const n0 = node(world, 'n0');

    // Each old member hands some partitions to the newcomer: listen on all of them.
    const handoffs: [string, HandoffStatus & { ok?: boolean; from: string }][] = [];
    for (const name of ['n0', 'n1', 'n2']) {
      const e = node(world, name).events;
      e.on('handoffStarted', (h) => handoffs.push(['started', { ...h, from: name }]));
      e.on('handoffProgressed', (h) => handoffs.push(['progressed', { ...h, from: name }]));
      e.on('handoffFinished', (h) => handoffs.push(['finished', { ...h, from: name }]));
    }
    const members: MemberChange[] = [];
    n0.events.on('memberChanged', (c) => members.push(c));
    let rings = 0;
    let ringsAgain = 0;
    n0.events.on('ringChanged', () => rings++);
    const offAgain = n0.events.on('ringChanged', () => ringsAgain++);

    world.addNode('n3', ['n1']);
    const n3 = node(world, 'n3');
    const stored = new Set<string>();
    let storedAgain = 0;
    n3.events.on('keyChanged', ({ key, partition }) => {
      expect(n3.placement(key).partition).toBe(partition);
      stored.add(key);
    });
    n3.events.on('keyChanged', () => storedAgain++);
    expect(
      runUntil(world, () => settled(world), 30_000),
      'the join did not settle',
    ).toBe(true);

    // Every handoff: started, then progressed with a growing count, then finished, once.
    expect(handoffs.length).toBeGreaterThan(0);
    const byId = new Map<string, [string, HandoffStatus & { ok?: boolean }][]>();
    for (const ev of handoffs) {
      const id = `${ev[1].from}:${ev[1].kind}:${ev[1].partition}:${ev[1].to.join(',')}`;
      byId.set(id, [...(byId.get(id) ?? []), ev]);
    }
    let okOwnership = 0;
    for (const [id, evs] of byId) {
      // A handoff of the same partition may run again after a failed attempt: split into runs.
      const runs: (typeof evs)[] = [];
      for (const ev of evs) {
        if (ev[0] === 'started') runs.push([ev]);
        else runs.at(-1)!.push(ev);
      }
      for (const run of runs) {
        const kinds = run.map(([k]) => k);
        expect(kinds[0], id).toBe('started');
        expect(kinds.at(-1), id).toBe('finished');
        expect(
          kinds.slice(1, -1).every((k) => k === 'progressed'),
          id,
        ).toBe(true);
        const sent = run.map(([, h]) => h.keysSent);
        expect(
          [...sent].sort((a, b) => a - b),
          id,
        ).toEqual(sent);
        const end = run.at(-1)![1];
        if (end.ok && end.kind === 'ownership') {
          okOwnership++;
          expect(end.keysSent, id).toBe(end.keysTotal);
          if (end.keysTotal > 0) expect(kinds, id).toContain('progressed');
        }
      }
    }
    expect(okOwnership).toBeGreaterThan(0);
    expect(n0.handoffs()).toEqual([]);

    // n3 appeared in n0's view, then became valid; both ringChanged listeners heard every change.
    const aboutN3 = members.filter((c) => c.member.name === 'n3');
    expect(aboutN3[0]?.before).toBeUndefined();
    expect(aboutN3.some((c) => c.before?.status === 'joining' && c.member.status === 'valid')).toBe(true);
    expect(rings).toBeGreaterThan(1);
    expect(ringsAgain).toBe(rings);
    offAgain();
    n0.leave();
    world.run(1_000);
    expect(rings).toBeGreaterThan(ringsAgain);

    // The keys n3 received were announced, to both of its listeners.
    expect(n3.keyCount()).toBeGreaterThan(0);
    expect(stored.size).toBe(n3.keyCount());
    expect(storedAgain).toBeGreaterThanOrEqual(stored.size);
  });

  it('a graceful leave emits left once, to every listener; one that throws does not keep it from the others', () => {
    const world = new SimWorld(7102, simRingConfig());
    world.addNode('n0', []);
    world.addNode('n1', ['n0']);
    world.addNode('n2', ['n0']);
    expect(runUntil(world, () => settled(world), 30_000)).toBe(true);
    putAll(world, 'n0', keys.slice(0, 50));
    const leaver = node(world, 'n2');
    const calls: string[] = [];
    leaver.events.on('left', () => calls.push(`first, ${leaver.keyCount()} keys`));
    leaver.events.on('left', () => {
      throw new Error('a broken listener');
    });
    leaver.events.once('left', () => calls.push('once'));
    leaver.leave();
    expect(
      runUntil(world, () => calls.length > 0, 30_000),
      'left never fired',
    ).toBe(true);
    world.run(5_000);
    expect(calls).toEqual(['first, 0 keys', 'once']);
  });

  it('the journal gets every change as it happens: a snapshot plus the journal rebuilds the node', () => {
    const world = new SimWorld(7103, simRingConfig());
    const journal: DurableChange[] = [];
    const n0 = standaloneNode(world, 'j0', { record: (c) => journal.push(c) });
    const base = [...n0.durableSnapshot()];
    n0.start();
    expect(runUntil(world, () => n0.ready(), 10_000)).toBe(true);
    let acked = 0;
    for (const key of keys.slice(0, 60)) n0.put(key, `v:${key}`, {}, (err) => err === null && acked++);
    for (const key of keys.slice(0, 10)) n0.delete(key, {}, (err) => err === null && acked++);
    n0.cas(
      'kv/events-cas',
      () => ({ next: 'set', result: true }),
      (err) => err === null && acked++,
    );
    expect(runUntil(world, () => acked === 71, 10_000)).toBe(true);
    expect(journal.some((c) => c.kind === 'ring')).toBe(true);
    expect(journal.some((c) => c.kind === 'cas')).toBe(true);
    expect(journal.filter((c) => c.kind === 'entry').length).toBeGreaterThanOrEqual(70);

    // The snapshot taken before start, then the journal, rebuild what the node holds now.
    const rebuilt = restore(world, [...base, ...journal]);
    expect(rebuilt.keys).toBe(n0.keyCount());
    const copy = standaloneNode(world, 'copy', undefined, rebuilt.durable);
    expect(copy.bootId).toBe(n0.bootId);
    expect(comparable(copy.durableSnapshot())).toEqual(comparable(n0.durableSnapshot()));
    // And a snapshot alone restores the same state again.
    const again = standaloneNode(world, 'again', undefined, restore(world, n0.durableSnapshot()).durable);
    expect(comparable(again.durableSnapshot())).toEqual(comparable(n0.durableSnapshot()));
  });
});

/** A RingNode outside the world's bookkeeping, on its network and scheduler, with a journal of our own. */
function standaloneNode(world: SimWorld, name: string, journal?: DurableJournal, durable?: DurableState): RingNode {
  return new RingNode({
    name,
    config: world.config,
    runtime: {
      clock: simClock(world.scheduler, 1_700_000_000_000),
      timers: world.scheduler.timersFor(name),
      random: world.random.fork(name),
      transport: world.net.transportFor(name),
      logger: silentLogger,
    },
    types: simTypes(),
    seeds: [],
    ...(journal ? { journal } : {}),
    ...(durable ? { durable } : {}),
  });
}

function restore(world: SimWorld, changes: Iterable<DurableChange>): { durable: DurableState; keys: number } {
  const { ringSize, antiEntropyBucketsPerPartition: bucketCount } = world.config;
  const now = world.now();
  return restoreDurableState(changes, { types: simTypes(), ringSize, bucketCount, now, newBootId: () => 'new' });
}

/**
 * A snapshot as a sorted list: without the store's sequence floor (a replay may number the
 * same entries higher), and in no particular order (a replay re-inserts each changed key).
 */
function comparable(changes: Iterable<DurableChange>): string[] {
  return [...changes].map((c) => JSON.stringify(c.kind === 'meta' ? { kind: 'meta', bootId: c.bootId } : c)).sort();
}

// ---------------------------------------------------------------- app messages and requests

const protocol = appProtocol({
  messages: {
    greet: appMessage<{ text: string }>(),
    'cache:drop': appMessage<string>(),
  },
  rpcs: {
    'math.double': appRpc<{ n: number }, { doubled: number }>(),
  },
});

describe('app messages and requests', () => {
  it('names each entry by its key in the table', () => {
    expect(protocol.messages.greet.name).toBe('greet');
    expect(protocol.messages['cache:drop'].name).toBe('cache:drop');
    expect(protocol.rpcs['math.double'].name).toBe('math.double');
    expect(() => appProtocol({ messages: { 'Bad Name': appMessage<string>() }, rpcs: {} })).toThrow(/must match/);
  });

  it('delivers typed messages and requests between members; a second handler for a name throws', () => {
    const world = new SimWorld(7105, simRingConfig());
    world.addNode('n0', []);
    world.addNode('n1', ['n0']);
    world.addNode('n2', ['n0']);
    expect(runUntil(world, () => settled(world), 30_000)).toBe(true);
    const [n0, n1, n2] = ['n0', 'n1', 'n2'].map((n) => node(world, n)) as [RingNode, RingNode, RingNode];

    const heard: string[] = [];
    n1.app.on(protocol.messages.greet, (from, body) => heard.push(`n1 from ${from}: ${body.text}`));
    n2.app.on(protocol.messages.greet, (from, body) => heard.push(`n2 from ${from}: ${body.text}`));
    expect(() => n1.app.on(protocol.messages.greet, () => {})).toThrow(/already has a handler/);
    n1.app.serve(protocol.rpcs['math.double'], (_from, body, reply, refuse) => {
      if (body.n < 0) refuse('only natural numbers');
      else reply({ doubled: body.n * 2 });
    });
    expect(() => n1.app.serve(protocol.rpcs['math.double'], (_f, _b, reply) => reply({ doubled: 0 }))).toThrow(
      /already has a handler/,
    );

    n0.app.send('n1', protocol.messages.greet, { text: 'hello' });
    n0.app.broadcast(protocol.messages.greet, { text: 'everyone' });
    const answers: unknown[] = [];
    n0.app.call('n1', protocol.rpcs['math.double'], { n: 21 }, 1_000, (err, res) => answers.push(err ?? res));
    n0.app.call('n1', protocol.rpcs['math.double'], { n: -1 }, 1_000, (err, res) => answers.push(err ?? res));
    world.run(2_000);
    expect(heard.sort()).toEqual(['n1 from n0: everyone', 'n1 from n0: hello', 'n2 from n0: everyone']);
    expect(answers).toEqual([{ doubled: 42 }, { kind: 'unavailable', message: 'only natural numbers' }]);
  });
});
