// Jepsen-style histories over real node processes: concurrent clients write causal chains of
// registers, race on compare-and-set keys and increment counters through random nodes while
// one node is SIGKILLed and restarted from its DATA_DIR and another is cut off from its peers.
// Every operation is recorded (an operation that failed or timed out has an unknown outcome)
// and the histories are checked with the simulator's own checkers:
//   - registers: checkRegisterHistories (acknowledged writes durable, superseded values gone,
//     deleted keys stay deleted) on the sibling values read through every node;
//   - CAS: checkCasHistories (Wing-Gong linearizability per key), at most one create per key;
//   - counters: every node's total equals the sum of the accepted (202) increments.
import { describe, expect, it } from 'vitest';
import { checkRegisterHistories } from '../../ring/sim';
import { checkCasHistories, type CasOp, type HistoryEntry, type RegisterValue } from '../../ring/sim';
import type { RegisterOp } from '../../ring/sim';
import {
  admin,
  casReplyOf,
  casRequestBody,
  type CasReply,
  ctr,
  type Harness,
  kill,
  kv,
  pool,
  type RingProcess,
  setBlocked,
  sleep,
  waitExit,
  waitFor,
  waitReady,
  waitSettled,
} from '../../testkit';
import { useHarness } from '../../testkit/vitest';

let h!: Harness;
useHarness((x) => (h = x), { build: true });

const ms = (x: number) => `${Math.round(x)} ms`;
const rand = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
const sumOf = <T extends { by: number }>(xs: readonly T[], when: (x: T) => boolean) =>
  xs.reduce((s, x) => (when(x) ? s + x.by : s), 0);

/** Client-side bound on one request; longer than a quorum request (1 s) and most CAS retry chains. */
const OP_TIMEOUT_MS = 4000;

type CasEntry = HistoryEntry & { key: string };
/** One compare-and-set operation through the admin route; null when the outcome is unknown (error, non-200, timeout). */
async function casCall(node: RingProcess, key: string, op: CasOp, timeoutMs = OP_TIMEOUT_MS): Promise<CasReply | null> {
  try {
    const r = await admin<CasReply>(node, 'POST', `cas/${key}`, casRequestBody(op), timeoutMs);
    return casReplyOf(op, r.status, r.body);
  } catch {
    return null;
  }
}

