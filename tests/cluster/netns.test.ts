// A real network partition: three nodes, each in its own network namespace on a bridge,
// partitioned by iptables inside one namespace (by address, so ephemeral source ports
// cannot slip through, unlike port-based rules). Runs only as root with iproute2 and
// iptables present (CI runs as root; `npm test` installs them); elsewhere it is skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, ensureBuilt, Harness, NetNs, netnsAvailable, type RingProcess, waitFor } from '../../testkit';

const canRun = netnsAvailable().ok;
const tag = String(process.pid % 1000);
// Names and a subnet of this test's own (the chaos runner uses the prefix rlc and 10.200-219).
const net = new NetNs({ prefix: 'rlt', tag, size: 3, subnet: `10.${77 + (process.pid % 100)}.0` });
const names = ['n1', 'n2', 'n3'];
const nodes: RingProcess[] = [];

const admin = (i: number, path: string, init: RequestInit = {}) =>
  fetch(`${nodes[i]!.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(3_000),
  });

async function liveness(i: number): Promise<Record<string, string>> {
  const c = (await (await admin(i, '/api/cluster')).json()) as { members: { name: string; liveness: string }[] };
  return Object.fromEntries(c.members.map((m) => [m.name, m.liveness]));
}

describe.skipIf(!canRun)('network partition between namespaces (root only)', () => {
  // Listening beyond loopback: a node refuses to start without a cluster secret.
  const h = new Harness({ secret: 'netns-cluster-secret-0123456789' });

  beforeAll(async () => {
    ensureBuilt();
    net.setup();
    for (let i = 0; i < 3; i++) {
      const seeds = i === 0 ? [] : [nodes[0]!];
      nodes.push(await h.spawnNode({ name: names[i]!, host: net.ip(i), port: 3000, seeds, wrap: net.exec(i) }));
      if (i === 0) {
        const n1Ready = async () => (await admin(0, '/readyz')).ok;
        await waitFor(n1Ready, { timeoutMs: 20_000, what: 'n1 ready' }).catch((err: Error) => {
          throw new Error(`${err.message}; n1 said:\n${nodes[0]!.log.text()}`);
        });
      }
    }
    await waitFor(
      async () => {
        for (let i = 0; i < 3; i++) {
          if (!(await admin(i, '/readyz')).ok) return false;
          if (Object.values(await liveness(i)).some((l) => l !== 'alive')) return false;
        }
        return true;
      },
      { timeoutMs: 30_000, what: 'all ready and all alive' },
    );
  }, 60_000);

  afterAll(async () => {
    await h.cleanup();
    net.teardown();
  });

  it('the majority keeps writing, the isolated minority refuses writes, and healing converges', async () => {
    const isolate = (on: boolean) => {
      if (!on) return net.heal();
      for (const other of [1, 2]) {
        net.dropFrom(0, other);
        net.dropTo(0, other);
      }
    };
    isolate(true);
    try {
      // Both sides notice.
      const n1Gone = async () => (await liveness(1)).n1 !== 'alive';
      await waitFor(n1Gone, { timeoutMs: 15_000, what: 'n2 sees n1 not alive' });
      await waitFor(
        async () => {
          const l = await liveness(0);
          return l.n2 === 'dead' && l.n3 === 'dead';
        },
        { timeoutMs: 15_000, what: 'n1 declares n2 and n3 dead' },
      );
      // The majority side accepts writes (W=2 from n2 and n3).
      for (let k = 0; k < 30; k++) {
        const res = await admin(1, `/api/admin/kv/part${k}`, {
          method: 'PUT',
          body: JSON.stringify({ value: `v${k}` }),
        });
        expect(res.status, await res.text()).toBe(200);
      }
      // The isolated node knows it cannot reach W=2 replicas: an immediate, explained 503.
      const refused = await admin(0, '/api/admin/kv/minority', { method: 'PUT', body: JSON.stringify({ value: 'x' }) });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(((await refused.json()) as { detail: string }).detail).toMatch(/replicas reachable/);
    } finally {
      isolate(false);
    }
    const allAlive = async () => Object.values(await liveness(0)).every((l) => l === 'alive');
    await waitFor(allAlive, { timeoutMs: 20_000, what: 'n1 sees everyone alive again' });
    await waitFor(
      async () => {
        for (let k = 0; k < 30; k++) {
          const res = await admin(0, `/api/admin/kv/part${k}`);
          if (!res.ok || ((await res.json()) as { value: string }).value !== `v${k}`) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, what: 'writes made during the partition are readable through n1' },
    );
  }, 120_000);
});
