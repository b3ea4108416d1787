// Live updates over real processes, once with the ring's own socket.io adapter and once
// with the Redis sharded adapter against a real redis-server: the same specification for
// both. Clicks through any node reach subscribers on every node within a second with the
// exact total; only the owner may subscribe; the cluster feed shows a killed node; after a
// partition heals every node reports exact totals; with Redis, losing Redis never stops
// redirects or creates, and live updates resume when it returns.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  ApiClient,
  connectSocket,
  ensureBuilt,
  freePort,
  Harness,
  kill,
  type RingProcess,
  sleep,
  trackStats as track,
  visit,
  waitExit,
  waitFor,
} from '../../testkit';

const hasRedis = spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;

class RedisServer {
  proc: ChildProcess | undefined;
  constructor(readonly port: number) {}
  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        const s = spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' });
        return s.stdout.trim() === 'PONG';
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'redis-server' },
    );
  }
  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc!.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
  }
}

function connect(node: RingProcess, cookie: string | undefined): Promise<Socket> {
  return connectSocket(node, { cookie }, { reconnectionDelay: 100, reconnectionDelayMax: 500 });
}

const adapters = [
  { name: 'ring adapter', redis: false },
  ...(hasRedis ? [{ name: 'Redis sharded adapter', redis: true }] : []),
];

