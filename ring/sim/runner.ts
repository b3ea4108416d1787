// The simulator's command line, for any set of workloads ("kinds"): each seed number runs
// every selected kind (the ring's own scenario, scenario.ts; the shortener's, server/sim/),
// on worker threads (one per core by default). Each run is independent and deterministic.
//   --seeds N [--start S] [--workers W] [--nodes 5] [--active-ms 12000] [--only ring,shortener]
//   --seed S --verbose      (replays one seed and prints its trace)
// --json prints the run's figures (time, seeds/s, convergence) as JSON on stderr instead of
// text; --json-out FILE also writes them to FILE (used by `npm run bench`).
// Prints one block per failing run with the command that replays it, then exactly one
// summary line: `sim: N seeds, F failures`. Exits 1 when F > 0.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { initHash } from '../hash';

/** What one run of one kind reports (plain data: it crosses from a worker thread). */
export interface SeedSummary {
  seed: number;
  kind: string;
  violations: readonly { invariant: string; detail: string }[];
  ops: number;
  acked: number;
  virtualMs: number;
  /** Virtual ms from the final heal until the cluster was quiet; -1 when it never was. */
  convergedAfterMs: number;
  crashed?: string;
  elapsedMs?: number;
}

/** The command line's overrides; a kind fills in its own defaults. */
export interface RunOptions {
  nodes?: number | undefined;
  activeMs?: number | undefined;
  verbose: boolean;
}

export interface SimKind {
  readonly name: string;
  /** One seed, quietly. */
  run(seed: number, opts: RunOptions): SeedSummary | Promise<SeedSummary>;
  /** One seed with its trace and faults printed (--verbose). */
  replay(seed: number, opts: RunOptions): SeedSummary | Promise<SeedSummary>;
}

interface WorkerJob {
  seeds: number[];
  kinds: string[];
  opts: RunOptions;
}

async function runOne(kind: SimKind, seed: number, opts: RunOptions): Promise<SeedSummary> {
  const t0 = performance.now();
  try {
    const r = await kind.run(seed, opts);
    return { ...r, elapsedMs: Math.round(performance.now() - t0) };
  } catch (err) {
    const crashed = (err as Error).stack ?? String(err);
    return { seed, kind: kind.name, violations: [], ops: 0, acked: 0, virtualMs: 0, convergedAfterMs: -1, crashed };
  }
}

function report(r: SeedSummary, replay: string): boolean {
  if (r.crashed) {
    console.log(`seed ${r.seed} (${r.kind}): the simulation threw: ${r.crashed}`);
  } else if (r.violations.length > 0) {
    console.log(`seed ${r.seed} (${r.kind}): ${r.violations.length} violations`);
    for (const v of r.violations.slice(0, 8)) console.log(`  ${v.invariant}: ${v.detail}`);
  } else return false;
  console.log(`  replay: ${replay} --seed ${r.seed} --only ${r.kind} --verbose`);
  return true;
}

