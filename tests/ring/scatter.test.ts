// Tests for ring/node/scatter (and the RPC layer's local dispatch it relies on), with the real
// Rpc over the simulator's scheduler and network: settles once, when `need` replies were
// accepted or can no longer be; counts failures; meets its deadline; dispatches calls to
// this node in later turns, never re-entrantly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rpc, type RpcHandler } from '../../ring/node/rpc';
import { scatter, type Gathered, type ScatterOptions } from '../../ring/node/scatter';
import { silentLogger, type Runtime } from '../../ring/runtime';
import { simClock } from '../../ring/sim/clock';
import { SimNetwork, type NetworkFaults } from '../../ring/sim/network';
import { SimRandom } from '../../ring/sim/prng';
import { SimScheduler } from '../../ring/sim/scheduler';

const RUNS = { numRuns: 60 };

interface Peer {
  name: string;
  rt: Runtime;
  rpc: Rpc;
}

/** Nodes wired as ring/sim/world.ts boots one: per-node timers and random streams, one network. */
function simWorld(seed: number, names: readonly string[], faults: Partial<NetworkFaults> = {}, inFlightMax = 64) {
  const sched = new SimScheduler();
  const root = new SimRandom(seed);
  const net = new SimNetwork(sched, { random: root.fork('network'), faults, cloneMessages: true });
  const peers = new Map<string, Peer>();
  for (const name of names) {
    const rt: Runtime = {
      clock: simClock(sched, 1_700_000_000_000),
      timers: sched.timersFor(`${name}#0`),
      random: root.fork(`${name}#0`),
      transport: net.transportFor(name),
      logger: silentLogger,
    };
    const rpc = new Rpc(rt, inFlightMax, name);
    rt.transport.onMessage((from, m) => {
      rpc.handle(from, m);
    });
    peers.set(name, { name, rt, rpc });
  }
  const peer = (name: string) => peers.get(name)!;
  const crash = (name: string) => {
    sched.timersFor(`${name}#0`).cancelAll();
    net.crash(name);
  };
  return { sched, net, peer, crash };
}

/** Every call of settled and allAnswered, with the virtual time and a copy of what was gathered. */
function recorder(now: () => number) {
  type Seen = { at: number; met: boolean; accepted: string[]; answers: number; outstanding: number };
  const settled: Seen[] = [];
  const allAnswered: Seen[] = [];
  const copy = (g: Gathered): Seen => {
    const accepted = [...g.accepted.keys()];
    return { at: now(), met: g.met, accepted, answers: g.answers.length, outstanding: g.outstanding };
  };
  const callbacks: Pick<ScatterOptions, 'settled' | 'allAnswered'> = {
    settled: (g) => settled.push(copy(g)),
    allAnswered: (g) => {
      expect(settled).toHaveLength(1);
      allAnswered.push(copy(g));
    },
  };
  return { settled, allAnswered, callbacks };
}

const echo: RpcHandler = (from, body, reply) => reply({ from, body });
/** Answers after `ms` of the answering node's own time. */
const slowEcho =
  (peer: Peer, ms: number): RpcHandler =>
  (from, body, reply) =>
    peer.rt.timers.setTimeout(() => reply({ from, body }), ms);

