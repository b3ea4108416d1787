// `npm run chaos`: Jepsen-style chaos scenarios over real node processes (see CHAOS.md).
//
//   npm run chaos                         every scenario; rewrites CHAOS.md and writes bench/results/chaos-<time>.json
//   npm run chaos -- --scenario NAME[,..] the named scenarios only (JSON, no CHAOS.md)
//   npm run chaos -- --ci                 one short scenario (kill -9 under load), under 90 s; writes no files
//   npm run chaos -- --no-netns           partitions through the transport fault hook even as root
//   npm run chaos -- --list               the scenario names
// Exit code 1 when any checker found an anomaly (or a scenario failed to run), 2 on bad usage.
import { cpus } from 'node:os';
import { join } from 'node:path';
import { faketimeAvailable, netnsAvailable, root, serverBundle, waitFor } from '../testkit';
import { checkScenario } from './check';
import { ChaosCluster, type NetMode } from './cluster';
import { chaosMarkdown, type RunReport, type ScenarioResult, scenarioSummary, summaryTable, writeJson } from './report';
import { ciScenario, type FaultContext, type Scenario, scenarios } from './scenarios';
import { defaultWorkload, type OpCounts, Workload } from './workload';
import { existsSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
function flag(name: string): boolean {
  return args.includes(name);
}
function option(name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) {
    console.error(`chaos: ${name} needs a value`);
    process.exit(2);
  }
  return v;
}
for (const a of args) {
  if (a.startsWith('--') && !['--ci', '--scenario', '--no-netns', '--list'].includes(a)) {
    console.error(`chaos: unknown option ${a} (use --scenario NAME, --ci, --no-netns, --list)`);
    process.exit(2);
  }
}
if (flag('--list')) {
  for (const s of scenarios) console.log(`${s.name.padEnd(24)} ${s.title}`);
  process.exit(0);
}

const ci = flag('--ci');
const only = option('--scenario')
  ?.split(',')
  .map((s) => s.trim());
