#!/usr/bin/env node
// `npm run fuzz`: the two fuzzers at full size, one after the other.
//   1. tests/cluster/apiFuzz.test.ts with FUZZ_REQUESTS=10000: hostile HTTP against a real
//      3-node cluster (never a 5xx, every 4xx readable problem+json, no leak of another
//      user's data, no crash);
//   2. tests/server/recordLog.test.ts with FUZZ_RUNS=10000: the on-disk log reader against
//      corrupted, truncated and forged files (never throws, never invents a record).
// Each runs as `npx vitest run <file>` with its size in the environment and writes its figures
// to a temporary summary file; this script prints them and writes
// bench/results/fuzz-<timestamp>.json. Exit status 1 if either failed.
//
// node scripts/fuzz.mjs [--requests 10000] [--runs 10000] [--seed N] [--only api|log]
// (`npm run fuzz` builds dist/ first; the API fuzzer also rebuilds it when stale.)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    only: { type: 'string' },
  },
});
for (const k of ['requests', 'runs']) {
  if (!/^[1-9]\d*$/.test(values[k])) {
    console.error(
      `--${k} must be a positive integer (got ${values[k]})\nusage: node scripts/fuzz.mjs [--requests 10000] [--runs 10000] [--seed N] [--only api|log]`,
    );
    process.exit(2);
  }
}
if (values.only && !['api', 'log'].includes(values.only)) {
  console.error(`--only must be api or log (got ${values.only})`);
  process.exit(2);
}

const tmp = mkdtempSync(join(os.tmpdir(), 'ringlink-fuzz-'));
const startedAt = new Date();
let child;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    // vitest kills the cluster it started (the harness SIGKILLs its nodes on exit).
    child?.kill(sig);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
}

/** Runs one vitest file with extra environment; resolves with its exit code, time and tail of output. */
function vitest(file, env) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const tail = [];
    child = spawn('npx', ['vitest', 'run', file], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk, stream) => {
      stream.write(chunk);
      tail.push(chunk.toString());
      while (tail.length > 200) tail.shift();
    };
    child.stdout.on('data', (c) => keep(c, process.stdout));
    child.stderr.on('data', (c) => keep(c, process.stderr));
    child.on('close', (code, signal) => {
      child = undefined;
      resolve({
        code: code ?? (signal ? 128 : 1),
        seconds: +((performance.now() - t0) / 1000).toFixed(1),
        tail: tail.join('').split('\n').slice(-40).join('\n'),
      });
    });
  });
}

function readSummary(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const results = {};
if (values.only !== 'log') {
  const summaryFile = join(tmp, 'api.json');
  console.log(`\n== API fuzzer: ${values.requests} requests against a 3-node cluster ==\n`);
  const r = await vitest('tests/cluster/apiFuzz.test.ts', {
    FUZZ_REQUESTS: values.requests,
    FUZZ_SUMMARY_FILE: summaryFile,
    ...(values.seed ? { FUZZ_SEED: values.seed } : {}),
  });
  results.api = {
    file: 'tests/cluster/apiFuzz.test.ts',
    passed: r.code === 0,
    exitCode: r.code,
    wallSeconds: r.seconds,
    summary: readSummary(summaryFile) ?? null,
    ...(r.code !== 0 ? { outputTail: r.tail } : {}),
  };
}
if (values.only !== 'api') {
  const summaryFile = join(tmp, 'log.json');
  console.log(`\n== record log fuzzer: ${values.runs} runs per corruption property ==\n`);
  const r = await vitest('tests/server/recordLog.test.ts', { FUZZ_RUNS: values.runs, FUZZ_SUMMARY_FILE: summaryFile });
  results.recordLog = {
    file: 'tests/server/recordLog.test.ts',
    passed: r.code === 0,
    exitCode: r.code,
    wallSeconds: r.seconds,
    runsPerProperty: Number(values.runs),
    properties: readSummary(summaryFile) ?? null,
    ...(r.code !== 0 ? { outputTail: r.tail } : {}),
  };
}
rmSync(tmp, { recursive: true, force: true });

// ---- summary
const lines = ['', '== fuzz summary =='];
if (results.api) {
  const s = results.api.summary;
  lines.push(
    `API: ${results.api.passed ? 'PASSED' : 'FAILED'} in ${results.api.wallSeconds} s (vitest, cluster start included)`,
  );
  if (s) {
    lines.push(
      `  ${s.requests} requests in ${s.seconds} s (${s.perSecond}/s), ${s.raw} over raw sockets, ${s.viaFetch} through fetch; seed ${s.seed}`,
    );
    lines.push(
      `  by node: ${Object.entries(s.byNode)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    lines.push(
      `  statuses: ${Object.entries(s.statuses)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    );
    const w = Math.max(...Object.keys(s.routes).map((k) => k.length));
    for (const [route, r] of Object.entries(s.routes))
      lines.push(
        `    ${route.padEnd(w)} ${String(r.requests).padStart(5)}  ${Object.entries(r.statuses)
          .map(([k, v]) => `${k}×${v}`)
          .join(' ')}`,
      );
    lines.push(
      `  5xx: ${Object.entries(s.statuses)
        .filter(([k]) => Number(k) >= 500)
        .reduce(
          (a, [, v]) => a + v,
          0,
        )}, no answer: ${s.statuses['0'] ?? 0}, invariant failures: ${s.failures.length}, leaks: ${s.failures.filter((f) => f.includes('LEAK')).length}`,
    );
    lines.push(
      `  nodes at the end: ${s.nodes.map((n) => `${n.name} ${n.alive ? 'alive' : 'DEAD'} /healthz ${n.healthz}`).join(', ')}; victim data intact: ${s.victimIntact}; node error logs: ${s.errorLogs.length}`,
    );
    for (const f of s.failures) lines.push(`  FAILURE: ${f}`);
  } else lines.push('  (no summary: the test did not get to the end; see its output above)');
}
if (results.recordLog) {
  const p = results.recordLog.properties;
  lines.push(`record log: ${results.recordLog.passed ? 'PASSED' : 'FAILED'} in ${results.recordLog.wallSeconds} s`);
  if (p)
    for (const [name, v] of Object.entries(p))
      lines.push(`  ${name.padEnd(40)} ${String(v.runs).padStart(6)} runs  ${v.seconds} s`);
}
console.log(lines.join('\n'));

const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const stamp = startedAt
  .toISOString()
  .replace(/\.\d{3}Z$/, 'Z')
  .replace(/:/g, '-');
const file = join(dir, `fuzz-${stamp}.json`);
const json = {
  benchmark: 'fuzz',
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  command: `npm run fuzz${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine: {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    node: process.version,
    loadAverageAfter: os.loadavg().map((x) => Math.round(x * 100) / 100),
  },
  results,
};
writeFileSync(`${file}.tmp`, `${JSON.stringify(json, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`\nwrote ${relative(root, file)}`);
process.exit(Object.values(results).every((r) => r.passed) ? 0 : 1);
