// npm run sim -- --seeds N [--start S] [--nodes 5] [--active-ms 12000]
// npm run sim -- --seed S --verbose      (replays one seed and prints its trace)
// Prints one line per failing seed with the command that replays it, then exactly one
// summary line: `sim: N seeds, F failures`. Exits 1 when F > 0.
import { parseArgs } from 'node:util';
import { initHash } from '../hash';
import { defaultScenario, runSeed } from './scenario';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      nodes: { type: 'string' },
      'active-ms': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  await initHash();
  const single = values.seed !== undefined ? Number(values.seed) : undefined;
  const count = single !== undefined ? 1 : Number(values.seeds ?? 10);
  const start = single ?? Number(values.start ?? Date.now() % 1_000_000);
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(start)) {
    console.error('usage: npm run sim -- --seeds N [--start S] | --seed S [--verbose]');
    process.exit(2);
  }
  const opts = {
    ...defaultScenario,
    nodes: Number(values.nodes ?? defaultScenario.nodes),
    activeMs: Number(values['active-ms'] ?? defaultScenario.activeMs),
    verbose: values.verbose === true,
  };
  const t0 = performance.now();
  let failures = 0;
  let ops = 0;
  let virtualMs = 0;
  const converge: number[] = [];
  for (let i = 0; i < count; i++) {
    const seed = start + i;
    let result;
    try {
      result = runSeed(seed, opts);
    } catch (err) {
      failures++;
      console.log(`seed ${seed}: crashed: ${(err as Error).stack}`);
      console.log(`  replay: npm run sim -- --seed ${seed} --verbose`);
      continue;
    }
    ops += result.ops;
    virtualMs += result.virtualMs;
    converge.push(result.convergedAfterMs);
    if (opts.verbose) {
      for (const line of result.trace ?? []) console.log(line);
      console.log(`faults: ${result.faults.join('; ')}`);
      console.log(`ops ${result.ops}, acked ${result.acked}, converged after heal in ${result.convergedAfterMs} ms, increments lost in crashes ${result.lostIncrements}`);
    }
    if (result.violations.length > 0) {
      failures++;
      console.log(`seed ${seed}: ${result.violations.length} violations`);
      for (const v of result.violations.slice(0, 8)) console.log(`  ${v.invariant}: ${v.detail}`);
      console.log(`  replay: npm run sim -- --seed ${seed} --verbose`);
    }
  }
  const secs = (performance.now() - t0) / 1000;
  if (values.json) console.error(JSON.stringify({ seeds: count, failures, seconds: secs, seedsPerSecond: count / secs, ops, virtualMs }));
  else console.error(`(${secs.toFixed(1)} s, ${(count / secs).toFixed(1)} seeds/s, ${ops} client ops, ${(virtualMs / 1000).toFixed(0)} virtual s)`);
  console.log(`sim: ${count} seeds, ${failures} failures`);
  process.exit(failures > 0 ? 1 : 0);
}

void main();