describe('Rpc: a call to the node itself', () => {
  it('runs the handler in a later turn, and answers only once the handler returned, as a remote call would', () => {
    const w = simWorld(1, ['a']);
    const a = w.peer('a');
    const log: string[] = [];
    a.rpc.on('echo', (from, body, reply) => {
      log.push(`handler from ${from} at ${w.sched.now()}`);
      reply(body);
      log.push('handler returned');
    });
    a.rpc.on('later', (_from, body, reply) => {
      a.rt.timers.setTimeout(() => {
        reply(body);
        log.push('late reply returned');
      }, 50);
    });
    const done = (err: unknown, body: unknown) => log.push(`done ${String(err)} ${String(body)} at ${w.sched.now()}`);
    w.sched.at(10, () => {
      a.rpc.call('a', 'echo', 'x', 1000, done);
      log.push('call returned');
    });
    w.sched.at(100, () => a.rpc.call('a', 'later', 'y', 1000, done));
    w.sched.runUntilIdle();
    expect(log).toEqual([
      'call returned',
      'handler from a at 11',
      'handler returned',
      'done null x at 11',
      'late reply returned',
      'done null y at 152',
    ]);
    expect(a.rpc.inFlight()).toBe(0);
    expect(w.net.stats.sent).toBe(0);
    expect(w.sched.timersFor('a#0').pending()).toBe(0);
  });

  it('answers unknown methods and refusals as the network path does; times out a handler that never answers', () => {
    const w = simWorld(1, ['a']);
    const a = w.peer('a');
    a.rpc.on('no', (_from, _body, _reply, refuse) => refuse('not today'));
    a.rpc.on('never', () => {});
    const got: string[] = [];
    a.rpc.call('a', 'missing', null, 1000, (err) => got.push(`${err?.kind} ${err?.detail}`));
    a.rpc.call('a', 'no', null, 1000, (err) => got.push(`${err?.kind} ${err?.detail}`));
    a.rpc.call('a', 'never', null, 300, (err) => got.push(`${err?.kind} at ${w.sched.now()}`));
    w.sched.runUntilIdle();
    expect(got).toEqual(['unknown-method missing', 'refused not today', 'timeout at 300']);
  });

  it('failAll fails a local call in flight, and its handler never runs afterwards', () => {
    const w = simWorld(1, ['a']);
    const a = w.peer('a');
    let runs = 0;
    a.rpc.on('echo', (_from, body, reply) => {
      runs++;
      reply(body);
    });
    const got: string[] = [];
    a.rpc.call('a', 'echo', 1, 1000, (err) => got.push(err?.kind ?? 'ok'));
    a.rpc.failAll('node stopped');
    w.sched.runUntilIdle();
    expect(got).toEqual(['refused']);
    expect(runs).toBe(0);
  });
});

