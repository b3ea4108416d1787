// `npm run bench`: every benchmark, one after the other (never two at once: on a 2-core
// machine they would measure each other), each as its own child process exactly as its own
// npm script runs it (node scripts/run-bundled.mjs <entry> ...). Then one table with every
// figure, its unit and its ratio to the baselines measured in the same run, one JSON file
// bench/results/bench-<timestamp>.json with everything (machine, commit, each benchmark's
// parameters, its own JSON and the figures), and BENCHMARKS.md with its chart
// (bench/results/bench-latest.svg) through bench/report.ts's generator.
//
//   redirect   bench/redirect.ts   (its own results file: the `wrote bench/results/redirect-*.json` line)
//   creates    bench/creates.ts    creates through POST /api/links against node:http + ioredis + redis-server
//   links      bench/links.ts      creates with W=2; memory per link at 1M links
//   live       bench/live.ts       click-to-browser latency, convergence after a partition, fan-out
//   cluster    bench/cluster.ts    join + handoff of K keys, failure detection, restart
//   sim        server/sim/cli.ts   simulator seeds per second (ring and shortener scenarios)
//   quorum     bench/quorum.ts     in-process quorum put+get
//   placement  bench/placement.ts  partition claim quality
//   ring-scale bench/ringScale.ts  the ring simulated at 5 to 256 nodes
//
// npm run bench [-- --quick] [--only a,b] [--skip a,b] [--no-report] [--list]
//   --quick      small sizes and short runs: checks the whole pipeline in a few minutes
//                (figures not representative; the JSON and the report say so)
//   --only/--skip  a subset of the benchmarks above (comma-separated names)
//   --no-report  do not rewrite BENCHMARKS.md and the chart
//   --list       print the plan (commands, expected times) and exit
//
// Every child runs in its own process group. On SIGINT/SIGTERM (or a benchmark's time limit)
// the running one's group gets SIGINT, as on Ctrl-C (each benchmark's own cleanup stops its
// servers), then SIGKILL after 20 s, and what finished so far is still written. Whatever a
// benchmark leaves in its group when it exits is SIGKILLed. Only 127.0.0.1 is used (the
// benchmarks pick free ports).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BenchDoc,
  type BenchEntry,
  type BenchName,
  benchNames,
  benchTitles,
  extractFigures,
  textTable,
  warnings,
} from './lib/benchdoc';
import { writeReport } from './lib/markdown';
import { machineCpuTimes } from './lib/cpu';

// npm runs scripts from the package root (this file is bundled to node_modules/.cache first).
const root = process.cwd();

interface Spec {
  name: BenchName;
  /** The npm script that runs it on its own. */
  npm: string;
  entry: string;
  args: (quick: boolean) => string[];
  /** Takes --json-out FILE (otherwise: its `wrote bench/results/<x>.json` line). */
  jsonOut: boolean;
  /** Expected wall time in seconds on the 2-core machine: [full, quick]. */
  expected: [number, number];
}