describe.each(adapters)('live updates with the $name', ({ redis }) => {
  let h: Harness;
  let nodes: RingProcess[];
  let redisServer: RedisServer | undefined;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    ensureBuilt();
    h = new Harness();
    let env: Record<string, string> = { RATE_LIMIT_CREATE_PER_MIN: '0' };
    if (redis) {
      redisServer = new RedisServer(await freePort());
      await redisServer.start();
      env = { ...env, REDIS_URL: `redis://127.0.0.1:${redisServer.port}` };
    }
    nodes = await h.startCluster(['n1', 'n2', 'n3'], { env, settleTimeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await h?.cleanup();
    await redisServer?.stop();
  }, 30_000);

  async function ownerWithLink(): Promise<{ owner: ApiClient; slug: string; cookie: string }> {
    const owner = new ApiClient(nodes[0]!);
    const r = await owner.createLink({ url: 'https://example.com/live' }, 15_000);
    const cookie = owner.sessionCookie!;
    return { owner, slug: r.body.slug, cookie };
  }

  it('clicks through any node reach subscribers on every node within 1 s, with the exact total', async () => {
    const { slug, cookie } = await ownerWithLink();
    const subs = await Promise.all(nodes.map((n) => connect(n, cookie)));
    sockets.push(...subs);
    const seen = subs.map(track);
    for (const s of subs) expect(await s.emitWithAck('subscribe', { slug })).toEqual({ ok: true });
    await sleep(300);
    for (let round = 1; round <= 3; round++) {
      const t0 = performance.now();
      await Promise.all(nodes.map((n) => visit(n, slug)));
      const want = round * nodes.length;
      await waitFor(() => seen.every((m) => m.get(slug) === want), {
        timeoutMs: 3_000,
        intervalMs: 10,
        what: `total ${want} on every socket`,
      });
      const ms = performance.now() - t0;
      console.log(`round ${round}: clicks on 3 nodes seen by sockets on 3 nodes after ${Math.round(ms)} ms`);
      expect(ms).toBeLessThan(1_000);
    }
  });

  it('only the owner may subscribe to a link', async () => {
    const { slug } = await ownerWithLink();
    const stranger = await connect(nodes[1]!, undefined);
    sockets.push(stranger);
    const r = await stranger.emitWithAck('subscribe', { slug });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/sign in|among yours/);
    const other = new ApiClient(nodes[2]!);
    await other.post('/api/links', { url: 'https://example.com/other' });
    const otherSocket = await connect(nodes[2]!, other.sessionCookie);
    sockets.push(otherSocket);
    expect((await otherSocket.emitWithAck('subscribe', { slug })).ok).toBe(false);
    expect((await otherSocket.emitWithAck('subscribe', { slug: 'x' })).ok).toBe(false);
  });

  if (redis) {
    it('without Redis, redirects and creates go on; live updates resume when it returns', async () => {
      const { owner, slug, cookie } = await ownerWithLink();
      const s = await connect(nodes[2]!, cookie);
      sockets.push(s);
      const seen = track(s);
      expect(await s.emitWithAck('subscribe', { slug })).toEqual({ ok: true });
      await sleep(300);
      await visit(nodes[0]!, slug);
      await waitFor(() => seen.get(slug) === 1, { timeoutMs: 3_000, intervalMs: 20, what: 'first update' });

      await redisServer!.stop();
      for (let i = 0; i < 5; i++) expect((await visit(nodes[i % 3]!, slug)).status).toBe(302);
      expect(
        (await owner.via(nodes[1]!).post('/api/links', { url: 'https://example.com/while-redis-is-down' })).status,
      ).toBe(201);
      await waitFor(async () => (await owner.get(`/api/links/${slug}/stats`)).body.total === 6, {
        timeoutMs: 5_000,
        intervalMs: 100,
        what: 'exact totals without Redis',
      });

      await redisServer!.start();
      await sleep(2_500); // ioredis reconnects with backoff (at most 2 s)
      await visit(nodes[1]!, slug);
      await waitFor(() => seen.get(slug) === 7, {
        timeoutMs: 10_000,
        intervalMs: 50,
        what: 'live updates after Redis returned',
      });
    }, 60_000);
  }

  it('after a partition heals, every node reports exact totals', async () => {
    const { owner, slug } = await ownerWithLink();
    const [n1, n2, n3] = nodes as [RingProcess, RingProcess, RingProcess];
    const block = async (n: RingProcess, names: string[]) =>
      expect((await admin(n, 'POST', 'faults', { block: names })).status).toBe(200);
    await block(n1, ['n2', 'n3']);
    await block(n2, ['n1']);
    await block(n3, ['n1']);
    let served = 0;
    try {
      await sleep(2_000);
      for (let i = 0; i < 30; i++) if ((await visit(nodes[i % 3]!, slug)).status === 302) served++;
    } finally {
      await Promise.all(nodes.map((n) => block(n, [])));
    }
    expect(served).toBe(30);
    const t0 = performance.now();
    await Promise.all(
      nodes.map((n) =>
        waitFor(async () => (await owner.via(n).get(`/api/links/${slug}/stats`)).body.total === served, {
          timeoutMs: 15_000,
          intervalMs: 50,
          what: `exact total on ${n.name}`,
        }),
      ),
    );
    console.log(`exact totals on every node ${Math.round(performance.now() - t0)} ms after the heal`);
  }, 60_000);

  it('the cluster feed shows a killed node going down', async () => {
    const watcher = await connect(nodes[0]!, undefined);
    sockets.push(watcher);
    let latest: { members: { name: string; liveness: string }[]; events: { message: string }[] } | undefined;
    watcher.on('cluster', (c) => (latest = c));
    expect(await watcher.emitWithAck('subscribe', { cluster: true })).toEqual({ ok: true });
    // Every member alive first (an earlier partition may still be fading from n1's view).
    await waitFor(() => latest?.members.length === 3 && latest.members.every((m) => m.liveness === 'alive'), {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'every member alive in the feed',
    });
    const victim = nodes[2]!;
    kill(victim);
    await waitExit(victim, 5_000);
    await waitFor(() => latest?.members.find((m) => m.name === victim.name)?.liveness === 'dead', {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'the victim dead in the feed',
    });
    expect(latest!.events.some((e) => e.message.startsWith(`${victim.name} is dead`))).toBe(true);
    nodes[2] = await h.restart(victim);
    await waitFor(() => latest?.members.find((m) => m.name === victim.name)?.liveness === 'alive', {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: 'the victim alive again',
    });
  }, 60_000);
});
