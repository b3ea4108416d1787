// What a newcomer meets first, and what an outsider on the network can do: a node with no
// configuration serves on its own (N=3, R=2, W=2 clamped to the members there are), keys
// get back to N replicas as nodes join, quorums still follow membership when members are
// down, bad input is refused before the ring is touched, there is no built-in cluster
// secret, an authenticated stranger cannot act as a member, and a request's Host is never
// reflected into a short URL.
import { afterEach, describe, expect, it } from 'vitest';
import { WsTransport } from '../../server/transport/wsTransport';
import type { WireMessage } from '../../ring';
import {
  admin,
  ApiClient,
  cluster,
  ensureBuilt,
  Harness,
  metric,
  type RingProcess,
  SECRET_A,
  sleep,
  visit,
  waitExit,
  waitFor,
  waitReady,
  waitSettled,
} from '../../testkit';
import { rawRequest } from './rawHttp';

let h: Harness;
ensureBuilt();
afterEach(async () => {
  await h?.cleanup();
});

/** The defaults a newcomer gets: N=3, R=2, W=2 (the harness's test env sets none of them). */
const plain = { RATE_LIMIT_CREATE_PER_MIN: '0' };

async function keysHeld(n: RingProcess): Promise<number> {
  const r = await admin<{ keys: number }>(n, 'GET', 'status');
  expect(r.status).toBe(200);
  return r.body.keys;
}

describe('a cluster with fewer members than N_VAL', () => {
  it('one node serves creates, redirects and stats; as two nodes join, every key gets back to N=3 replicas', async () => {
    h = new Harness();
    const n1 = await h.startNode({ name: 'n1', env: plain });
    await waitReady(n1);
    expect(n1.log.text()).toMatch(/fewer members than N_VAL/);
    const c = new ApiClient(n1);
    const slugs: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await c.post('/api/links', { url: `https://example.com/solo/${i}` });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      slugs.push(r.body.slug);
    }
    const custom = await c.post('/api/links', { url: 'https://example.com/custom', slug: 'solo-custom' });
    expect(custom.status).toBe(201);
    slugs.push('solo-custom');
    for (const slug of slugs.slice(0, 5)) expect((await visit(n1, slug)).status).toBe(302);
    await waitFor(async () => (await c.get(`/api/links/${slugs[0]}/stats`)).body.total === 1, {
      timeoutMs: 5_000,
      intervalMs: 100,
      what: 'a view counted on one node',
    });
    expect((await c.get('/api/links')).body.links).toHaveLength(slugs.length);
    const alone = await keysHeld(n1);

    const n2 = await h.startNode({ name: 'n2', seeds: [n1], env: plain });
    const n3 = await h.startNode({ name: 'n3', seeds: [n1], env: plain });
    const nodes = [n1, n2, n3];
    await Promise.all(nodes.map((n) => waitReady(n)));
    await waitSettled(nodes, 60_000);
    // Three members and N=3: every node is a replica of every key (handoff moves ownership,
    // anti-entropy fills in the replicas that were not there to take the writes).
    await waitFor(async () => (await Promise.all(nodes.map(keysHeld))).every((k) => k >= alone), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: `every node to hold all ${alone} keys the founder took alone`,
    });
    for (const n of nodes) {
      const view = await c.via(n).get(`/api/links/${slugs[1]}/stats`);
      expect(view.status).toBe(200);
      expect(view.body.nodes.filter((x: { role: string }) => x.role === 'primary')).toHaveLength(3);
      for (const slug of slugs) expect((await visit(n, slug, { method: 'HEAD' })).status).toBe(302);
    }
  }, 180_000);

  it('quorums follow membership: with 2 of 3 members down, a create that needs W=2 gets 503, and bad input still gets its 4xx first', async () => {
    h = new Harness();
    const n1 = await h.startNode({ name: 'n1', env: plain });
    const n2 = await h.startNode({ name: 'n2', seeds: [n1], env: plain });
    const n3 = await h.startNode({ name: 'n3', seeds: [n1], env: plain });
    await waitSettled([n1, n2, n3], 60_000);
    const c = new ApiClient(n1);
    expect((await c.post('/api/links', { url: 'https://example.com/before' })).status).toBe(201);
    for (const n of [n2, n3]) h.kill(n);
    await waitFor(
      async () => (await cluster(n1)).members.filter((m) => m.name !== 'n1').every((m) => m.liveness === 'dead'),
      { timeoutMs: 15_000, intervalMs: 200, what: 'n1 to see n2 and n3 dead' },
    );
    const members = (await cluster(n1)).members;
    expect(members.filter((m) => m.status === 'valid')).toHaveLength(3);
    const r = await c.post('/api/links', { url: 'https://example.com/after' });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    const bad = await c.post('/api/links', { url: 'javascript:alert(1)' });
    expect(bad.status).toBe(422);
    expect(bad.body.field).toBe('url');
    const badSlug = await c.post('/api/links', { url: 'https://example.com/x', slug: 'a b' });
    expect(badSlug.status).toBe(422);
    expect(badSlug.body.field).toBe('slug');
    const past = await c.post('/api/links', { url: 'https://example.com/x', expiresAt: '2001-01-01T00:00:00Z' });
    expect(past.status).toBe(422);
  }, 120_000);
});