const specs: Spec[] = [
  {
    name: 'redirect',
    npm: 'bench:redirect',
    entry: 'bench/redirect.ts',
    args: (q) => (q ? ['--quick'] : []),
    jsonOut: false,
    expected: [240, 90],
  },
  {
    name: 'creates',
    npm: 'bench:creates',
    entry: 'bench/creates.ts',
    args: (q) => (q ? ['--quick'] : []),
    jsonOut: true,
    expected: [90, 30],
  },
  {
    name: 'links',
    npm: 'bench:links',
    entry: 'bench/links.ts',
    args: (q) => (q ? ['--seconds', '3', '--api-links', '5000', '--links', '30000'] : ['--links', '1000000']),
    jsonOut: true,
    expected: [150, 25],
  },
  {
    name: 'live',
    npm: 'bench:live',
    entry: 'bench/live.ts',
    args: (q) => (q ? ['--quick'] : []),
    jsonOut: true,
    expected: [170, 75],
  },
  {
    name: 'cluster',
    npm: 'bench:cluster',
    entry: 'bench/cluster.ts',
    args: (q) => ['--keys', q ? '10000' : '100000'],
    jsonOut: true,
    expected: [60, 15],
  },
  {
    name: 'sim',
    npm: 'sim',
    entry: 'server/sim/cli.ts',
    args: (q) => ['--seeds', q ? '10' : '200', '--start', '1'],
    jsonOut: true,
    expected: [140, 10],
  },
  {
    name: 'quorum',
    npm: 'bench:quorum',
    entry: 'bench/quorum.ts',
    args: (q) => (q ? ['--ops', '20000'] : []),
    jsonOut: true,
    expected: [15, 3],
  },
  {
    name: 'placement',
    npm: 'bench:placement',
    entry: 'bench/placement.ts',
    args: () => [],
    jsonOut: true,
    expected: [5, 5],
  },
  {
    name: 'ring-scale',
    npm: 'bench:ring-scale',
    entry: 'bench/ringScale.ts',
    args: (q) => (q ? ['--quick', '--sizes', '5,10,25'] : []),
    jsonOut: true,
    expected: [600, 30],
  },
];

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    skip: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
  },
});
const quick = argv.quick!;
const parseNames = (flag: string, v: string | undefined): Set<BenchName> => {
  const names = new Set<BenchName>();
  for (const n of (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(benchNames as readonly string[]).includes(n)) {
      console.error(`--${flag}: unknown benchmark ${n} (one of ${benchNames.join(', ')})`);
      process.exit(2);
    }
    names.add(n as BenchName);
  }
  return names;
};
const only = parseNames('only', argv.only);
const skip = parseNames('skip', argv.skip);
const selected = specs.filter((s) => (only.size === 0 || only.has(s.name)) && !skip.has(s.name));
if (selected.length === 0) {
  console.error('nothing to run (--only/--skip leave no benchmark)');
  process.exit(2);
}

const commandOf = (s: Spec) => {
  const args = s.args(quick);
  return `npm run ${s.npm}${args.length ? ` -- ${args.join(' ')}` : ''}`;
};
const expectedOf = (s: Spec) => s.expected[quick ? 1 : 0];
const fmtDuration = (sec: number) =>
  sec < 90 ? `${Math.round(sec)} s` : `${Math.floor(sec / 60)} min ${String(Math.round(sec % 60)).padStart(2, '0')} s`;

if (argv.list) {
  for (const s of selected)
    console.log(`${s.name.padEnd(10)} ~${fmtDuration(expectedOf(s)).padStart(10)}  ${commandOf(s)}`);
  console.log(`${'total'.padEnd(10)} ~${fmtDuration(selected.reduce((t, s) => t + expectedOf(s), 0)).padStart(10)}`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------
// Machine and CPU accounting

const round2 = (x: number) => Math.round(x * 100) / 100;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const cpuTimes = machineCpuTimes;

/** Fraction of all cores busy over the next `ms`. */
async function cpuBusy(ms: number): Promise<number> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  return b.totalMs > a.totalMs ? round2((b.busyMs - a.busyMs) / (b.totalMs - a.totalMs)) : 0;
}

/**
 * CPU used by this process and every descendant it has reaped (Linux: utime + stime +
 * cutime + cstime of /proc/self/stat). A benchmark's process tree lands in cutime/cstime once
 * it exited and was waited for (each level waits for its own children), so the difference
 * around one benchmark is that benchmark's CPU (approximately: orphans are not counted).
 */
function ourCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100; // USER_HZ = 100
  } catch {
    return null;
  }
}

function git(args: string[]): string | null {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function pkgVersion(name: string): string | null {
  try {
    return (
      (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string })
        .version ?? null
    );
  } catch {
    return null;
  }
}

function wrkVersion(): string | null {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return r.error ? null : (/wrk (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? null);
}

function redisVersion(): string | null {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (/v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim()) : null;
}

// ---------------------------------------------------------------------------------------
// Children

let current: ChildProcess | null = null;
let interrupted = false;

/** Signal a child's whole process group (it was spawned detached: its pid is the group id), leader alive or not. */
function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pgid === undefined) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // no process left in the group
  }
}

