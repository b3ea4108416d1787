// Quality of the partition claim (ring/placement/claim.ts). For Q in {64, 256} and nVal = 3,
// the ring is built by successive joins from one node; for n = 3..8 members it reports the
// most and fewest partitions per node and the violating windows (nVal consecutive partitions
// not on distinct nodes), and for each join n -> n+1 the partitions moved against the ideal
// Q/(n+1). It also reports leaves n -> n-1 (worst and mean over which node leaves) against
// what the leaver owned, and the time per claim.
//
//   npx tsx bench/placement.ts           table
//   npx tsx bench/placement.ts --json    JSON on stdout
//   ... --json-out FILE                  also write the JSON to FILE (used by `npm run bench`)
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { claimGuarantee, claimPartitions, countMoves, ownershipCounts, windowViolations } from '../ring';

const RING_SIZES = [64, 256];
const N_VAL = 3;
const N_MIN = 3;
const N_MAX = 8;

interface RingRow {
  ringSize: number;
  nodes: number;
  maxPerNode: number;
  minPerNode: number;
  windowViolations: number;
  feasible: boolean;
  /** Partitions moved by the join that brought the ring to `nodes` (from nodes-1). */
  joinMoves: number;
  /** Q / nodes: the fewest partitions a join to `nodes` can move. */
  joinIdeal: number;
  joinRatio: number;
  joinMs: number;
}

interface LeaveRow {
  ringSize: number;
  /** Members before the leave. */
  from: number;
  worstMoves: number;
  worstDeparted: number;
  worstRatio: number;
  meanRatio: number;
}

function nodes(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const ringRows: RingRow[] = [];
const leaveRows: LeaveRow[] = [];

for (const ringSize of RING_SIZES) {
  let current: string[] | null = null;
  for (let n = 1; n <= N_MAX; n++) {
    const members = nodes(n);
    const start = performance.now();
    const next = claimPartitions({ ringSize, nVal: N_VAL, members, current });
    const ms = performance.now() - start;
    if (n >= N_MIN) {
      const counts = [...ownershipCounts(next).values()];
      const moves = current === null ? ringSize : countMoves(current, next);
      const ideal = ringSize / n;
      ringRows.push({
        ringSize,
        nodes: n,
        maxPerNode: Math.max(...counts),
        minPerNode: Math.min(...counts),
        windowViolations: windowViolations(next, N_VAL),
        feasible: claimGuarantee(ringSize, N_VAL, n).feasible,
        joinMoves: moves,
        joinIdeal: round(ideal),
        joinRatio: round(moves / ideal),
        joinMs: round(ms, 1),
      });
      // Every possible single leave from this ring.
      let worst = { moves: 0, departed: 1, ratio: 0 };
      let sum = 0;
      for (const gone of members) {
        const rest = members.filter((m) => m !== gone);
        const after = claimPartitions({ ringSize, nVal: N_VAL, members: rest, current: next });
        const departed = next.filter((o) => o === gone).length;
        const moved = countMoves(next, after);
        const ratio = moved / departed;
        sum += ratio;
        if (ratio > worst.ratio) worst = { moves: moved, departed, ratio };
      }
      leaveRows.push({
        ringSize,
        from: n,
        worstMoves: worst.moves,
        worstDeparted: worst.departed,
        worstRatio: round(worst.ratio),
        meanRatio: round(sum / members.length),
      });
    }
    current = next;
  }
}

const jsonOutAt = process.argv.indexOf('--json-out');
const jsonOut = jsonOutAt >= 0 ? process.argv[jsonOutAt + 1] : undefined;
if (jsonOutAt >= 0 && !jsonOut) throw new Error('--json-out needs a file name');
if (jsonOut) {
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(
    `${jsonOut}.tmp`,
    `${JSON.stringify({ benchmark: 'placement', nVal: N_VAL, rings: ringRows, leaves: leaveRows }, null, 2)}\n`,
  );
  renameSync(`${jsonOut}.tmp`, jsonOut);
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ nVal: N_VAL, rings: ringRows, leaves: leaveRows }, null, 2)}\n`);
} else {
  const pad = (v: unknown, width: number): string => String(v).padStart(width);
  console.log(`Claim quality, nVal=${N_VAL}, ring built by successive joins from 1 node.`);
  console.log('Join moves: partitions whose owner changed when node n joined (n-1 -> n); ideal Q/n.\n');
  console.log('    Q   n  max/node  min/node  violations  feasible  join n-1->n  moved  ideal  ratio   ms');
  for (const r of ringRows) {
    console.log(
      [
        pad(r.ringSize, 5),
        pad(r.nodes, 3),
        pad(r.maxPerNode, 9),
        pad(r.minPerNode, 9),
        pad(r.windowViolations, 11),
        pad(r.feasible ? 'yes' : 'no', 9),
        pad(`${r.nodes - 1}->${r.nodes}`, 12),
        pad(r.joinMoves, 6),
        pad(r.joinIdeal.toFixed(1), 6),
        pad(r.joinRatio.toFixed(2), 6),
        pad(r.joinMs.toFixed(1), 5),
      ].join(''),
    );
  }
  console.log('\nLeaves n -> n-1 (every choice of leaving node): moved / partitions the leaver owned.\n');
  console.log('    Q  leave  worst moved/owned  worst ratio  mean ratio');
  for (const r of leaveRows) {
    console.log(
      [
        pad(r.ringSize, 5),
        pad(`${r.from}->${r.from - 1}`, 7),
        pad(`${r.worstMoves}/${r.worstDeparted}`, 19),
        pad(r.worstRatio.toFixed(2), 13),
        pad(r.meanRatio.toFixed(2), 12),
      ].join(''),
    );
  }
}
