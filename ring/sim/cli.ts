// The ring's simulator alone: node scripts/run-bundled.mjs ring/sim/cli.ts --seeds N ...
// (flags in runner.ts). `npm run sim` runs these seeds and the shortener's (server/sim/cli.ts).
import { isMainThread } from 'node:worker_threads';
import { simCli, simWorker } from './runner';
import { ringSim } from './scenario';

if (isMainThread) void simCli([ringSim], import.meta.url, 'node scripts/run-bundled.mjs ring/sim/cli.ts');
else await simWorker([ringSim]);