/** The pids still in process group `pgid` (Linux /proc; empty elsewhere). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  if (process.platform !== 'linux') return out;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** SIGINT to the group (each benchmark's own cleanup stops its servers, as on Ctrl-C), SIGKILL after `graceMs`. */
function stopChild(child: ChildProcess, graceMs = 20_000): void {
  signalGroup(child.pid, 'SIGINT');
  const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), graceMs);
  child.once('close', () => clearTimeout(timer));
}

/** After a benchmark exited: SIGKILL whatever it left in its process group (a node that outlived it), until none is left. */
async function reapGroup(pgid: number | undefined, log: NodeJS.WritableStream): Promise<number[]> {
  if (pgid === undefined) return [];
  const left = groupMembers(pgid);
  if (left.length === 0) return [];
  log.write(`leftover processes in group ${pgid}: ${left.join(', ')}: SIGKILL\n`);
  for (let i = 0; i < 50 && groupMembers(pgid).length > 0; i++) {
    signalGroup(pgid, 'SIGKILL');
    await sleep(100);
  }
  return left;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${sig}: stopping the running benchmark; what finished is still written`);
    if (current) stopChild(current);
  });
}
process.on('exit', () => {
  if (current) signalGroup(current.pid, 'SIGKILL');
});

interface ChildResult {
  pgid: number | undefined;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  tail: string[];
}

function runChild(spec: Spec, args: string[], log: NodeJS.WritableStream, timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/run-bundled.mjs', spec.entry, ...args], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    current = child;
    let stdout = '';
    const tail: string[] = [];
    const prefix = `${spec.name.padEnd(9)}| `;
    const pending = { out: '', err: '' };
    const onData = (which: 'out' | 'err') => (b: Buffer) => {
      const s = b.toString();
      if (which === 'out') stdout += s;
      log.write(s);
      const lines = (pending[which] + s).split('\n');
      pending[which] = lines.pop()!;
      for (const l of lines) {
        process.stderr.write(`${prefix}${l}\n`);
        tail.push(l);
        if (tail.length > 60) tail.shift();
      }
    };
    child.stdout!.on('data', onData('out'));
    child.stderr!.on('data', onData('err'));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`${prefix}timed out after ${fmtDuration(timeoutMs / 1000)}: stopping it`);
      stopChild(child);
    }, timeoutMs);
    child.on('error', (err) => tail.push(`spawn error: ${err.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      for (const which of ['out', 'err'] as const)
        if (pending[which]) {
          process.stderr.write(`${prefix}${pending[which]}\n`);
          tail.push(pending[which]);
        }
      resolve({ pgid: child.pid, exitCode: code, signal, timedOut, stdout, tail });
    });
  });
}

/** The results file a benchmark says it wrote (`wrote bench/results/x.json`), else the newest `<name>-*.json` written since `sinceMs`. */
function ownResultFile(spec: Spec, stdout: string, sinceMs: number): string | null {
  const said = [...stdout.matchAll(/^wrote (\S+\.json)\s*$/gm)].map((m) => m[1]!).pop();
  if (said && existsSync(join(root, said))) return said;
  const dir = join(root, 'bench', 'results');
  if (!existsSync(dir)) return null;
  const fresh = readdirSync(dir)
    .filter((f) => f.startsWith(`${spec.name}-`) && f.endsWith('.json'))
    .filter((f) => statSync(join(dir, f)).mtimeMs >= sinceMs - 1000)
    .sort();
  return fresh.length ? `bench/results/${fresh[fresh.length - 1]}` : null;
}