for (const name of only ?? []) {
  if (!scenarios.some((s) => s.name === name)) {
    console.error(`chaos: no scenario "${name}"; one of: ${scenarios.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
}
const selected = ci
  ? scenarios.filter((s) => s.name === ciScenario)
  : only
    ? scenarios.filter((s) => only.includes(s.name))
    : scenarios;
const full = !ci && !only;
const netns = netnsAvailable();
const useNetns = netns.ok && !flag('--no-netns');
const hasFaketime = faketimeAvailable();

if (!existsSync(serverBundle)) {
  console.error('chaos: dist/server.mjs is missing; run node scripts/build.mjs (npm run chaos does)');
  process.exit(1);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rand = (n: number) => Math.floor(Math.random() * n);
const tagBase = String(process.pid % 1000);
let current: ChaosCluster | undefined;

// Ctrl-C / SIGTERM: tear the cluster (processes, namespaces, data) down, then exit.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`\nchaos: ${sig}: tearing down`);
    const c = current;
    void (c ? c.teardown() : Promise.resolve()).finally(() => process.exit(130));
  });
}

function sumCounts(byKind: Map<string, OpCounts>): OpCounts {
  const t = { ops: 0, ok: 0, fail: 0, info: 0 };
  for (const c of byKind.values()) {
    t.ops += c.ops;
    t.ok += c.ok;
    t.fail += c.fail;
    t.info += c.info;
  }
  return t;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** After the schedule (or its failure): every node running, network whole, clocks right. */
async function healEverything(cluster: ChaosCluster): Promise<void> {
  for (const slot of [...cluster.paused]) cluster.resume(slot);
  try {
    await cluster.heal();
  } catch (err) {
    cluster.note(`heal failed: ${(err as Error).message}`);
  }
  if (cluster.spec.faketime) for (let i = 0; i < cluster.spec.size; i++) cluster.setClock(i, '+0');
  for (let i = 0; i < cluster.spec.size; i++) {
    if (!cluster.node(i).alive) {
      try {
        await cluster.restart(i, 60_000);
      } catch (err) {
        cluster.note(`restart of ${cluster.names[i]} failed: ${(err as Error).message}`);
      }
    }
  }
}

async function runScenario(s: Scenario, index: number): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const mode: NetMode = (s.needsNetns || s.preferNetns) && useNetns ? 'netns' : 'loopback';
  const base: ScenarioResult = {
    name: s.name,
    title: s.title,
    schedule: s.schedule,
    nodes: s.nodes,
    mode,
    faketime: !!s.faketime,
    startedAt,
    durationMs: 0,
    ops: { ops: 0, ok: 0, fail: 0, info: 0 },
    byKind: {},
    createsUnknown: 0,
    lost: 0,
    unexpected: 0,
    convergenceMs: null,
    valid: false,
    timeline: [],
    lives: [],
    windows: [],
    logs: { warn: 0, error: 0, samples: [] },
  };
  if (s.needsNetns && !useNetns)
    return {
      ...base,
      mode: 'skipped',
      skipped: `needs network namespaces (${flag('--no-netns') ? '--no-netns given' : netns.why})`,
      valid: true,
    };
  if (s.faketime && !hasFaketime)
    return { ...base, mode: 'skipped', skipped: 'needs libfaketime (apt-get install faketime)', valid: true };

  const tag = `${tagBase}${index}`.slice(-4);
  const cluster = new ChaosCluster({
    size: s.nodes,
    mode,
    tag,
    netSlot: (process.pid * 7 + index) % 5000,
    faketime: !!s.faketime,
  });
  current = cluster;
  const windows: FaultContext['windows'] = [];
  let workload: Workload | undefined;
  const result = { ...base };
  try {
    await cluster.start();
    // A settled ring is not yet a working CAS everywhere (acceptors catch up for a few seconds).
    await waitFor(
      async () => {
        const probe = new Workload(cluster, defaultWorkload, tag);
        const rs = await Promise.all(
          cluster.nodes.map((n) => probe.casCall(n, `chaos-${tag}-ready`, { kind: 'read' }, 3000)),
        );
        return rs.every((r) => r !== null);
      },
      { timeoutMs: 30_000, intervalMs: 300, what: 'CAS reads answering through every node' },
    );
    cluster.note('CAS answering everywhere');
    workload = new Workload(cluster, { ...defaultWorkload, casEpochMs: 5_000, ...(s.workload ?? {}) }, tag);
    await workload.setup();
    workload.start();
    cluster.note('workload started');
    await sleep(s.warmupMs);
    const ctx: FaultContext = { cluster, workload, ci, sleep, rand, windows };
    try {
      await withTimeout(s.faults(ctx), 300_000, `${s.name} fault schedule`);
    } catch (err) {
      result.error = `fault schedule failed: ${(err as Error).message}`;
      cluster.note(result.error);
    }
    await healEverything(cluster);
    const healedAt = performance.now();
    cluster.note('last fault healed');
    await sleep(s.tailMs);
    await workload.stop();
    cluster.note('clients stopped');
    const check = await checkScenario(cluster, workload, {
      healedAt,
      timeoutMs: 120_000,
      ...(s.excuseReplacement
        ? { excuseReplacement: (r: { node: string; at: number }) => s.excuseReplacement!(r, windows) }
        : {}),
    });
    if (s.verify) {
      const own = s.verify();
      check.anomalies.push(...own.anomalies);
      result.findings = own.findings;
    }
    cluster.note(check.convergenceMs === null ? 'did not converge within the bound' : 'converged');
    result.check = check;
    result.convergenceMs = check.convergenceMs;
    result.lost = check.anomalies.filter((a) => a.kind === 'lost').reduce((s2, a) => s2 + a.n, 0);
    result.unexpected = check.anomalies.filter((a) => a.kind === 'unexpected').reduce((s2, a) => s2 + a.n, 0);
    result.valid = !result.error && check.anomalies.length === 0 && check.convergenceMs !== null;
    if (check.convergenceMs === null && check.anomalies.length === 0) result.error = 'did not converge within 120 s';
  } catch (err) {
    result.error = (err as Error).stack ?? String(err);
    result.valid = false;
  } finally {
    if (workload) {
      await workload.stop();
      result.byKind = Object.fromEntries(workload.counts);
      result.ops = sumCounts(workload.counts);
      result.createsUnknown = workload.createsUnknown;
      result.movedOnRefusal = workload.movedOnRefusal;
    }
    await cluster.teardown();
    current = undefined;
    result.durationMs = Math.round(performance.now() - t0);
    result.timeline = cluster.timeline;
    result.windows = windows.map((w) => ({
      ...w,
      from: Math.round(w.from - cluster.t0),
      to: Math.round(w.to - cluster.t0),
    }));
    result.lives = cluster.lives.map((l) => ({
      name: l.name,
      gen: l.gen,
      ...(l.end ? { end: l.end } : {}),
      ...(l.endedAt ? { ms: Math.round(l.endedAt - l.startedAt) } : {}),
    }));
    result.logs = {
      warn: cluster.logLines.filter((l) => l.level === 40).length,
      error: cluster.logLines.filter((l) => l.level >= 50).length,
      samples: cluster.logLines
        .filter((l) => l.level >= 40)
        .slice(0, 25)
        .map((l) => `${l.node}#${l.gen} ${l.level >= 50 ? 'ERROR' : 'warn'} ${l.msg}`),
    };
  }
  return result;
}

const t0 = performance.now();
const startedAt = new Date().toISOString();
console.log(
  `chaos: ${selected.map((s) => s.name).join(', ')}${ci ? ' (--ci)' : ''}; partitions via ${useNetns ? 'network namespaces' : `the transport fault hook (${netns.ok ? '--no-netns' : netns.why})`}; clock jumps ${hasFaketime ? 'via libfaketime' : 'unavailable (no libfaketime)'}`,
);
const results: ScenarioResult[] = [];
for (const [i, s] of selected.entries()) {
  console.log(`\n-- ${s.name}: ${s.title}`);
  const r = await runScenario(s, i);
  results.push(r);
  console.log(scenarioSummary(r));
}
const report: RunReport = {
  startedAt,
  finishedAt: new Date().toISOString(),
  durationMs: Math.round(performance.now() - t0),
  command: `npm run chaos${args.length ? ` -- ${args.join(' ')}` : ''}`,
  full,
  environment: {
    node: process.version,
    cpus: cpus().length,
    root: process.getuid?.() === 0,
    netns: useNetns
      ? 'network namespaces + iptables'
      : `the transport fault hook (${netns.ok ? '--no-netns' : netns.why})`,
    faketime: hasFaketime,
  },
  valid: results.every((r) => r.valid),
  scenarios: results,
};
// --ci (run by npm test) leaves no files behind; the other runs keep their JSON.
const rel = ci ? undefined : writeJson(report, root).slice(root.length + 1);
if (full && rel) writeFileSync(join(root, 'CHAOS.md'), chaosMarkdown(report, rel));
console.log(`\n${summaryTable(results)}\n`);
console.log(
  `chaos: ${report.valid ? 'valid' : 'INVALID'} in ${(report.durationMs / 1000).toFixed(1)} s${rel ? `; results in ${rel}${full ? ' and CHAOS.md' : ''}` : ''}`,
);
process.exit(report.valid ? 0 : 1);
