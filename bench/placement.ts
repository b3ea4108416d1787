// Quality of the partition claim (ring/placement/claim.ts). For Q in {64, 256} and nVal = 3,
// the ring is built by successive joins from one node; for n = 3..8 members it reports the
// most and fewest partitions per node and the violating windows (nVal consecutive partitions
// not on distinct nodes), and for each join n -> n+1 the partitions moved against the ideal
// Q/(n+1). It also reports leaves n -> n-1 (worst and mean over which node leaves) against
// what the leaver owned, and the time per claim.
// With zones (ZONE; ring/placement/zones.ts): for 3 and 4 zones, nodes n1, n2, ... dealt
// round-robin over the zones and joined one by one up to 12, it reports for n = zones..12 the
// windows not in nVal distinct zones, the balance within each zone (most - fewest per node of a
// zone) and across zones, and each join's moves against the ideal: the joiner's fair share of
// its zone, (Q/zones)/(nodes of the zone), or Q/n for the join that brings zones into play.
//
//   npx tsx bench/placement.ts           table
//   npx tsx bench/placement.ts --json    JSON on stdout
//   ... --json-out FILE                  also write the JSON to FILE (used by `npm run bench`)
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  claimGuarantee,
  claimPartitions,
  countMoves,
  ownershipCounts,
  walk,
  windowViolations,
  zoneWindowViolations,
} from '../ring';

const RING_SIZES = [64, 256];
const N_VAL = 3;
const N_MIN = 3;
const N_MAX = 8;
const ZONE_COUNTS = [3, 4];
const ZONED_N_MAX = 12;

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

interface ZoneRow {
  ringSize: number;
  zones: number;
  nodes: number;
  /** Windows of nVal consecutive partitions not in nVal distinct zones. */
  zoneViolations: number;
  /** What claimGuarantee allows for the zones (0 when a zone-distinct layout exists). */
  zoneViolationsAllowed: number;
  /** Preference lists (the walk that skips zones already picked) not on nVal distinct zones. */
  prefListsNotZoneDistinct: number;
  /** Most minus fewest partitions per node, worst over zones. */
  spreadWithinZone: number;
  /** Most minus fewest partitions per zone. */
  spreadAcrossZones: number;
  joinMoves: number;
  joinIdeal: number;
  joinRatio: number;
  /** Partitions whose zone changed in that join. */
  joinZoneMoves: number;
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

const zoneRows: ZoneRow[] = [];
for (const ringSize of RING_SIZES) {
  for (const zoneCount of ZONE_COUNTS) {
    const zoneOf = new Map<string, string>();
    let current: string[] | null = null;
    for (let n = 1; n <= ZONED_N_MAX; n++) {
      const members = nodes(n);
      const joiner = members[n - 1]!;
      zoneOf.set(joiner, `z${(n - 1) % zoneCount}`);
      const zones = Object.fromEntries(zoneOf);
      const next = claimPartitions({ ringSize, nVal: N_VAL, members, current, zones });
      if (n >= zoneCount) {
        const counts = ownershipCounts(next);
        const perZone = new Map<string, number[]>();
        for (const m of members)
          perZone.set(zoneOf.get(m)!, [...(perZone.get(zoneOf.get(m)!) ?? []), counts.get(m) ?? 0]);
        const zoneTotals = [...perZone.values()].map((c) => c.reduce((a, b) => a + b, 0));
        const spreads = [...perZone.values()].map((c) => Math.max(...c) - Math.min(...c));
        const zoneNodes = perZone.get(zoneOf.get(joiner)!)!.length;
        const ideal = n === zoneCount ? ringSize / n : ringSize / zoneCount / zoneNodes;
        const moves = current === null ? ringSize : countMoves(current, next);
        let zoneMoves = 0;
        for (let p = 0; p < ringSize; p++) {
          const before = current?.[p];
          if (before === undefined || zoneOf.get(before) !== zoneOf.get(next[p]!)) zoneMoves++;
        }
        zoneRows.push({
          ringSize,
          zones: zoneCount,
          nodes: n,
          zoneViolations: zoneWindowViolations(next, N_VAL, zoneOf),
          zoneViolationsAllowed: claimGuarantee(ringSize, N_VAL, zoneCount).maxViolations,
          prefListsNotZoneDistinct: next.filter(
            (_, p) => new Set(walk(next, p, N_VAL, zoneOf).map((m) => zoneOf.get(m))).size !== N_VAL,
          ).length,
          spreadWithinZone: Math.max(...spreads),
          spreadAcrossZones: Math.max(...zoneTotals) - Math.min(...zoneTotals),
          joinMoves: moves,
          joinIdeal: round(ideal),
          joinRatio: round(moves / ideal),
          joinZoneMoves: zoneMoves,
        });
      }
      current = next;
    }
  }
}

const jsonOutAt = process.argv.indexOf('--json-out');
const jsonOut = jsonOutAt >= 0 ? process.argv[jsonOutAt + 1] : undefined;
if (jsonOutAt >= 0 && !jsonOut) throw new Error('--json-out needs a file name');
if (jsonOut) {
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(
    `${jsonOut}.tmp`,
    `${JSON.stringify({ benchmark: 'placement', nVal: N_VAL, rings: ringRows, leaves: leaveRows, zoned: zoneRows }, null, 2)}\n`,
  );
  renameSync(`${jsonOut}.tmp`, jsonOut);
}

if (process.argv.includes('--json')) {
  const doc = { nVal: N_VAL, rings: ringRows, leaves: leaveRows, zoned: zoneRows };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
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
  console.log('\nWith zones: nodes n1, n2, ... dealt round-robin over the zones, joined one by one.');
  console.log("Ideal join: (Q/zones)/(nodes of the joiner's zone); Q/n for the join that brings zones into play.");
  console.log('Zone violations: claim windows not in 3 distinct zones (allowed); pref lists: not in 3 zones.\n');
  console.log(
    '    Q  zones   n  zone-violations  pref lists  spread in zone  across zones  moved  ideal  ratio  zone moves',
  );
  for (const r of zoneRows) {
    console.log(
      [
        pad(r.ringSize, 5),
        pad(r.zones, 7),
        pad(r.nodes, 4),
        pad(`${r.zoneViolations} (<= ${r.zoneViolationsAllowed})`, 17),
        pad(r.prefListsNotZoneDistinct, 12),
        pad(r.spreadWithinZone, 16),
        pad(r.spreadAcrossZones, 14),
        pad(r.joinMoves, 7),
        pad(r.joinIdeal.toFixed(1), 7),
        pad(r.joinRatio.toFixed(2), 7),
        pad(r.joinZoneMoves, 12),
      ].join(''),
    );
  }
}