async function runOne(spec: Spec, tmp: string, log: NodeJS.WritableStream): Promise<BenchEntry> {
  const args = spec.args(quick);
  const outFile = join(tmp, `${spec.name}.json`);
  const childArgs = spec.jsonOut ? [...args, '--json-out', outFile] : args;
  const cpuBusyBefore = await cpuBusy(1000);
  const loadAverageBefore = os.loadavg().map(round2);
  const startedAt = new Date();
  const t0 = performance.now();
  const machineBefore = cpuTimes();
  const oursBefore = ourCpuMs();
  console.error(
    `\n=== ${spec.name}: ${benchTitles[spec.name]} — ${commandOf(spec)} (expected ~${fmtDuration(expectedOf(spec))}; CPU ${Math.round(cpuBusyBefore * 100)}% busy before)`,
  );
  log.write(
    `\n=== ${spec.name} ${startedAt.toISOString()}: node scripts/run-bundled.mjs ${spec.entry} ${childArgs.join(' ')}\n`,
  );
  const timeoutMs = Math.max(10 * 60_000, expectedOf(spec) * 5_000);
  const r = await runChild(spec, childArgs, log, timeoutMs);
  const leftovers = await reapGroup(r.pgid, log);
  const wallSeconds = round2((performance.now() - t0) / 1000);
  const machineAfter = cpuTimes();
  const oursAfter = ourCpuMs();
  const totalMs = machineAfter.totalMs - machineBefore.totalMs;
  const othersCpu =
    oursBefore !== null && oursAfter !== null && totalMs > 0
      ? round2(Math.max(0, (machineAfter.busyMs - machineBefore.busyMs - (oursAfter - oursBefore)) / totalMs))
      : null;

  const entry: BenchEntry = {
    name: spec.name,
    title: benchTitles[spec.name],
    command: commandOf(spec),
    argv: ['node', 'scripts/run-bundled.mjs', spec.entry, ...childArgs.map((a) => (a === outFile ? '<tmp>.json' : a))],
    parameters: { args: args.join(' ') || '(defaults)' },
    startedAt: startedAt.toISOString(),
    wallSeconds,
    exitCode: r.exitCode,
    signal: r.signal,
    timedOut: r.timedOut,
    cpuBusyBefore,
    othersCpu,
    loadAverageBefore,
    resultFile: ownResultFile(spec, r.stdout, startedAt.getTime()),
    error: null,
    outputTail: null,
    result: null,
    figures: null,
  };
  const problems: string[] = [];
  if (leftovers.length)
    console.error(`${spec.name}: killed ${leftovers.length} process(es) it left behind (pids ${leftovers.join(', ')})`);
  if (r.timedOut) problems.push(`timed out after ${fmtDuration(timeoutMs / 1000)}`);
  else if (r.exitCode !== 0) problems.push(`exited with ${r.exitCode ?? r.signal}`);
  let json: unknown = null;
  try {
    if (spec.jsonOut) {
      if (existsSync(outFile)) json = JSON.parse(readFileSync(outFile, 'utf8'));
    } else if (entry.resultFile) json = JSON.parse(readFileSync(join(root, entry.resultFile), 'utf8'));
  } catch (err) {
    problems.push(`unreadable results: ${(err as Error).message}`);
  }
  if (json === null) problems.push('wrote no results');
  else {
    entry.result = json;
    const settings = (json as { settings?: unknown }).settings;
    if (settings && typeof settings === 'object')
      entry.parameters = { ...(settings as Record<string, unknown>), args: entry.parameters.args };
    try {
      entry.figures = extractFigures(spec.name, json);
    } catch (err) {
      problems.push(`no figures: ${(err as Error).message}`);
    }
  }
  if (problems.length) {
    entry.error = problems.join('; ');
    entry.outputTail = r.tail.slice(-30).join('\n');
  }
  console.error(
    `=== ${spec.name}: ${entry.error ? `PROBLEM: ${entry.error}` : 'done'} in ${fmtDuration(wallSeconds)}${othersCpu !== null ? `; other processes' CPU meanwhile ${Math.round(othersCpu * 100)}%` : ''}`,
  );
  return entry;
}