async function runParallel(job: WorkerJob, workers: number, workerUrl: URL): Promise<SeedSummary[]> {
  const results: SeedSummary[] = [];
  const shares = Array.from({ length: workers }, (_, w) => job.seeds.filter((_, i) => i % workers === w));
  await Promise.all(
    shares.map(
      (share) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(workerUrl, { workerData: { ...job, seeds: share } satisfies WorkerJob });
          worker.on('message', (r: SeedSummary) => results.push(r));
          worker.on('error', reject);
          worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sim worker exited with ${code}`))));
        }),
    ),
  );
  return results;
}

/** A worker thread's part: the seeds it was given, every kind asked for, results posted back one by one. */
export async function simWorker(kinds: readonly SimKind[]): Promise<void> {
  const job = workerData as WorkerJob;
  await initHash();
  const byName = new Map(kinds.map((k) => [k.name, k]));
  for (const seed of job.seeds) {
    for (const name of job.kinds) parentPort!.postMessage(await runOne(byName.get(name)!, seed, job.opts));
  }
}

/**
 * The main thread's part. `entryUrl` is the entry module's import.meta.url: bundled, the
 * workers run that same file; under tsx they run the worker.mjs next to it, which
 * registers tsx's loader in the thread first. `replay` is the command that reruns a seed.
 */
export async function simCli(kinds: readonly SimKind[], entryUrl: string, replay: string): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      workers: { type: 'string' },
      nodes: { type: 'string' },
      'active-ms': { type: 'string' },
      only: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'json-out': { type: 'string' },
    },
  });
  await initHash();
  const single = values.seed !== undefined ? Number(values.seed) : undefined;
  const count = single !== undefined ? 1 : Number(values.seeds ?? 10);
  const start = single ?? Number(values.start ?? Date.now() % 1_000_000);
  const workers = Math.max(1, Math.min(count, Number(values.workers ?? availableParallelism())));
  const names = values.only?.split(',').map((s) => s.trim()) ?? kinds.map((k) => k.name);
  const unknown = names.filter((n) => !kinds.some((k) => k.name === n));
  const valid = Number.isSafeInteger(count) && count >= 1 && Number.isSafeInteger(start);
  const usable = valid && Number.isSafeInteger(workers);
  if (!usable || unknown.length > 0) {
    const all = kinds.map((k) => k.name).join(',');
    console.error(`usage: ${replay} --seeds N [--start S] [--workers W] [--nodes N] [--active-ms MS] [--only ${all}]`);
    console.error(`       ${replay} --seed S [--verbose] [--json] [--json-out FILE]`);
    process.exit(2);
  }
  const selected = kinds.filter((k) => names.includes(k.name));
  const opts: RunOptions = {
    nodes: values.nodes !== undefined ? Number(values.nodes) : undefined,
    activeMs: values['active-ms'] !== undefined ? Number(values['active-ms']) : undefined,
    verbose: values.verbose === true,
  };
  const t0 = performance.now();
  const seeds = Array.from({ length: count }, (_, i) => start + i);
  let results: SeedSummary[] = [];
  if (opts.verbose) {
    for (const seed of seeds) {
      for (const kind of selected) {
        const t0 = performance.now();
        results.push({ ...(await kind.replay(seed, opts)), elapsedMs: Math.round(performance.now() - t0) });
      }
    }
  } else if (workers > 1) {
    const workerUrl = entryUrl.endsWith('.ts') ? new URL('./worker.mjs', entryUrl) : new URL(entryUrl);
    results = await runParallel({ seeds, kinds: selected.map((k) => k.name), opts }, workers, workerUrl);
  } else {
    for (const seed of seeds) for (const kind of selected) results.push(await runOne(kind, seed, opts));
  }
  const order = new Map(selected.map((k, i) => [k.name, i]));
  results.sort((a, b) => a.seed - b.seed || order.get(a.kind)! - order.get(b.kind)!);
  let failures = 0;
  for (const r of results) if (report(r, replay)) failures++;
  const secs = (performance.now() - t0) / 1000;
  const ops = results.reduce((n, r) => n + r.ops, 0);
  const virtualS = results.reduce((n, r) => n + r.virtualMs, 0) / 1000;
  const converge = results
    .map((r) => r.convergedAfterMs)
    .filter((x) => x >= 0)
    .sort((a, b) => a - b);
  const stuck = results.filter((r) => r.convergedAfterMs < 0).map((r) => `${r.seed}/${r.kind}`);
  const slowest = [...results].sort((a, b) => (b.elapsedMs ?? 0) - (a.elapsedMs ?? 0))[0];
  const perKind = Object.fromEntries(
    selected.map((k) => {
      const mine = results.filter((r) => r.kind === k.name);
      const busyS = mine.reduce((n, r) => n + (r.elapsedMs ?? 0), 0) / 1000;
      const failed = mine.filter((r) => r.crashed || r.violations.length > 0).length;
      return [k.name, { runs: mine.length, failures: failed, busySeconds: +busyS.toFixed(2) }];
    }),
  );
  const stats = {
    slowestSeed: slowest ? `${slowest.seed}/${slowest.kind} (${slowest.elapsedMs} ms)` : null,
    seeds: count,
    failures,
    seconds: +secs.toFixed(2),
    seedsPerSecond: +(count / secs).toFixed(2),
    workers,
    clientOps: ops,
    virtualSeconds: Math.round(virtualS),
    convergeMaxMs: converge.at(-1) ?? null,
    notConverged: results.length - converge.length,
    notConvergedSeeds: stuck.slice(0, 10),
    kinds: perKind,
  };
  if (values.json) console.error(JSON.stringify(stats));
  else {
    const busy = Object.entries(perKind)
      .map(([k, v]) => `${k} ${v.busySeconds} s`)
      .join(', ');
    console.error(
      `(${stats.seconds} s on ${workers} workers, ${stats.seedsPerSecond} seeds/s [busy: ${busy}], ` +
        `${ops} client ops, ${stats.virtualSeconds} virtual s, slowest convergence ${stats.convergeMaxMs} ms, ` +
        `not converged ${stats.notConverged} [${stats.notConvergedSeeds.join(' ')}], ` +
        `slowest seed ${stats.slowestSeed})`,
    );
  }
  const jsonOut = values['json-out'];
  if (jsonOut) {
    mkdirSync(dirname(jsonOut), { recursive: true });
    const kindNames = selected.map((k) => k.name);
    const settings = { seeds: count, start, workers, kinds: kindNames, nodes: opts.nodes, activeMs: opts.activeMs };
    writeFileSync(`${jsonOut}.tmp`, `${JSON.stringify({ benchmark: 'sim', settings, result: stats }, null, 2)}\n`);
    renameSync(`${jsonOut}.tmp`, jsonOut);
  }
  console.log(`sim: ${count} seeds, ${failures} failures`);
  process.exit(failures > 0 ? 1 : 0);
}
