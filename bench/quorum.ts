// In-process quorum throughput: a 5-node ring on the simulated network with 1 ms links and
// no faults; C concurrent clients each loop put-then-get on their own keys through random
// nodes. Wall-clock time measures the CPU cost of the ring's code paths per operation
// (coordination, versioning, replication, read merge, message handling), not the network.
//
// npm run bench:quorum [-- --ops 200000 --clients 64 --nodes 5 --json --json-out FILE]
//   --json       print the figures as one JSON line on stdout (instead of the text)
//   --json-out   also write them to FILE (used by `npm run bench`)
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { initHash } from '../ring';
import type { VersionVector } from '../ring';
import { SimWorld, simRingConfig } from '../ring/sim';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '200000' },
    clients: { type: 'string', default: '64' },
    nodes: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    'json-out': { type: 'string' },
  },
});
const opsTarget = Number(values.ops);
const clients = Number(values.clients);
const nodeCount = Number(values.nodes);

await initHash();
const world = new SimWorld(42, simRingConfig({ ringSize: 64, requestTimeoutMs: 2_000 }));
world.net.setFaults({ minDelayMs: 1, maxDelayMs: 1, dropRate: 0, duplicateRate: 0, reorder: false });
world.addNode('n0', []);
for (let i = 1; i < nodeCount; i++) world.addNode(`n${i}`, ['n0']);
world.run(5_000);
const nodes = world.upNodes().map((s) => s.node);
if (nodes.some((n) => !n.ready())) throw new Error('cluster did not form');

let puts = 0;
let gets = 0;
let errors = 0;
let done = 0;
const started = performance.now();
const virtualStart = world.now();
const rnd = world.random.fork('bench');

// A write's context must come from the same key (its last write or read).
const contexts = new Map<string, VersionVector>();
function client(c: number, i: number): void {
  if (done >= opsTarget) return;
  const key = `kv/c${c}-${i % 100}`;
  const node = nodes[rnd.int(nodes.length)]!;
  node.put(key, `v${i}`, contexts.get(key) ?? {}, (err, res) => {
    done++;
    if (err) errors++;
    else {
      puts++;
      contexts.set(key, res!.context);
    }
    nodes[rnd.int(nodes.length)]!.get(key, (err2) => {
      done++;
      if (err2) errors++;
      else gets++;
      client(c, i + 1);
    });
  });
}
for (let c = 0; c < clients; c++) client(c, 0);
while (done < opsTarget) world.run(100);
const seconds = (performance.now() - started) / 1000;
const result = {
  nodes: nodeCount,
  nVal: world.config.nVal,
  r: world.config.r,
  w: world.config.w,
  clients,
  puts,
  gets,
  errors,
  wallSeconds: +seconds.toFixed(2),
  opsPerSecond: Math.round((puts + gets) / seconds),
  virtualSeconds: +((world.now() - virtualStart) / 1000).toFixed(1),
  messages: world.net.stats.delivered,
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `quorum put/get in process: ${nodeCount} nodes, N=${result.nVal} R=${result.r} W=${result.w}, ${clients} clients`,
  );
  console.log(
    `  ${puts} puts + ${gets} gets (${errors} errors) in ${result.wallSeconds} s wall = ${result.opsPerSecond} ops/s (${result.messages} messages delivered)`,
  );
}
if (values['json-out']) {
  const file = values['json-out'];
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    `${file}.tmp`,
    `${JSON.stringify({ benchmark: 'quorum', settings: { ops: opsTarget, clients, nodes: nodeCount }, result }, null, 2)}\n`,
  );
  renameSync(`${file}.tmp`, file);
}