describe('the cluster secret', () => {
  for (const nodeEnv of ['development', 'test', 'production']) {
    it(`a node listening beyond loopback refuses to start without CLUSTER_SECRET (NODE_ENV=${nodeEnv})`, async () => {
      h = new Harness();
      const node = await h.spawnNode({
        name: 'open',
        env: { HOST: '0.0.0.0', NODE_ENV: nodeEnv, CLUSTER_SECRET: undefined },
      });
      expect(await waitExit(node, 10_000)).toBe(1);
      const lines = node.stderr.text().split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^config: CLUSTER_SECRET is required when HOST \(0\.0\.0\.0\) is not a loopback address/,
      );
    });
  }

  it('a loopback node without CLUSTER_SECRET uses a random secret of its own: it serves alone, and nobody joins it', async () => {
    h = new Harness();
    const solo = await h.startNode({ name: 'solo', env: { ...plain, CLUSTER_SECRET: undefined } });
    await waitReady(solo);
    expect(solo.log.text()).toMatch(/CLUSTER_SECRET is unset/);
    expect((await new ApiClient(solo).post('/api/links', { url: 'https://example.com/dev' })).status).toBe(201);
    // Another node without a secret has a different random one; the former built-in default
    // (which the probe used to join a cluster) is no better.
    const other = await h.startNode({ name: 'other', seeds: [solo], env: { ...plain, CLUSTER_SECRET: undefined } });
    const old = await h.startNode({
      name: 'old',
      seeds: [solo],
      secret: 'ringlink-dev-secret-do-not-use-in-production',
      env: plain,
    });
    await sleep(3_000);
    expect((await cluster(solo)).members.map((m) => m.name)).toEqual(['solo']);
    for (const n of [other, old]) expect((await fetch(`${n.url}/readyz`)).status).toBe(503);
    expect((await metric(solo, 'ringlink_transport_refused_handshakes_total')) ?? 0).toBeGreaterThan(0);
  }, 60_000);

  it('a peer that knows the secret is a stranger until the ring admits it: it can neither read nor gossip, nor join under another name', async () => {
    h = new Harness();
    const n1 = await h.startNode({ name: 'n1', env: plain });
    const n2 = await h.startNode({ name: 'n2', seeds: [n1], env: plain });
    await waitSettled([n1, n2], 30_000);
    const secretKey = await new ApiClient(n1).post('/api/links', { url: 'https://example.com/secret-target' });
    expect(secretKey.status).toBe(201);

    const got: WireMessage[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const intruder = new WsTransport({
      name: 'intruder',
      addr: '127.0.0.1:9',
      secret: SECRET_A,
      resolve: () => undefined,
      logger,
    });
    intruder.onMessage((_from, m) => got.push(m));
    try {
      const before = (await metric(n1, 'ringlink_stranger_messages_dropped_total')) ?? 0;
      const fetchLink: WireMessage = {
        t: 'rq',
        id: 1,
        s: 'intruder-life',
        m: 'fetch',
        b: { key: `link/${secretKey.body.slug}` },
      };
      intruder.send(n1.addr, fetchLink);
      intruder.send(n1.addr, { t: 'gossip', print: 'x', live: {}, reply: false });
      // A join on another member's or an invented name's behalf is ignored.
      intruder.send(n1.addr, { t: 'join', name: 'n9', addr: '127.0.0.1:9', gen: 1 });
      await waitFor(async () => ((await metric(n1, 'ringlink_stranger_messages_dropped_total')) ?? 0) >= before + 3, {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: "n1 to drop the stranger's messages",
      });
      await sleep(1_000);
      expect(intruder.stats().peers).toBe(1); // the handshake itself succeeded
      expect(got.filter((m) => m.t === 'rs')).toEqual([]);
      expect(got.filter((m) => m.t === 'gossip')).toEqual([]);
      for (const n of [n1, n2]) expect((await cluster(n)).members.map((m) => m.name).sort()).toEqual(['n1', 'n2']);
    } finally {
      await intruder.close();
    }
  }, 60_000);
});

describe('the Host header', () => {
  const createWithHost = async (n: RingProcess, host: string) => {
    const body = Buffer.from(JSON.stringify({ url: 'https://example.com/host-test' }));
    const r = await rawRequest(n.port, {
      method: 'POST',
      target: '/api/links',
      headers: [
        ['host', host],
        ['origin', `http://${host}`],
        ['content-type', 'application/json'],
      ],
      body,
    });
    return {
      status: r.status,
      body: JSON.parse(r.body.toString('utf8') || '{}') as { shortUrl?: string; slug?: string },
    };
  };

  it("is never reflected into shortUrl: only the node's own hosts and ALLOWED_HOSTS are used, else its own address", async () => {
    h = new Harness();
    const n1 = await h.startNode({ name: 'n1', env: { ...plain, ALLOWED_HOSTS: 'short.example,go.example:8443' } });
    await waitReady(n1);
    const evil = await createWithHost(n1, 'attacker.example');
    expect(evil.status).toBe(201);
    expect(evil.body.shortUrl).toBe(`http://${n1.addr}/${evil.body.slug}`);
    for (const host of [n1.addr, `localhost:${n1.port}`, 'short.example', 'go.example:8443']) {
      const ok = await createWithHost(n1, host);
      expect(ok.status).toBe(201);
      expect(ok.body.shortUrl).toBe(`http://${host}/${ok.body.slug}`);
    }
  }, 60_000);
});
