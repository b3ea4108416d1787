// The ring at 5 to 256 nodes, in the deterministic simulator (ring/sim/scale.ts): real RingNode
// code with the production protocol timings, through joins, a leave, a crash, a partition and
// 1% message loss. Per size: membership bytes per node per second at steady state, how long a
// ring change takes to reach every node, partitions moved per join against the ideal, the
// handoff plan, the claimant's CPU per ring change, time to 'dead' after a crash, and false
// suspicions per hour under loss. Virtual time: every figure but the claim CPU is a function of
// the seed.
//
//   npm run bench:ring-scale                         n = 5, 10, 25, 50, 100 (Q = 1024), 256 (Q = 4096)
//   npm run bench:ring-scale -- --sizes 10:256,50    n[:Q], comma-separated (Q defaults to 1024)
//   ... --quick                                      shorter steady and loss phases (not representative)
//   ... --loss-seconds S --steady-seconds S --joins J --seed N
//   ... --json                                       JSON on stdout
//   ... --json-out FILE                              also write the JSON to FILE (used by `npm run bench`)
//
// Writes bench/results/ring-scale-<timestamp>.json and, unless --quick, the chart
// bench/results/ring-scale-latest.svg (BENCHMARKS.md shows both; `npm run bench:report` rewrites it).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { initHash } from '../ring';
import { defaultScaleOptions, measureRingScale, type ScalePoint } from '../ring/sim';
import { extractRingScale } from './lib/benchdoc';
import { ringScaleChart, ringScaleChartFile } from './lib/markdown';

/** The goals at 100 nodes (issue 17 part 5). */
export const goals = {
  nodes: 100,
  membershipBytesPerNodePerSec: 2048,
  propagationP99Ms: 2_000,
  moveRatio: 1.1,
  falseDeadPerHour: 0,
};

const { values: argv } = parseArgs({
  options: {
    sizes: { type: 'string', default: '5,10,25,50,100,256:4096' },
    quick: { type: 'boolean', default: false },
    'loss-seconds': { type: 'string' },
    'steady-seconds': { type: 'string' },
    joins: { type: 'string' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    'json-out': { type: 'string' },
  },
});

const num = (flag: string, v: string | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0) throw new Error(`--${flag} must be a number >= 0, got ${v}`);
  return x;
};
const sizes = argv
  .sizes!.split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((s) => {
    const [n, q] = s.split(':');
    const nodes = Number(n);
    const ringSize = q === undefined ? 1024 : Number(q);
    if (!Number.isInteger(nodes) || nodes < 3) throw new Error(`--sizes: node count must be an integer >= 3, got ${n}`);
    return { nodes, ringSize };
  });
const quick = argv.quick!;
const settings = {
  seed: num('seed', argv.seed, 1),
  steadyMs: num('steady-seconds', argv['steady-seconds'], quick ? 3 : defaultScaleOptions.steadyMs / 1000) * 1000,
  lossMs: num('loss-seconds', argv['loss-seconds'], quick ? 20 : defaultScaleOptions.lossMs / 1000) * 1000,
  joins: num('joins', argv.joins, quick ? 2 : defaultScaleOptions.joins),
};

await initHash();
const startedAt = new Date();
const points: ScalePoint[] = [];
for (const size of sizes) {
  const p = measureRingScale({ ...size, ...settings });
  points.push(p);
  if (!argv.json) process.stderr.write(`n=${p.nodes} Q=${p.ringSize}: ${(p.wallMs / 1000).toFixed(1)} s wall\n`);
}

const at = points.find((p) => p.nodes === goals.nodes);
const goalChecks = at
  ? {
      membershipBytes: at.steady.bytesPerNodePerSec.membership <= goals.membershipBytesPerNodePerSec,
      propagationP99: at.propagation.p99Ms <= goals.propagationP99Ms && at.propagation.missing === 0,
      moves: at.changes.filter((c) => c.step.startsWith('join')).every((c) => c.ratio <= goals.moveRatio),
      noFalseDead: at.loss.falseDead === 0,
    }
  : null;
const command = `npm run bench:ring-scale${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const doc = {
  benchmark: 'ring-scale',
  startedAt: startedAt.toISOString(),
  command,
  quick,
  settings: { ...settings, sizes: argv.sizes },
  goals,
  goalChecks,
  points,
};

// npm runs scripts from the package root (this file is bundled to node_modules/.cache first).
const resultsDir = join(process.cwd(), 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const stamp = startedAt
  .toISOString()
  .replace(/\.\d{3}Z$/, 'Z')
  .replace(/:/g, '-');
const ownFile = `bench/results/ring-scale-${stamp}.json`;
writeFileSync(join(process.cwd(), ownFile), `${JSON.stringify(doc, null, 2)}\n`);
const written = [ownFile];
if (!quick) {
  const svg = ringScaleChart(
    extractRingScale(doc),
    [`${doc.startedAt.slice(0, 16).replace('T', ' ')} UTC; seed ${settings.seed}; virtual time (deterministic)`],
    [`Generated by bench/ringScale.ts: ${command}`],
  );
  writeFileSync(join(process.cwd(), ringScaleChartFile), svg);
  written.push(ringScaleChartFile);
}

const jsonOut = argv['json-out'];
if (jsonOut) {
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(`${jsonOut}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(`${jsonOut}.tmp`, jsonOut);
}

