// Cluster lifecycle over real node processes on 127.0.0.1 (dist/server.mjs): joins with data,
// graceful leave, kill -9 under writes, whole-cluster restart from DATA_DIR, a partition
// through the transport's fault hook, a wrong CLUSTER_SECRET, and bad configuration.
// Timings (join-to-ready, failure detection, restart-to-ready) are printed with console.log.
import { describe, expect, it } from 'vitest';
import {
  admin,
  cluster,
  type ClusterView,
  ctr,
  expectReadable,
  get,
  type Harness,
  kill,
  kv,
  metric,
  ownership,
  pool,
  ready,
  type RingProcess,
  SECRET_B,
  sleep,
  TEST_RING_SIZE,
  waitExit,
  waitFor,
  waitReady,
  waitSettled,
} from '../../testkit';
import { useHarness } from '../../testkit/vitest';

let h!: Harness;
useHarness((x) => (h = x), { build: true });

const ms = (x: number) => `${Math.round(x)} ms`;

/** Write `count` keys (prefix-i -> a string value) through the given nodes in turn; every write must succeed. */
async function writeKeys(nodes: readonly RingProcess[], prefix: string, count: number): Promise<Map<string, string>> {
  const expected = new Map<string, string>();
  const keys = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await pool(keys, 8, async (key, i) => {
    const value = `value-of-${key}-${(i * 7919) % 1000}`;
    const node = nodes[i % nodes.length]!;
    // A key is written once; a 503 right after a ring change is retried (a fresh PUT of the same key
    // is harmless only when the first did not apply, so retry only on the statuses that say so).
    const r = await waitFor(
      async () => {
        const w = await kv.put(node, key, value);
        if (w.status === 200) return w;
        if (w.status === 503 && /unavailable|stopped/.test(JSON.stringify(w.body))) return undefined;
        throw new Error(`PUT ${key} via ${node.name}: ${w.status} ${JSON.stringify(w.body)}`);
      },
      { timeoutMs: 10_000, intervalMs: 200, what: `PUT ${key}` },
    );
    expect(r.status).toBe(200);
    expected.set(key, value);
  });
  return expected;
}

/** Every member owns floor(Q/n) or ceil(Q/n) partitions (the views agree on owners: waitSettled checked). */
function expectBalanced(names: readonly string[], views: readonly ClusterView[]): void {
  const counts = ownership(views[0]!);
  const lo = Math.floor(TEST_RING_SIZE / names.length);
  const hi = Math.ceil(TEST_RING_SIZE / names.length);
  for (const n of names) {
    const c = counts.get(n) ?? 0;
    expect(
      c,
      `${n} owns ${c} of ${TEST_RING_SIZE} partitions (want ${lo}..${hi}); all: ${JSON.stringify([...counts])}`,
    ).toBeGreaterThanOrEqual(lo);
    expect(c).toBeLessThanOrEqual(hi);
  }
}

/** Start n nodes (the first founds the cluster, the others seed from it) and wait until settled. */
function startCluster(
  n: number,
  opts: { dataDir?: boolean; env?: Record<string, string> } = {},
): Promise<RingProcess[]> {
  const names = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  return h.startCluster(names, { ...opts, readyTimeoutMs: 30_000, settleTimeoutMs: 40_000 });
}

