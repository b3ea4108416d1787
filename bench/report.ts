// `npm run bench:report [-- bench/results/bench-<timestamp>.json]`: write BENCHMARKS.md and
// its chart (bench/results/bench-latest.svg, generated here, no dependencies) from one result
// of `npm run bench`. Without an argument: the newest full run in bench/results (the newest
// --quick run when there is no full one). `npm run bench` calls the same generator at its end
// for the run it just made. Also links the soak results (bench/results/soak-latest.svg and the
// newest soak-*.json) and CHAOS.md when they exist.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { newestBenchDoc, writeReport } from './lib/markdown';

// npm runs scripts from the package root (this file is bundled to node_modules/.cache first).
const root = process.cwd();
const arg = process.argv[2];
if (arg === '--help' || arg === '-h') {
  console.log('usage: npm run bench:report [-- bench/results/bench-<timestamp>.json]');
  process.exit(0);
}
const file = arg ? (isAbsolute(arg) ? arg : join(root, arg)) : newestBenchDoc(root);
if (!file || !existsSync(file)) {
  console.error(
    arg
      ? `${arg}: no such file`
      : 'no bench/results/bench-*.json yet: run `npm run bench` (or `npm run bench -- --quick`) first',
  );
  process.exit(1);
}
console.log(`from ${relative(root, file)}`);
for (const f of writeReport(root, file)) console.log(`wrote ${f}`);