describe('scatter', () => {
  it('settles once, as soon as `need` replies arrived, then reports every answer once all are in', () => {
    const w = simWorld(1, ['a', 'b', 'c'], { minDelayMs: 1, maxDelayMs: 1 });
    const [a, b, c] = [w.peer('a'), w.peer('b'), w.peer('c')];
    a.rpc.on('echo', echo);
    b.rpc.on('echo', echo);
    c.rpc.on('echo', slowEcho(c, 500));
    const r = recorder(() => w.sched.now());
    scatter(a.rpc, ['a', 'b', 'c'], 'echo', 'q', { need: 2, timeoutMs: 1000, ...r.callbacks });
    expect(r.settled).toHaveLength(0);
    w.sched.runUntilIdle();
    expect(r.settled).toEqual([{ at: 2, met: true, accepted: ['a', 'b'], answers: 2, outstanding: 1 }]);
    expect(r.allAnswered).toEqual([{ at: 502, met: true, accepted: ['a', 'b', 'c'], answers: 3, outstanding: 0 }]);
  });

  it('counts failures: settles not met as soon as too few targets are left, without waiting for the rest', () => {
    const w = simWorld(1, ['a', 'b', 'c', 'd'], { minDelayMs: 1, maxDelayMs: 1 });
    const [a, b, c, d] = [w.peer('a'), w.peer('b'), w.peer('c'), w.peer('d')];
    b.rpc.on('echo', (_from, _body, _reply, refuse) => refuse('no'));
    c.rpc.on('echo', (_from, _body, _reply, refuse) => refuse('no'));
    d.rpc.on('echo', slowEcho(d, 200));
    const answers: string[] = [];
    const r = recorder(() => w.sched.now());
    scatter(a.rpc, ['b', 'c', 'd'], 'echo', 'q', {
      need: 2,
      timeoutMs: 1000,
      onAnswer: (x) => answers.push(`${x.node} ${x.error ? x.error.kind : 'reply'}`),
      ...r.callbacks,
    });
    w.sched.runUntilIdle();
    expect(r.settled).toEqual([{ at: 2, met: false, accepted: [], answers: 2, outstanding: 1 }]);
    expect(r.allAnswered).toEqual([{ at: 202, met: false, accepted: ['d'], answers: 3, outstanding: 0 }]);
    expect(answers).toEqual(['b refused', 'c refused', 'd reply']);
  });

  it('meets its deadline: targets that never answer fail as timeouts exactly timeoutMs after the scatter', () => {
    const w = simWorld(1, ['a', 'b', 'c']);
    const [a, b] = [w.peer('a'), w.peer('b')];
    a.rpc.on('echo', echo);
    b.rpc.on('echo', echo);
    w.crash('b');
    w.crash('c');
    const r = recorder(() => w.sched.now());
    let failed: string[] = [];
    w.sched.at(100, () =>
      scatter(a.rpc, ['a', 'b', 'c'], 'echo', 'q', {
        need: 2,
        timeoutMs: 750,
        ...r.callbacks,
        allAnswered: (g) => {
          failed = g.answers.filter((x) => x.error?.kind === 'timeout').map((x) => x.node);
          r.callbacks.allAnswered!(g);
        },
      }),
    );
    w.sched.runUntilIdle();
    expect(r.settled).toEqual([{ at: 850, met: false, accepted: ['a'], answers: 3, outstanding: 0 }]);
    expect(r.allAnswered.map((x) => x.at)).toEqual([850]);
    expect(failed.sort()).toEqual(['b', 'c']);
    expect(w.sched.timersFor('a#0').pending()).toBe(0);
  });

  it('counts only accepted replies toward need; the others are in answers with their bodies', () => {
    const w = simWorld(1, ['a', 'b', 'c'], { minDelayMs: 1, maxDelayMs: 1 });
    for (const name of ['a', 'b', 'c']) {
      w.peer(name).rpc.on('vote', (_from, _body, reply) => reply({ ok: name !== 'c', by: name }));
    }
    const r = recorder(() => w.sched.now());
    let rejected: unknown[] = [];
    scatter(w.peer('a').rpc, ['a', 'b', 'c'], 'vote', null, {
      need: 3,
      timeoutMs: 1000,
      accept: (body) => (body as { ok: boolean }).ok,
      ...r.callbacks,
      settled: (g) => {
        rejected = g.answers.filter((x) => !x.accepted).map((x) => x.body);
        r.callbacks.settled!(g);
      },
    });
    w.sched.runUntilIdle();
    expect(r.settled).toHaveLength(1);
    expect(r.settled[0]).toMatchObject({ at: 2, met: false, outstanding: 0 });
    expect(r.settled[0]!.accepted.sort()).toEqual(['a', 'b']);
    expect(rejected).toEqual([{ ok: false, by: 'c' }]);
  });

  it('sends each target its own body with bodyFor, itself included, in later turns', () => {
    const w = simWorld(1, ['a', 'b'], { minDelayMs: 1, maxDelayMs: 1 });
    for (const name of ['a', 'b']) w.peer(name).rpc.on('echo', echo);
    let bodies: unknown[] = [];
    scatter(w.peer('a').rpc, ['a', 'b'], 'echo', undefined, {
      timeoutMs: 1000,
      bodyFor: (node) => `for ${node}`,
      allAnswered: (g) => (bodies = [...g.accepted.values()]),
    });
    expect(bodies).toEqual([]);
    w.sched.runUntilIdle();
    expect(bodies).toEqual([
      { from: 'a', body: 'for a' },
      { from: 'a', body: 'for b' },
    ]);
  });

  it('with no targets or need 0, settles at once; with calls refused as too many in flight, after all went out', () => {
    const w = simWorld(1, ['a', 'b', 'c'], { minDelayMs: 1, maxDelayMs: 1 }, 1);
    for (const name of ['a', 'b', 'c']) w.peer(name).rpc.on('echo', echo);
    const none = recorder(() => w.sched.now());
    scatter(w.peer('a').rpc, [], 'echo', null, { timeoutMs: 1000, ...none.callbacks });
    expect(none.settled).toEqual([{ at: 0, met: true, accepted: [], answers: 0, outstanding: 0 }]);
    expect(none.allAnswered).toHaveLength(1);
    const zero = recorder(() => w.sched.now());
    scatter(w.peer('b').rpc, ['a'], 'echo', null, { need: 0, timeoutMs: 1000, ...zero.callbacks });
    expect(zero.settled).toEqual([{ at: 0, met: true, accepted: [], answers: 0, outstanding: 1 }]);
    // In-flight bound 1: the call to b goes out, the call to c is refused at once.
    const bounded = recorder(() => w.sched.now());
    scatter(w.peer('a').rpc, ['b', 'c'], 'echo', null, { need: 1, timeoutMs: 1000, ...bounded.callbacks });
    expect(bounded.settled).toEqual([]);
    const all = recorder(() => w.sched.now());
    scatter(w.peer('c').rpc, ['a', 'b', 'c'], 'echo', null, { timeoutMs: 1000, ...all.callbacks });
    expect(all.settled).toEqual([{ at: 0, met: false, accepted: [], answers: 2, outstanding: 1 }]);
    w.sched.runUntilIdle();
    expect(bounded.settled).toEqual([{ at: 2, met: true, accepted: ['b'], answers: 2, outstanding: 0 }]);
    expect(zero.allAnswered).toHaveLength(1);
    expect(all.allAnswered).toHaveLength(1);
  });

  it('under loss, duplication, reordering, crashes: settled, then allAnswered, each once, by the deadline', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.boolean(),
        fc.subarray(['a', 'b', 'c', 'd', 'e'], { minLength: 0 }),
        fc.subarray(['b', 'c', 'd', 'e']),
        fc.integer({ min: 0, max: 6 }),
        (seed, dropRate, duplicateRate, reorder, targets, crashed, need) => {
          const names = ['a', 'b', 'c', 'd', 'e'];
          const w = simWorld(seed, names, { dropRate, duplicateRate, reorder, minDelayMs: 1, maxDelayMs: 40 });
          for (const name of names) w.peer(name).rpc.on('echo', echo);
          for (const name of crashed) w.crash(name);
          const timeoutMs = 500;
          const r = recorder(() => w.sched.now());
          let final: Gathered | undefined;
          scatter(w.peer('a').rpc, targets, 'echo', null, {
            need,
            timeoutMs,
            ...r.callbacks,
            allAnswered: (g) => {
              final = g;
              r.callbacks.allAnswered!(g);
            },
          });
          w.sched.runUntilIdle();
          expect(r.settled).toHaveLength(1);
          expect(r.allAnswered).toHaveLength(1);
          expect(r.allAnswered[0]!.at).toBeLessThanOrEqual(timeoutMs);
          expect(r.settled[0]!.at).toBeLessThanOrEqual(r.allAnswered[0]!.at);
          expect(r.settled[0]!.met).toBe(r.settled[0]!.accepted.length >= need);
          expect(final!.met).toBe(final!.accepted.size >= need);
          expect(final!.answers.map((x) => x.node).sort()).toEqual([...targets].sort());
          // Crashed nodes never answer; this node always does.
          for (const x of final!.answers) if (crashed.includes(x.node)) expect(x.error?.kind).toBe('timeout');
          if (targets.includes('a')) expect(final!.accepted.has('a')).toBe(true);
        },
      ),
      RUNS,
    );
  });
});