describe.sequential('cluster lifecycle (real processes)', () => {
  it('a. joins 1 -> 3 -> 4 with data loaded: every key readable everywhere, ownership balanced', async () => {
    // With N_VAL=3 and the default W=2 a one-node cluster cannot acknowledge a write ("only 1
    // replicas reachable, W=2"), so this scenario runs with W=1; reads keep R=2.
    const env = { W: '1' };
    const n1 = await h.startNode({ name: 'n1', env });
    const founderReady = await waitReady(n1, 20_000);
    console.log(`[a] founder n1 start-to-ready: ${ms(founderReady)}`);
    const expected = await writeKeys([n1], 'a', 200);

    const n2 = await h.startNode({ name: 'n2', seeds: [n1], env });
    const n3 = await h.startNode({ name: 'n3', seeds: [n1], env });
    const joinTimes = await Promise.all([waitReady(n2, 30_000), waitReady(n3, 30_000)]);
    console.log(`[a] join-to-ready (process start -> /readyz 200): n2 ${ms(joinTimes[0])}, n3 ${ms(joinTimes[1])}`);
    const t3 = performance.now();
    const views3 = await waitSettled([n1, n2, n3], 45_000);
    console.log(`[a] 3-node ring settled (no partition with next) ${ms(performance.now() - t3)} after both were ready`);
    expectBalanced(['n1', 'n2', 'n3'], views3);

    const n4 = await h.startNode({ name: 'n4', seeds: [n1], env });
    const join4 = await waitReady(n4, 30_000);
    console.log(`[a] join-to-ready: n4 ${ms(join4)}`);
    const t4 = performance.now();
    const nodes = [n1, n2, n3, n4];
    const views4 = await waitSettled(nodes, 45_000);
    console.log(
      `[a] 4-node ring settled ${ms(performance.now() - t4)} after n4 was ready; owners ${JSON.stringify([...ownership(views4[0]!)])}`,
    );
    expectBalanced(['n1', 'n2', 'n3', 'n4'], views4);

    const check = await expectReadable(nodes, expected, 20_000);
    console.log(
      `[a] ${expected.size} keys x 4 nodes readable; first-pass misses ${check.firstPassMisses}, all good after ${ms(check.ms)}`,
    );
    expect(check.firstPassMisses, 'reads that missed right after the ring settled').toBe(0);
  }, 150_000);

  it('b. graceful leave (SIGTERM with LEAVE_ON_SIGTERM=1): exits 0, members drop it, every key still readable', async () => {
    const nodes = await startCluster(4, { env: { LEAVE_ON_SIGTERM: '1' } });
    const expected = await writeKeys(nodes, 'b', 200);
    const leaver = nodes[3]!;
    const remaining = nodes.slice(0, 3);
    const t0 = performance.now();
    kill(leaver, 'SIGTERM');
    const code = await waitExit(leaver, 40_000);
    console.log(`[b] ${leaver.name} left and exited ${code} after ${ms(performance.now() - t0)}`);
    expect(code).toBe(0);

    // Every remaining member shows it gone (exiting, or absent), owning nothing, and sees the
    // others valid and alive.
    const exitedAt = performance.now();
    await waitFor(
      async () => {
        for (const n of remaining) {
          const v = await cluster(n);
          const m = v.members.find((x) => x.name === leaver.name);
          if (m && m.status !== 'exiting')
            throw new Error(`${n.name} sees ${leaver.name} as ${m.status}/${m.liveness}`);
          if (v.ring.partitions.some((p) => p.owner === leaver.name || p.next === leaver.name))
            throw new Error(`${n.name} still assigns partitions to ${leaver.name}`);
          const others = v.members.filter((x) => x.name !== leaver.name);
          if (others.some((x) => x.status !== 'valid' || x.liveness !== 'alive'))
            throw new Error(`${n.name} sees ${JSON.stringify(others)}`);
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `${leaver.name} exiting or absent in every remaining view` },
    );
    console.log(
      `[b] every remaining member shows ${leaver.name} gone ${ms(performance.now() - exitedAt)} after it exited`,
    );
    const check = await expectReadable(remaining, expected, 20_000);
    console.log(`[b] ${expected.size} keys x 3 remaining nodes readable; first-pass misses ${check.firstPassMisses}`);
  }, 150_000);

  it('c. kill -9 under writes, restart from DATA_DIR: every acknowledged write survives', async () => {
    const nodes = await startCluster(3, { dataDir: true });
    const victimIndex = 1;
    let current = [...nodes];
    const up = new Set(nodes.map((n) => n.name));
    const acked = new Map<string, string>();
    let attempted = 0;
    let failed = 0;
    let seq = 0;
    const loopMs = 5000;
    const t0 = performance.now();

    const writer = async () => {
      while (performance.now() - t0 < loopMs) {
        const candidates = current.filter((n) => up.has(n.name));
        const node = candidates[Math.floor(Math.random() * candidates.length)]!;
        const key = `c-${seq++}`;
        const value = `v-${key}-${node.name}`;
        attempted++;
        try {
          const r = await kv.put(node, key, value, undefined, 3000);
          if (r.status === 200) acked.set(key, value);
          else failed++;
        } catch {
          failed++;
        }
      }
    };

    const chaos = async () => {
      await sleep(2000);
      const victim = current[victimIndex]!;
      up.delete(victim.name);
      const killedAt = performance.now();
      let restarted = false;
      kill(victim, 'SIGKILL');
      const observer = current[0]!;
      const liveness = async () =>
        (await cluster(observer, 1000)).members.find((x) => x.name === victim.name)?.liveness;
      const detect = (async () => {
        const first = await waitFor(
          async () => {
            const l = await liveness();
            return l && l !== 'alive' ? l : undefined;
          },
          {
            timeoutMs: 15_000,
            intervalMs: 25,
            what: `${observer.name} noticing ${victim.name} is down`,
          },
        );
        const t = performance.now() - killedAt;
        // Also when it is declared dead (suspicion timed out), unless it is back first.
        const dead = await waitFor(
          async () => ((await liveness()) === 'dead' ? 'dead' : restarted ? 'restarted' : undefined),
          {
            timeoutMs: 15_000,
            intervalMs: 25,
            what: `${observer.name} declaring ${victim.name} dead`,
          },
        );
        const deadNote =
          dead === 'dead' ? `dead after ${ms(performance.now() - killedAt)}` : 'restarted before it was declared dead';
        console.log(
          `[c] failure detection: ${observer.name} saw ${victim.name} ${first} ${ms(t)} after SIGKILL; ${deadNote}`,
        );
        return t;
      })();
      expect(await waitExit(victim, 5000)).toBeNull();
      await sleep(Math.max(0, killedAt + 2000 - performance.now()));
      restarted = true;
      const again = await h.restart(victim);
      current = current.map((n) => (n.name === victim.name ? again : n));
      const back = await waitReady(again, 30_000);
      console.log(`[c] ${victim.name} restarted with its DATA_DIR: start-to-ready ${ms(back)}`);
      up.add(victim.name);
      return detect;
    };

    const [detectMs] = await Promise.all([chaos(), writer(), writer(), writer()]);
    console.log(`[c] writer: ${attempted} PUTs, ${acked.size} acknowledged, ${failed} failed or timed out`);
    expect(detectMs).toBeLessThan(15_000);
    expect(acked.size).toBeGreaterThan(50);

    await waitSettled(current, 30_000);
    const check = await expectReadable(current, acked, 30_000);
    console.log(
      `[c] ${acked.size} acknowledged keys x 3 nodes readable; first-pass misses ${check.firstPassMisses}, all good after ${ms(check.ms)}`,
    );
  }, 150_000);

  it('d. whole-cluster kill -9 and restart from DATA_DIR: acknowledged keys, deletes and exact counters', async () => {
    const nodes = await startCluster(3, { dataDir: true });
    const expected = await writeKeys(nodes, 'd', 300);
    // Delete a few (with the context a read returned) so the restart must also keep tombstones.
    const deleted: string[] = [];
    for (let i = 0; i < 20; i++) {
      const key = `d-${i * 15}`;
      const r = await kv.get(nodes[i % 3]!, key);
      expect(r.status, `GET ${key}`).toBe(200);
      const d = await kv.del(nodes[(i + 1) % 3]!, key, r.context!);
      expect(d.status, `DELETE ${key}: ${JSON.stringify(d.body)}`).toBe(200);
      expected.delete(key);
      deleted.push(key);
    }
    const totals = new Map<string, number>();
    for (let i = 0; i < 50; i++) {
      const key = `d-ctr-${i % 5}`;
      const by = 1 + (i % 4);
      const status = await ctr.incr(nodes[i % 3]!, key, by);
      expect(status).toBe(202);
      totals.set(key, (totals.get(key) ?? 0) + by);
    }
    await sleep(1000); // counter deltas ship every 100 ms; the record log is written through

    for (const n of nodes) kill(n, 'SIGKILL');
    for (const n of nodes) expect(await waitExit(n, 5000)).toBeNull();

    const t0 = performance.now();
    const again = await Promise.all(nodes.map((n) => h.restart(n)));
    await Promise.all(again.map((n) => waitReady(n, 30_000)));
    const allReady = performance.now() - t0;
    console.log(
      `[d] whole-cluster restart-to-ready (first spawn -> all /readyz 200): ${ms(allReady)}; per node ${again.map((n) => `${n.name} ${ms(n.readyAt! - n.startedAt)}`).join(', ')}`,
    );
    await waitSettled(again, 30_000);
    console.log(`[d] settled ${ms(performance.now() - t0)} after the restart began`);

    const check = await expectReadable(again, expected, 20_000);
    console.log(`[d] ${expected.size} keys x 3 nodes readable; first-pass misses ${check.firstPassMisses}`);
    for (const n of again) {
      for (const key of deleted) expect((await kv.get(n, key)).status, `deleted ${key} via ${n.name}`).toBe(404);
    }
    for (const n of again) {
      for (const [key, total] of totals) {
        const got = await waitFor(() => ctr.total(n, key), {
          timeoutMs: 10_000,
          intervalMs: 200,
          what: `counter ${key} via ${n.name}`,
        });
        expect(got, `counter ${key} via ${n.name}`).toBe(total);
      }
    }
  }, 150_000);

  it('e. partition through the transport hook: majority writes, minority catches up after healing', async () => {
    const [n1, n2, n3] = (await startCluster(3)) as [RingProcess, RingProcess, RingProcess];
    const block = async (node: RingProcess, names: string[]) => {
      const r = await admin(node, 'POST', 'faults', { block: names });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    };
    await block(n2, ['n1']);
    await block(n3, ['n1']);
    await block(n1, ['n2', 'n3']);

    // Wait (bounded) until the partition is established on both sides: the majority has
    // declared n1 dead and n1 has declared both others dead; then write through n2.
    const blockedAt = performance.now();
    const livenessOf = async (viewer: RingProcess, name: string) =>
      (await cluster(viewer)).members.find((m) => m.name === name)?.liveness;
    await waitFor(async () => (await livenessOf(n2, 'n1')) === 'dead' && (await livenessOf(n3, 'n1')) === 'dead', {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'n2 and n3 declaring n1 dead',
    });
    await waitFor(async () => (await livenessOf(n1, 'n2')) === 'dead' && (await livenessOf(n1, 'n3')) === 'dead', {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'n1 declaring n2 and n3 dead',
    });
    console.log(`[e] partition established on both sides ${ms(performance.now() - blockedAt)} after blocking`);
    const written = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const key = `e-${i}`;
      const value = `partitioned-${i}`;
      const r = await kv.put(n2, key, value);
      expect(r.status, `PUT ${key} via n2 during the partition: ${JSON.stringify(r.body)}`).toBe(200);
      written.set(key, value);
    }
    // The minority cannot serve those keys meanwhile: it sees no quorum (R=2 of 1 reachable).
    const during = await kv.get(n1, 'e-0');
    expect(during.status, JSON.stringify(during.body)).toBe(503);

    const healedAt = performance.now();
    await block(n1, []);
    await block(n2, []);
    await block(n3, []);
    const check = await expectReadable([n1], written, 20_000);
    console.log(`[e] keys written on the majority side readable through n1 ${ms(check.ms)} after healing`);
    await waitFor(
      async () => {
        const v = await cluster(n1);
        return v.members.length === 3 && v.members.every((m) => m.status === 'valid' && m.liveness === 'alive');
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'n1 seeing everyone alive again' },
    );
    console.log(`[e] n1 sees everyone alive ${ms(performance.now() - healedAt)} after healing`);
    await expectReadable([n1, n2, n3], written, 20_000);
  }, 150_000);

  it('h. SIGINT ships every counted increment first; a node that left (SIGTERM, LEAVE_ON_SIGTERM=1) and is restarted with its DATA_DIR joins again', async () => {
    const nodes = await startCluster(3);
    const n4 = await h.startNode({ name: 'n4', seeds: [nodes[0]!], dataDir: true, env: { LEAVE_ON_SIGTERM: '1' } });
    await waitReady(n4, 30_000);
    await waitSettled([...nodes, n4], 40_000);

    // Increments are acknowledged (202) once counted in n4's memory; SIGINT right after the
    // last one must still ship them all before the process exits.
    const key = 'g-ctr';
    const statuses = await pool(
      Array.from({ length: 300 }, (_, i) => i),
      16,
      () => ctr.incr(n4, key),
    );
    expect(statuses.every((s) => s === 202)).toBe(true);
    kill(n4, 'SIGINT');
    expect(await waitExit(n4, 10_000)).toBe(0);
    const total = await waitFor(() => ctr.total(nodes[0]!, key), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: `${key} via n1`,
    });
    expect(total).toBe(300);

    // Back from its DATA_DIR, then a graceful leave, then a restart: it must join again, not exit.
    const again = await h.restart(n4);
    await waitReady(again, 30_000);
    await waitSettled([...nodes, again], 40_000);
    kill(again, 'SIGTERM');
    expect(await waitExit(again, 40_000)).toBe(0);
    const rejoined = await h.restart(again);
    await waitReady(rejoined, 30_000);
    const views = await waitSettled([...nodes, rejoined], 60_000);
    for (const v of views) expect(v.members.find((m) => m.name === 'n4')?.status).toBe('valid');
    expect(rejoined.alive).toBe(true);
    expect(await ctr.total(rejoined, key)).toBe(300);
  }, 200_000);

  it('i. SIGTERM is a restart, not a departure: exits 0, stays a member, and back from its DATA_DIR it owns what it owned (no partition moves)', async () => {
    const nodes = await startCluster(3, { dataDir: true });
    const expected = await writeKeys(nodes, 'i', 150);
    const owners = async (n: RingProcess) =>
      (await cluster(n)).ring.partitions.map((p) => `${p.owner}>${p.next ?? ''}`);
    const before = await owners(nodes[0]!);
    const n3 = nodes[2]!;
    kill(n3, 'SIGTERM');
    expect(await waitExit(n3, 40_000)).toBe(0);
    // While it is down: still a valid member on the others, and nothing moved to them.
    for (const n of nodes.slice(0, 2)) {
      const view = await cluster(n);
      expect(view.members.find((m) => m.name === n3.name)?.status).toBe('valid');
      expect(await owners(n)).toEqual(before);
    }
    const back = await h.restart(n3);
    await waitReady(back, 30_000);
    const views = await waitSettled([nodes[0]!, nodes[1]!, back], 40_000);
    for (const v of views) expect(v.ring.partitions.map((p) => `${p.owner}>${p.next ?? ''}`)).toEqual(before);
    await expectReadable([nodes[0]!, nodes[1]!, back], expected, 20_000);
  }, 150_000);

  it('f. a peer with the wrong CLUSTER_SECRET is refused', async () => {
    const [n1, n2] = (await startCluster(2)) as [RingProcess, RingProcess];
    const intruder = await h.startNode({ name: 'n3', seeds: [n1, n2], secret: SECRET_B });
    const until = performance.now() + 6000;
    while (performance.now() < until) {
      expect(await ready(intruder), 'n3 (wrong secret) must never become ready').toBe(false);
      for (const n of [n1, n2]) {
        const v = await cluster(n);
        expect(
          v.members.map((m) => m.name),
          `${n.name}'s members`,
        ).not.toContain('n3');
      }
      await sleep(250);
    }
    for (const n of [n1, n2]) {
      const refused = await waitFor(
        async () => ((await metric(n, 'ringlink_transport_refused_handshakes_total')) ?? 0) || undefined,
        {
          timeoutMs: 10_000,
          intervalMs: 250,
          what: `${n.name} counting a refused handshake`,
        },
      );
      console.log(`[f] ${n.name} ringlink_transport_refused_handshakes_total = ${refused}`);
      expect(refused).toBeGreaterThan(0);
    }
    expect((await get(intruder, '/readyz')).status).toBe(503);
    expect(intruder.alive).toBe(true);
  }, 90_000);

  describe('g. bad config exits 1 with one line naming the variable', () => {
    const cases: [string, Record<string, string | undefined>, string][] = [
      ['PORT=abc', { PORT: 'abc' }, 'PORT'],
      ['RING_SIZE=100', { RING_SIZE: '100' }, 'RING_SIZE'],
      ['R=5 with N_VAL=3', { R: '5', N_VAL: '3' }, 'R'],
      [
        'NODE_ENV=production without CLUSTER_SECRET',
        { NODE_ENV: 'production', CLUSTER_SECRET: undefined },
        'CLUSTER_SECRET',
      ],
    ];
    for (const [label, env, variable] of cases) {
      it(
        label,
        async () => {
          const node = await h.spawnNode({ name: 'bad', env });
          const code = await waitExit(node, 10_000);
          const stderr = node.stderr.text();
          const lines = stderr.split('\n').filter((l) => l.length > 0);
          console.log(`[g] ${label}: exit ${code}, stderr ${JSON.stringify(stderr)}`);
          expect(code).toBe(1);
          expect(lines, `stderr: ${JSON.stringify(stderr)}`).toHaveLength(1);
          expect(stderr.endsWith('\n')).toBe(true);
          expect(lines[0]).toMatch(new RegExp(`\\b${variable}\\b`));
          expect(node.log.text()).toBe(stderr); // nothing on stdout either
        },
        20_000,
      );
    }
  });
});