if (argv.json) {
  process.stderr.write(`wrote ${written.join(' and ')}\n`);
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
} else {
  const pad = (v: unknown, width: number): string => String(v).padStart(width);
  const joins = (p: ScalePoint) => p.changes.filter((c) => c.step.startsWith('join'));
  const missed = (k: number) => (k ? ` (${k} missed)` : '');
  const worst = <T>(xs: T[], f: (x: T) => number) => Math.max(0, ...xs.map(f));
  const mean = <T>(xs: T[], f: (x: T) => number) => (xs.length ? xs.reduce((t, x) => t + f(x), 0) / xs.length : 0);
  console.log(
    `The ring in the simulator: production timings (gossip every ${points[0]?.config.gossipIntervalMs} ms to ` +
      `${points[0]?.config.gossipFanout} peers, a probe every ${points[0]?.config.probeIntervalMs} ms, suspicion ` +
      `timeout ${points[0]?.config.suspectTimeoutMs} ms), N=${points[0]?.config.nVal}, seed ${settings.seed}.`,
  );
  console.log('Bytes: JSON length of every message sent at steady state, per node per second.');
  console.log('Change: a ring change (joiner known; joiner valid with claims; leaver leaving; its plan) reaching');
  console.log('every node, over nodes and changes. Moves: per join, partitions whose owner changed / (Q/(n+1)).\n');
  console.log(
    '   n     Q  gossip B/s  SWIM B/s   total B/s  change p50/p99 ms  moves/ideal  plan  copies  claim ms' +
      '  dead p50/p99 ms  heal ms  suspect/h  dead/h',
  );
  for (const p of points) {
    const b = p.steady.bytesPerNodePerSec;
    const js = joins(p);
    console.log(
      [
        pad(p.nodes, 4),
        pad(p.ringSize, 6),
        pad(Math.round(b.gossip), 12),
        pad(Math.round(b.liveness), 10),
        pad(Math.round(b.total), 12),
        pad(`${p.propagation.p50Ms}/${p.propagation.p99Ms}${missed(p.propagation.missing)}`, 19),
        pad(`${worst(js, (c) => c.ratio).toFixed(2)}`, 13),
        pad(Math.round(mean(js, (c) => c.planTransfers)), 6),
        pad(Math.round(mean(js, (c) => c.replicaCopies)), 8),
        pad(worst(p.changes, (c) => c.claimMs).toFixed(1), 10),
        pad(`${p.crashToDead.p50Ms}/${p.crashToDead.p99Ms}`, 17),
        pad(p.partition.allAliveAfterHealMs ?? 'never', 9),
        pad(p.loss.falseSuspectPerHour, 11),
        pad(p.loss.falseDeadPerHour, 8),
      ].join(''),
    );
  }
  console.log('\nPer step (moves are against Q/(n+1) for a join, what the leaver owned for a leave):\n');
  console.log('   n  step          moved  ideal  ratio  plan  copies  claim ms  settled after ms');
  for (const p of points)
    for (const c of p.changes)
      console.log(
        [
          pad(p.nodes, 4),
          `  ${c.step.padEnd(12)}`,
          pad(c.moved, 6),
          pad(c.ideal.toFixed(1), 7),
          pad(c.ratio.toFixed(2), 7),
          pad(c.planTransfers, 6),
          pad(c.replicaCopies, 8),
          pad(c.claimMs.toFixed(2), 10),
          pad(c.settleMs ?? 'not settled', 18),
        ].join(''),
      );
  if (goalChecks && at) {
    console.log(`\nGoals at ${goals.nodes} nodes:`);
    const b = at.steady.bytesPerNodePerSec.membership;
    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    const worstRatio = worst(joins(at), (c) => c.ratio).toFixed(2);
    console.log(`  membership gossip <= 2 KB/s per node: ${Math.round(b)} B/s ${met(goalChecks.membershipBytes)}`);
    console.log(
      `  ring change everywhere within 2 s p99: ${at.propagation.p99Ms} ms ${met(goalChecks.propagationP99)}`,
    );
    console.log(`  moves within 1.1x ideal: worst ${worstRatio} ${met(goalChecks.moves)}`);
    const lossPct = at.loss.rate * 100;
    const falseDead = `${at.loss.falseDead} in ${at.loss.seconds} s`;
    console.log(`  no false dead under ${lossPct}% loss: ${falseDead} ${met(goalChecks.noFalseDead)}`);
  }
  console.log(`\nwrote ${written.join(' and ')}`);
}
