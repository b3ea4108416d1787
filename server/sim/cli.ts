// npm run sim: every seed runs the ring's scenario (ring/sim/scenario.ts), the same with
// ZONE set over 3 zones, and the shortener's (scenario.ts here), on worker threads. Flags (ring/sim/runner.ts):
//   npm run sim -- --seeds N [--start S] [--workers W] [--nodes 5] [--active-ms MS] [--only ring|ring-zones|shortener]
//   npm run sim -- --seed S --verbose      (replays one seed and prints its trace)
import { isMainThread } from 'node:worker_threads';
import { ringSim, ringZonesSim, simCli, simWorker } from '../../ring/sim';
import { shortenerSim } from './scenario';

const kinds = [ringSim, ringZonesSim, shortenerSim];
if (isMainThread) void simCli(kinds, import.meta.url, 'npm run sim --');
else await simWorker(kinds);
