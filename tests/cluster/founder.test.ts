// Deployments where every node lists the others in SEEDS (docker-compose.yml, a StatefulSet):
// a node with SEEDS never founds a ring by itself, so one node has FOUNDER=1. With no ring
// state and no seed ready, it founds the cluster the others join; with its volume replaced
// while the others run, it joins them instead of founding a second cluster (server/main.ts).
import { describe, expect, it } from 'vitest';
import {
  cluster,
  freePort,
  type Harness,
  kill,
  type RingProcess,
  waitExit,
  waitReady,
  waitSettled,
} from '../../testkit';
import { useHarness } from '../../testkit/vitest';

let h: Harness;
useHarness((x) => (h = x), { build: true });

const names = ['f1', 'f2', 'f3'];

async function memberNames(n: RingProcess): Promise<string[]> {
  return (await cluster(n)).members.map((m) => m.name).sort();
}

describe('FOUNDER=1 with every node seeding the others', () => {
  it('founds the cluster on a first start, and joins it (not a second one) after its volume is replaced', async () => {
    const ports = await Promise.all(names.map(() => freePort()));
    const addr = (i: number) => `127.0.0.1:${ports[i]}`;
    const seedsOf = (i: number) =>
      names
        .map((_, j) => j)
        .filter((j) => j !== i)
        .map(addr);
    // All three at once, like `docker compose up`: f1 founds, f2 and f3 retry their seeds until it has.
    const nodes = await Promise.all(
      names.map((name, i) =>
        h.startNode({
          name,
          port: ports[i]!,
          seeds: seedsOf(i),
          dataDir: true,
          ...(i === 0 ? { env: { FOUNDER: '1', LOG_LEVEL: 'info' } } : {}),
        }),
      ),
    );
    await Promise.all(nodes.map((n) => waitReady(n, 60_000)));
    await waitSettled(nodes, 60_000);
    for (const n of nodes) expect(await memberNames(n)).toEqual(names);
    expect(nodes[0]!.output()).toMatch(/founding a new cluster/);

    // f1 loses its volume: back with FOUNDER=1 and an empty DATA_DIR, it finds f2 ready and joins.
    kill(nodes[0]!);
    await waitExit(nodes[0]!, 10_000);
    const again = await h.restart(nodes[0]!, { dataDir: true });
    await waitReady(again, 60_000);
    await waitSettled([again, nodes[1]!, nodes[2]!], 60_000);
    expect(again.output()).toMatch(/a seed is ready, joining the running cluster/);
    expect(await memberNames(again)).toEqual(names);
    expect(await memberNames(nodes[1]!)).toEqual(names);
  }, 180_000);
});
