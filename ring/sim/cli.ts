// npm run sim -- --seeds N [--start S] [--workers W] [--nodes 5] [--active-ms 12000]
// npm run sim -- --seed S --verbose      (replays one seed and prints its trace)
// --json prints the run's figures (time, seeds/s, convergence) as JSON on stderr instead of
// text; --json-out FILE also writes them to FILE (used by `npm run bench`).
// Prints one block per failing seed with the command that replays it, then exactly one
// summary line: `sim: N seeds, F failures`. Exits 1 when F > 0. Seeds run on worker
// threads (one per core by default); each seed is independent and deterministic.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { initHash } from '../hash';
import { defaultScenario, runSeed, type ScenarioOptions, type SeedResult } from './scenario';

type Summary = Omit<SeedResult, 'trace' | 'faults'> & { crashed?: string; elapsedMs?: number };

function runOne(seed: number, opts: ScenarioOptions): Summary {
  try {
    const t0 = performance.now();
    const { trace: _trace, faults: _faults, ...rest } = runSeed(seed, opts);
    return { ...rest, elapsedMs: Math.round(performance.now() - t0) };
  } catch (err) {
    return { seed, violations: [], ops: 0, acked: 0, virtualMs: 0, convergedAfterMs: -1, lostIncrements: 0, reaped: 0, autoDownAfterMs: 0, crashed: (err as Error).stack ?? String(err) };
  }
}

function report(r: Summary): boolean {
  if (r.crashed) {
    console.log(`seed ${r.seed}: the simulation threw: ${r.crashed}`);
  } else if (r.violations.length > 0) {
    console.log(`seed ${r.seed}: ${r.violations.length} violations`);
    for (const v of r.violations.slice(0, 8)) console.log(`  ${v.invariant}: ${v.detail}`);
  } else return false;
  console.log(`  replay: npm run sim -- --seed ${r.seed} --verbose`);
  return true;
}

async function runParallel(seeds: number[], opts: ScenarioOptions, workers: number): Promise<Summary[]> {
  const results: Summary[] = [];
  const shares = Array.from({ length: workers }, (_, w) => seeds.filter((_, i) => i % workers === w));
  await Promise.all(
    shares.map(
      (share) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(import.meta.url.endsWith('.ts') ? new URL('./worker.mjs', import.meta.url) : new URL(import.meta.url), { workerData: { seeds: share, opts } });
          worker.on('message', (r: Summary) => results.push(r));
          worker.on('error', reject);
          worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sim worker exited with ${code}`))));
        }),
    ),
  );
  return results.sort((a, b) => a.seed - b.seed);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      workers: { type: 'string' },
      nodes: { type: 'string' },
      'active-ms': { type: 'string' },
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
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(start) || !Number.isSafeInteger(workers)) {
    console.error('usage: npm run sim -- --seeds N [--start S] [--workers W] | --seed S [--verbose] [--json] [--json-out FILE]');
    process.exit(2);
  }
  const opts: ScenarioOptions = {
    ...defaultScenario,
    nodes: Number(values.nodes ?? defaultScenario.nodes),
    activeMs: Number(values['active-ms'] ?? defaultScenario.activeMs),
    verbose: values.verbose === true,
  };
  const t0 = performance.now();
  const seeds = Array.from({ length: count }, (_, i) => start + i);
  let results: Summary[];
  if (opts.verbose) {
    results = seeds.map((seed) => {
      const r = runSeed(seed, opts);
      for (const line of r.trace ?? []) console.log(line);
      console.log(`faults: ${r.faults.join('; ')}`);
      console.log(`ops ${r.ops}, acked ${r.acked}, converged after heal in ${r.convergedAfterMs} ms, increments lost in crashes ${r.lostIncrements}, tombstones reaped ${r.reaped}, auto-down ${r.autoDownAfterMs || 'off'}`);
      return r;
    });
  } else if (workers > 1) results = await runParallel(seeds, opts, workers);
  else results = seeds.map((seed) => runOne(seed, opts));
  let failures = 0;
  for (const r of results) if (report(r)) failures++;
  const secs = (performance.now() - t0) / 1000;
  const ops = results.reduce((n, r) => n + r.ops, 0);
  const virtualS = results.reduce((n, r) => n + r.virtualMs, 0) / 1000;
  const converge = results.map((r) => r.convergedAfterMs).filter((x) => x >= 0).sort((a, b) => a - b);
  const stuck = results.filter((r) => r.convergedAfterMs < 0).map((r) => r.seed);
  const slowest = [...results].sort((a, b) => (b.elapsedMs ?? 0) - (a.elapsedMs ?? 0))[0];
  const stats = { slowestSeed: slowest ? `${slowest.seed} (${slowest.elapsedMs} ms)` : null, seeds: count, failures, seconds: +secs.toFixed(2), seedsPerSecond: +(count / secs).toFixed(2), workers, clientOps: ops, virtualSeconds: Math.round(virtualS), convergeMaxMs: converge.at(-1) ?? null, notConverged: results.length - converge.length, notConvergedSeeds: stuck.slice(0, 10) };
  if (values.json) console.error(JSON.stringify(stats));
  else console.error(`(${stats.seconds} s on ${workers} workers, ${stats.seedsPerSecond} seeds/s, ${ops} client ops, ${stats.virtualSeconds} virtual s, slowest convergence ${stats.convergeMaxMs} ms, not converged ${stats.notConverged} [${stats.notConvergedSeeds.join(' ')}], slowest seed ${stats.slowestSeed})`);
  const jsonOut = values['json-out'];
  if (jsonOut) {
    mkdirSync(dirname(jsonOut), { recursive: true });
    writeFileSync(`${jsonOut}.tmp`, `${JSON.stringify({ benchmark: 'sim', settings: { seeds: count, start, workers, nodes: opts.nodes, activeMs: opts.activeMs }, result: stats }, null, 2)}\n`);
    renameSync(`${jsonOut}.tmp`, jsonOut);
  }
  console.log(`sim: ${count} seeds, ${failures} failures`);
  process.exit(failures > 0 ? 1 : 0);
}

if (isMainThread) void main();
else {
  const { seeds, opts } = workerData as { seeds: number[]; opts: ScenarioOptions };
  await initHash();
  for (const seed of seeds) parentPort!.postMessage(runOne(seed, opts));
}