// ---------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const startedAt = new Date();
  const t0 = performance.now();
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(root, 'dist', 'server.mjs')))
    console.error('warning: dist/server.mjs is missing: run through `npm run bench` (it builds first)');
  const cpus = os.cpus();
  const dirty = git(['status', '--porcelain', '--untracked-files=no']);
  const doc: BenchDoc = {
    benchmark: 'all',
    formatVersion: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    wallSeconds: 0,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    quick,
    only: selected.map((s) => s.name),
    skipped: specs.filter((s) => !selected.includes(s)).map((s) => s.name),
    machine: {
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      cpus: cpus.length,
      availableParallelism: os.availableParallelism(),
      memoryGiB: round2(os.totalmem() / 2 ** 30),
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      gitCommit: git(['rev-parse', 'HEAD']),
      gitDirtyFiles: dirty === null ? null : dirty.split('\n').filter(Boolean).length,
      versions: {
        autocannon: pkgVersion('autocannon'),
        wrk: wrkVersion(),
        next: pkgVersion('next'),
        ioredis: pkgVersion('ioredis'),
        'redis-server': redisVersion(),
        'socket.io': pkgVersion('socket.io'),
        'socket.io-client': pkgVersion('socket.io-client'),
        esbuild: pkgVersion('esbuild'),
      },
      loadAverageBefore: os.loadavg().map(round2),
      cpuBusyBefore: await cpuBusy(1000),
    },
    benchmarks: [],
  };
  const total = selected.reduce((t, s) => t + expectedOf(s), 0);
  console.error(
    `npm run bench${quick ? ' --quick' : ''}: ${selected.map((s) => s.name).join(', ')} — one at a time, expected ~${fmtDuration(total)}; ${doc.machine.cpus}x ${doc.machine.cpuModel}, node ${doc.machine.node}, CPU ${Math.round(doc.machine.cpuBusyBefore * 100)}% busy before`,
  );
  if (doc.machine.cpuBusyBefore > 0.15)
    console.error('warning: other work is running on this machine: it will skew the figures');

  const logFile = join(dir, `bench-${stamp}.log`);
  const log = createWriteStream(logFile);
  const tmp = mkdtempSync(join(os.tmpdir(), 'ringlink-bench-all-'));
  try {
    for (const [i, spec] of selected.entries()) {
      if (interrupted) break;
      if (i > 0) await sleep(2000); // let the previous benchmark's processes and sockets go
      doc.benchmarks.push(await runOne(spec, tmp, log));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await new Promise<void>((resolve) => log.end(resolve));
  }
  doc.finishedAt = new Date().toISOString();
  doc.wallSeconds = round2((performance.now() - t0) / 1000);

  const file = join(dir, `bench-${stamp}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);

  console.log(
    `\nringlink benchmarks${quick ? ' (--quick: pipeline check, not representative)' : ''}: ${doc.machine.cpus}x ${doc.machine.cpuModel}, node ${doc.machine.node}, commit ${doc.machine.gitCommit?.slice(0, 12) ?? '?'}${doc.machine.gitDirtyFiles ? ` +${doc.machine.gitDirtyFiles} changed` : ''}; ${fmtDuration(doc.wallSeconds)}`,
  );
  console.log(
    'One machine: the load generator, the baselines and every node share its cores. Ratios: figure / the baseline of this run (latency pairs: p50 / p99).\n',
  );
  console.log(textTable(doc));
  console.log(
    '\nwall time: ' +
      doc.benchmarks
        .map(
          (b) =>
            `${b.name} ${fmtDuration(b.wallSeconds)}${b.othersCpu !== null && b.othersCpu > 0.1 ? ` (others' CPU ${Math.round(b.othersCpu * 100)}%)` : ''}`,
        )
        .join(', '),
  );
  const warn = warnings(doc);
  if (warn.length) console.log(`\nwarnings:\n${warn.map((w) => `  - ${w}`).join('\n')}`);
  for (const b of doc.benchmarks) if (b.outputTail) console.log(`\n${b.name} output (last lines):\n${b.outputTail}`);
  console.log(`\nwrote ${relative(root, file)} (output of every benchmark: ${relative(root, logFile)})`);
  if (!argv['no-report'] && !interrupted) {
    try {
      for (const f of writeReport(root, file)) console.log(`wrote ${f}`);
    } catch (err) {
      console.error(`report failed: ${(err as Error).stack ?? err}`);
      return 1;
    }
  }
  if (interrupted) return 130;
  return doc.benchmarks.some((b) => b.error) ? 1 : 0;
}

process.exitCode = await main();