/** Sorted live sibling values of a register key through one node ([] on 404); throws on anything else. */
async function readValues(node: RingProcess, key: string): Promise<string[]> {
  const r = await kv.get(node, key, OP_TIMEOUT_MS);
  if (r.status === 404) return [];
  if (r.status !== 200)
    throw new Error(`GET ${key} via ${node.name}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  const values = (r.body as { values?: unknown }).values;
  if (!Array.isArray(values))
    throw new Error(`GET ${key} via ${node.name}: no values array in ${JSON.stringify(r.body).slice(0, 200)}`);
  return values.map(String).sort();
}

describe.sequential('client histories under faults (real processes)', () => {
  it('the CAS route validates its body, key and token', async () => {
    const n1 = await h.startNode({ name: 'n1', env: { W: '1', R: '1' } });
    await waitReady(n1, 20_000);
    const bad: unknown[] = [
      {},
      { op: 'bogus' },
      { op: 'create' },
      { op: 'create', value: 5 },
      { op: 'cas', value: 'x' },
      { op: 'cas', expected: 3, value: 'x' },
      { op: 'cas', expected: 'a' },
      'read',
    ];
    for (const body of bad) {
      const r = await admin(n1, 'POST', 'cas/v-key', body);
      expect(r.status, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`).toBe(422);
    }
    expect((await admin(n1, 'POST', 'cas/bad key!', { op: 'read' })).status).toBe(400);
    expect((await admin(n1, 'GET', 'cas/v-key')).status).toBe(405);
    const unauth = await fetch(`${n1.url}/api/admin/cas/v-key`, {
      method: 'POST',
      body: '{"op":"read"}',
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(5000),
    });
    expect(unauth.status).toBe(401);

    // A well-formed sequence on one node (its own primaries: quorum of one).
    const call = (body: unknown) =>
      waitFor(
        async () => {
          const r = await admin(n1, 'POST', 'cas/v-key', body);
          if (r.status === 503) return undefined; // not every partition's acceptors ready yet: retry
          return r;
        },
        { timeoutMs: 10_000, intervalMs: 200, what: `cas ${JSON.stringify(body)}` },
      );
    expect((await call({ op: 'read' })).body).toMatchObject({ value: null });
    expect((await call({ op: 'create', value: 'a' })).body).toMatchObject({ ok: true });
    expect((await call({ op: 'create', value: 'b' })).body).toMatchObject({ ok: false });
    expect((await call({ op: 'cas', expected: 'b', value: 'c' })).body).toMatchObject({ ok: false });
    expect((await call({ op: 'cas', expected: 'a', value: 'c' })).body).toMatchObject({ ok: true });
    expect((await call({ op: 'read' })).body).toMatchObject({ value: 'c' });

    // The kv GET shows every live sibling value.
    expect((await kv.put(n1, 'v-reg', 'x')).status).toBe(200);
    const g = await kv.get(n1, 'v-reg');
    expect(g.body).toMatchObject({ value: 'x', values: ['x'], siblings: 1 });
  }, 60_000);

  it('registers, CAS and counters stay correct through kill -9, restart and a partition', async () => {
    const start = { dataDir: true, readyTimeoutMs: 30_000, settleTimeoutMs: 40_000 };
    const nodes = await h.startCluster(['n1', 'n2', 'n3'], start);
    const casKeys = ['hc-0', 'hc-1', 'hc-2'];
    // A settled ring is not yet a working CAS: the joiners' acceptors answer not-ready until they
    // caught up (about 2 s). Wait (bounded) until a CAS read of every key succeeds through every node.
    const settledAt = performance.now();
    await waitFor(
      async () =>
        (await Promise.all(nodes.flatMap((n) => casKeys.map((k) => casCall(n, k, { kind: 'read' }, 3000))))).every(
          (r) => r !== null,
        ),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'CAS reads answering through every node',
      },
    );
    const casReadyMs = performance.now() - settledAt;

    const victim = nodes[1]!;
    const up = new Set(nodes.map((n) => n.name));
    const upNodes = () => nodes.filter((n) => up.has(n.name));
    let stopped = false;
    const t0 = performance.now();
    const at = (t: number) => sleep(Math.max(0, t - (performance.now() - t0)));
    const think = (lo: number, hi: number) => sleep(lo + rand(hi - lo));
    const timeline: string[] = [];
    const note = (what: string) => timeline.push(`${what} at ${ms(performance.now() - t0)}`);

    // ---- register clients: each owns three key slots and writes each slot's key in a causal chain
    // (every write carries the context its previous acknowledged write returned); now and then it
    // deletes the key for good and the slot moves on to a fresh key.
    const registerOps = new Map<string, RegisterOp[]>();
    const reg = { ops: 0, ok: 0, unknown: 0, deletes: 0 };
    let valueSeq = 0;
    const registerClient = async (c: number) => {
      const slots = [0, 1, 2].map((k) => ({
        key: `hr-c${c}-${k}-g0`,
        generation: 0,
        context: undefined as string | undefined,
      }));
      for (const sl of slots) registerOps.set(sl.key, []);
      while (!stopped) {
        const st = pick(slots);
        const key = st.key;
        const ops = registerOps.get(key)!;
        const del = ops.length >= 5 && Math.random() < 0.04;
        const op: RegisterOp = del
          ? { key, kind: 'delete', index: ops.length, status: 'pending' }
          : { key, kind: 'put', value: `${key}#${++valueSeq}`, index: ops.length, status: 'pending' };
        ops.push(op);
        reg.ops++;
        if (del) reg.deletes++;
        const node = pick(upNodes());
        try {
          const r = del
            ? await kv.del(node, key, st.context ?? '', OP_TIMEOUT_MS)
            : await kv.put(node, key, op.value, st.context, OP_TIMEOUT_MS);
          if (r.status === 200 && typeof r.context === 'string') {
            op.status = 'ok';
            st.context = r.context;
          } else op.status = 'unknown';
        } catch {
          op.status = 'unknown';
        }
        if (op.status === 'ok') reg.ok++;
        else reg.unknown++;
        if (del) {
          // Deleted for good (whatever the outcome): this slot never writes the key again.
          st.key = `hr-c${c}-${slots.indexOf(st)}-g${++st.generation}`;
          st.context = undefined;
          registerOps.set(st.key, []);
        }
        await think(2, 20);
      }
    };

    // ---- CAS clients: random create / cas / read on shared keys through random nodes
    const casHistory: CasEntry[] = [];
    const lastSeen = new Map<string, RegisterValue>();
    let opId = 0;
    const casClient = async (c: number) => {
      const proc = `cas-c${c}`;
      while (!stopped) {
        const key = pick(casKeys);
        const value = `${proc}:${++valueSeq}`;
        const roll = Math.random();
        const op: CasOp =
          roll < 0.35
            ? { kind: 'create', value }
            : roll < 0.75
              ? { kind: 'cas', expected: lastSeen.get(key) ?? null, value }
              : { kind: 'read' };
        const node = pick(upNodes());
        const entry: CasEntry = { id: ++opId, key, process: proc, op, invokedAt: performance.now() };
        casHistory.push(entry);
        const out = await casCall(node, key, op);
        if (out) {
          entry.completedAt = performance.now();
          entry.output = out;
          if (op.kind === 'read') lastSeen.set(key, out.value ?? null);
          else if (out.ok) lastSeen.set(key, op.value);
        }
        await think(5, 25);
      }
    };

    // ---- counter clients: one per key, so each key's increments are sequential and the order in
    // which a node accepted them is known; every increment is recorded with the node life it went to.
    const ctrKeys = ['hk-0', 'hk-1'];
    type Incr = { node: RingProcess; by: number; t: number; outcome: 'accepted' | 'refused' | 'uncertain' };
    const increments = new Map<string, Incr[]>(ctrKeys.map((k) => [k, []]));
    const counterClient = async (key: string) => {
      const log = increments.get(key)!;
      while (!stopped) {
        const by = 1 + rand(5);
        const node = pick(upNodes());
        let outcome: Incr['outcome'];
        try {
          outcome = (await ctr.incr(node, key, by, OP_TIMEOUT_MS)) === 202 ? 'accepted' : 'refused';
        } catch {
          outcome = 'uncertain'; // the node may or may not have counted it
        }
        log.push({ node, by, t: performance.now(), outcome });
        await think(1, 8);
      }
    };

    // ---- faults: SIGKILL n2 at 2 s, restart it from its DATA_DIR at 4 s; cut n3 off at 5 s (or once n2
    // is ready), heal at 6.5 s; stop the clients at 8 s
    let killedAt = 0;
    const chaos = async () => {
      await at(2000);
      up.delete(victim.name);
      kill(victim, 'SIGKILL');
      killedAt = performance.now();
      note(`SIGKILL ${victim.name}`);
      await waitExit(victim, 5000);
      await at(4000);
      note(`restart ${victim.name}`);
      const again = await h.restart(victim);
      await waitReady(again, 30_000);
      nodes[1] = again;
      up.add(again.name);
      note(`${again.name} ready`);
      await at(5000);
      const [a, b, isolated] = nodes as [RingProcess, RingProcess, RingProcess];
      await Promise.all([
        setBlocked(isolated, [a.name, b.name]),
        setBlocked(a, [isolated.name]),
        setBlocked(b, [isolated.name]),
      ]);
      note(`${isolated.name} cut off`);
      // Under load the restart can run late: keep the partition and the healed tail at least 1.5 s each.
      await at(Math.max(6500, performance.now() - t0 + 1500));
      await Promise.all(nodes.map((n) => setBlocked(n, [])));
      note('healed');
      await at(Math.max(8000, performance.now() - t0 + 1500));
    };

    const clients = [
      ...[0, 1, 2, 3].map((c) => registerClient(c)),
      ...[0, 1, 2, 3, 4, 5].map((c) => casClient(c)),
      ...ctrKeys.map((k) => counterClient(k)),
    ];
    try {
      await chaos();
    } finally {
      stopped = true;
      note('clients stopping');
      // Every request is bounded by OP_TIMEOUT_MS, so the clients end soon after.
      await Promise.race([Promise.all(clients), sleep(OP_TIMEOUT_MS + 5000)]);
    }
    note('clients stopped');

    // ---- settle: every node sees all three valid and alive, nothing moving (bounded)
    await waitSettled(nodes, 60_000);
    note('settled');

    // ---- registers: every key through every node; the nodes must agree (retried, bounded: hints and
    // anti-entropy may still be converging), then the histories are checked against those values.
    const regKeys = [...registerOps.keys()];
    let firstPassDisagreements = -1;
    const finalValues = await waitFor(
      async () => {
        const perNode = await Promise.all(
          nodes.map(async (n) => new Map(await pool(regKeys, 6, async (k) => [k, await readValues(n, k)] as const))),
        );
        const disagree = regKeys.filter((k) => new Set(perNode.map((m) => JSON.stringify(m.get(k)))).size > 1);
        if (firstPassDisagreements < 0) firstPassDisagreements = disagree.length;
        if (disagree.length > 0) {
          throw new Error(
            `nodes disagree on ${disagree.length} keys, e.g. ${disagree
              .slice(0, 3)
              .map((k) => `${k}: ${nodes.map((n, i) => `${n.name}=${JSON.stringify(perNode[i]!.get(k))}`).join(' ')}`)
              .join('; ')}`,
          );
        }
        return perNode[0]!;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'every node reading the same sibling values for every register key' },
    );
    const regViolations = checkRegisterHistories(registerOps, (k) => finalValues.get(k) ?? []);
    const liveKeys = regKeys.filter((k) => (finalValues.get(k) ?? []).length > 0).length;
    const multi = regKeys.filter((k) => (finalValues.get(k) ?? []).length > 1).length;
    const deletedKeys = regKeys.length - liveKeys;

    // ---- CAS: a final read of every key through every node joins the history, then the check
    for (const key of casKeys) {
      for (const n of nodes) {
        const entry: CasEntry = {
          id: ++opId,
          key,
          process: `final-${n.name}`,
          op: { kind: 'read' },
          invokedAt: performance.now(),
        };
        const out = await waitFor(() => casCall(n, key, { kind: 'read' }), {
          timeoutMs: 20_000,
          intervalMs: 200,
          what: `final CAS read of ${key} via ${n.name}`,
        });
        entry.completedAt = performance.now();
        entry.output = out;
        casHistory.push(entry);
      }
    }
    const casResults = checkCasHistories(casHistory);
    const casProblems: string[] = [];
    for (const [key, r] of casResults) {
      if (!r.ok)
        casProblems.push(
          `${key}: ${r.inconclusive ? 'INCONCLUSIVE' : 'NOT LINEARIZABLE'} (${r.explored} states): ${r.reason}`,
        );
    }
    const createsOk = new Map<string, number>();
    for (const e of casHistory)
      if (e.op.kind === 'create' && e.output?.ok) createsOk.set(e.key, (createsOk.get(e.key) ?? 0) + 1);
    for (const [key, n] of createsOk) if (n > 1) casProblems.push(`${key}: ${n} creates succeeded`);
    const casLatency = casHistory
      .filter((e) => e.completedAt !== undefined && !e.process.startsWith('final-'))
      .map((e) => e.completedAt! - e.invokedAt)
      .sort((a, b) => a - b);
    const pct = (q: number) => ms(casLatency[Math.min(casLatency.length - 1, Math.floor(q * casLatency.length))] ?? 0);
    const casOut = { ok: 0, fail: 0, read: 0, unknown: 0 };
    for (const e of casHistory) {
      if (e.completedAt === undefined) casOut.unknown++;
      else if (e.op.kind === 'read') casOut.read++;
      else if (e.output?.ok) casOut.ok++;
      else casOut.fail++;
    }

    // ---- counters: read every total through every node until they agree and stop changing (bounded),
    // then compare with the accepted sum. Expected: exactly the accepted sum. A SIGKILLed node loses
    // the increments it accepted but had not yet shipped (flushes run every 100 ms; see
    // ring/crdt/counterShipper.ts). A difference is accepted only when it is exactly that: a
    // suffix of the killed life's accepted increments of the key, all accepted within
    // LOSS_WINDOW_MS before the kill (one flush interval, plus a flush RPC timeout, plus margin).
    // Increments whose request failed ('uncertain') may each have been counted or not.
    const LOSS_WINDOW_MS = 100 + 1000 + 400;
    let previous = '';
    const totals = await waitFor(
      async () => {
        const t = new Map<string, number[]>();
        for (const key of ctrKeys) t.set(key, await Promise.all(nodes.map((n) => ctr.total(n, key, OP_TIMEOUT_MS))));
        const print = JSON.stringify([...t]);
        const agreed = [...t.values()].every((xs) => new Set(xs).size === 1);
        const exact = ctrKeys.every((k) => t.get(k)![0] === sumOf(increments.get(k)!, (i) => i.outcome === 'accepted'));
        const stable = print === previous;
        previous = print;
        return agreed && (exact || stable) ? t : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 1000, what: 'counter totals agreeing on every node and stable' },
    );
    const counterLines: string[] = [];
    const counterProblems: string[] = [];
    let counterLost = 0;
    for (const key of ctrKeys) {
      const log = increments.get(key)!;
      const accepted = sumOf(log, (i) => i.outcome === 'accepted');
      const uncertain = sumOf(log, (i) => i.outcome === 'uncertain');
      const total = totals.get(key)![0]!;
      const diff = total - accepted;
      // The killed life's accepted increments, newest first: candidate lost suffixes.
      const killedLife = log.filter((i) => i.node === victim && i.outcome === 'accepted').reverse();
      let explained = total >= accepted && total <= accepted + uncertain;
      let lostSuffix = 0;
      for (
        let j = 0, s = 0;
        !explained && j < killedLife.length && killedLife[j]!.t >= killedAt - LOSS_WINDOW_MS;
        j++
      ) {
        s += killedLife[j]!.by;
        if (total >= accepted - s && total <= accepted - s + uncertain) {
          explained = true;
          lostSuffix = j + 1;
        }
      }
      if (total < accepted) counterLost += accepted - total;
      const lateTotal = sumOf(killedLife, (i) => i.t >= killedAt - LOSS_WINDOW_MS);
      counterLines.push(
        `${key}: ${log.length} increments (${log.filter((i) => i.outcome === 'accepted').length} accepted, ${log.filter((i) => i.outcome === 'uncertain').length} uncertain), ` +
          `accepted sum ${accepted}, total ${total} on every node, diff ${diff}` +
          (lostSuffix > 0
            ? ` = the last ${lostSuffix} increments ${victim.name} accepted before its SIGKILL (unflushed)`
            : '') +
          ` [${victim.name} accepted ${lateTotal} in its last ${LOSS_WINDOW_MS} ms]`,
      );
      if (!explained)
        counterProblems.push(
          `${key}: total ${total} != accepted sum ${accepted} (diff ${diff}, uncertain ${uncertain}), not explained by ${victim.name}'s unflushed increments`,
        );
    }

    const allIncrements = [...increments.values()].flat();
    const ops = reg.ops + casHistory.length + allIncrements.length;
    const acked =
      reg.ok + (casHistory.length - casOut.unknown) + allIncrements.filter((i) => i.outcome === 'accepted').length;
    const unknown = reg.unknown + casOut.unknown + allIncrements.filter((i) => i.outcome === 'uncertain').length;
    console.log(
      `[histories] CAS answering on every node ${ms(casReadyMs)} after the ring settled; timeline: ${timeline.join(', ')}`,
    );
    console.log(
      `[histories] ${ops} ops, ${acked} acknowledged, ${unknown} unknown | registers: ${reg.ops} writes (${reg.ok} ok, ${reg.unknown} unknown), ` +
        `${regKeys.length} final keys (${liveKeys} live, ${multi} with siblings, ${deletedKeys} deleted/absent), first-pass disagreements ${firstPassDisagreements}, ` +
        `${regViolations.length} violations | CAS: ${casHistory.length} ops (${casOut.ok} ok, ${casOut.fail} failed, ${casOut.read} reads, ${casOut.unknown} unknown; latency p50 ${pct(0.5)}, p99 ${pct(0.99)}), ` +
        `${[...casResults].map(([k, r]) => `${k} ${r.ok ? 'linearizable' : r.inconclusive ? 'inconclusive' : 'NOT linearizable'} (${r.explored} states)`).join(', ')} | ` +
        `counters: ${counterLost} lost unflushed at the kill; ${counterLines.join('; ')}`,
    );

    expect(regViolations, regViolations.map((v) => `${v.invariant}: ${v.detail}`).join('\n')).toEqual([]);
    expect(casProblems, casProblems.join('\n')).toEqual([]);
    expect(counterProblems, `${counterProblems.join('\n')}\n${counterLines.join('\n')}`).toEqual([]);
  }, 180_000);
});
