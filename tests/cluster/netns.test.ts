// A real network partition: three nodes, each in its own network namespace on a bridge,
// partitioned by iptables inside one namespace (by address, so ephemeral source ports
// cannot slip through, unlike port-based rules). Runs only as root with iproute2 and
// iptables present (CI runs as root; `npm test` installs them); elsewhere it is skipped.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = process.cwd();
const canRun = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v ip && command -v iptables'], { stdio: 'ignore' }).status === 0;
const token = 'netns-admin-token-0123456789';
const tag = String(process.pid % 1000);
const subnet = `10.${77 + (process.pid % 100)}.0`;
const bridge = `rlb${tag}`;
const names = ['n1', 'n2', 'n3'];
const ns = (i: number) => `rlns${tag}-${i}`;
const ipOf = (i: number) => `${subnet}.${i + 1}`;

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'pipe' });
}

function shQuiet(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const admin = (i: number, path: string, init: RequestInit = {}) =>
  fetch(`http://${ipOf(i)}:3000${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) }, signal: AbortSignal.timeout(3_000) });

async function liveness(i: number): Promise<Record<string, string>> {
  const c = (await (await admin(i, '/api/cluster')).json()) as { members: { name: string; liveness: string }[] };
  return Object.fromEntries(c.members.map((m) => [m.name, m.liveness]));
}

describe.skipIf(!canRun)('network partition between namespaces (root only)', () => {
  const procs: ChildProcess[] = [];
  const logs: string[][] = [[], [], []];

  beforeAll(async () => {
    const bundle = join(root, 'dist', 'server.mjs');
    if (!existsSync(bundle) || statSync(bundle).mtimeMs < statSync(join(root, 'server', 'main.ts')).mtimeMs) sh(process.execPath, [join(root, 'scripts', 'build.mjs')]);
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${subnet}.254/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
    for (let i = 0; i < 3; i++) {
      const veth = `rv${tag}x${i}`;
      sh('ip', ['netns', 'add', ns(i)]);
      sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(i)]);
      sh('ip', ['link', 'set', veth, 'master', bridge]);
      sh('ip', ['link', 'set', veth, 'up']);
      sh('ip', ['netns', 'exec', ns(i), 'ip', 'addr', 'add', `${ipOf(i)}/24`, 'dev', 'eth0']);
      sh('ip', ['netns', 'exec', ns(i), 'ip', 'link', 'set', 'eth0', 'up']);
      sh('ip', ['netns', 'exec', ns(i), 'ip', 'link', 'set', 'lo', 'up']);
    }
    for (let i = 0; i < 3; i++) {
      const env = {
        ...process.env,
        NODE_NAME: names[i]!,
        HOST: ipOf(i),
        PORT: '3000',
        SEEDS: i === 0 ? '' : `${ipOf(0)}:3000`,
        ADMIN_TOKEN: token,
        // Listening beyond loopback: a node refuses to start without a cluster secret.
        CLUSTER_SECRET: 'netns-cluster-secret-0123456789',
        RING_SIZE: '32',
        LOG_LEVEL: 'warn',
      };
      const child = spawn('ip', ['netns', 'exec', ns(i), process.execPath, join(root, 'dist', 'server.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      for (const s of [child.stdout!, child.stderr!]) s.on('data', (b: Buffer) => logs[i]!.push(b.toString()));
      procs.push(child);
      if (i === 0) await waitFor('n1 ready', async () => (await admin(0, '/readyz')).ok, 20_000).catch((err: Error) => {
        throw new Error(`${err.message}; n1 said:\n${logs[0]!.join('')}`);
      });
    }
    await waitFor('all ready and all alive', async () => {
      for (let i = 0; i < 3; i++) {
        if (!(await admin(i, '/readyz')).ok) return false;
        if (Object.values(await liveness(i)).some((l) => l !== 'alive')) return false;
      }
      return true;
    }, 30_000);
  }, 60_000);

  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL');
    for (let i = 0; i < 3; i++) shQuiet('ip', ['netns', 'del', ns(i)]);
    shQuiet('ip', ['link', 'del', bridge]);
  });

  it('the majority keeps writing, the isolated minority refuses writes, and healing converges', async () => {
    const isolate = (on: boolean) => {
      for (const other of [1, 2]) {
        for (const [chain, flag] of [['INPUT', '-s'], ['OUTPUT', '-d']] as const) {
          sh('ip', ['netns', 'exec', ns(0), 'iptables', on ? '-A' : '-D', chain, flag, ipOf(other), '-j', 'DROP']);
        }
      }
    };
    isolate(true);
    try {
      // Both sides notice.
      await waitFor('n2 sees n1 not alive', async () => (await liveness(1)).n1 !== 'alive', 15_000);
      await waitFor('n1 declares n2 and n3 dead', async () => {
        const l = await liveness(0);
        return l.n2 === 'dead' && l.n3 === 'dead';
      }, 15_000);
      // The majority side accepts writes (W=2 from n2 and n3).
      for (let k = 0; k < 30; k++) {
        const res = await admin(1, `/api/admin/kv/part${k}`, { method: 'PUT', body: JSON.stringify({ value: `v${k}` }) });
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
    await waitFor('n1 sees everyone alive again', async () => Object.values(await liveness(0)).every((l) => l === 'alive'), 20_000);
    await waitFor('writes made during the partition are readable through n1', async () => {
      for (let k = 0; k < 30; k++) {
        const res = await admin(0, `/api/admin/kv/part${k}`);
        if (!res.ok || ((await res.json()) as { value: string }).value !== `v${k}`) return false;
      }
      return true;
    }, 20_000);
  }, 120_000);
});
