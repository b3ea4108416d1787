// An in-process node front (server/http/app.ts) over stub services, for tests of what the
// route table answers by itself: 404, 405 with Allow, HEAD, body validation, the OpenAPI
// document. A handler that reaches a stub service fails the test loudly.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { RingNode } from '../../ring';
import { createApp, type AppDeps } from '../../server/http/app';
import type { ApiDeps } from '../../server/http/callers';

export const adminToken = 'test-admin-token';

/** An object whose every property access throws: a service the test must not reach. */
function unreachable<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get(_t, prop) {
      throw new Error(`the test reached ${name}.${String(prop)}`);
    },
  });
}

export interface TestFront {
  url: string;
  blocked: string[][];
  /** Slugs the redirect fast path was asked for. */
  redirected: string[];
  close(): Promise<void>;
}

export async function startFront(opts: { testFaults?: boolean } = {}): Promise<TestFront> {
  const blocked: string[][] = [];
  const redirected: string[] = [];
  const node = {
    name: 'n1',
    ready: () => true,
    ring: () => ({ ringSize: 8, partitions: [] }),
    members: () => [],
    handoffs: () => [],
    preferenceLists: () => ({ primaries: [], fallbacks: [], planned: [] }),
  } as unknown as RingNode;
  const api: ApiDeps = {
    links: unreachable('links'),
    sessions: unreachable('sessions'),
    accounts: unreachable('accounts'),
    apiKeys: unreachable('apiKeys'),
    limits: unreachable('limits'),
    publicUrl: undefined,
    isOwnHost: () => true,
    defaultBaseUrl: 'http://127.0.0.1',
    trustProxy: false,
    secureCookies: false,
  };
  const deps: AppDeps = {
    api,
    summary: async () => ({ links: 0, views: 0, bots: 0, partitions: 8, partial: false, missing: [] }),
    node,
    metrics: new Registry(),
    adminToken,
    testFaults: opts.testFaults ?? false,
    ringUpgrade: () => undefined,
    setBlocked: (names) => void blocked.push([...names]),
    bodyBytesMax: 64 * 1024,
    redirector: {
      handle(_req, res, slug) {
        redirected.push(slug);
        res.writeHead(302, { location: 'https://example.com/', 'content-length': '0' });
        res.end();
      },
    },
  };
  const app = createApp(deps);
  const server: Server = createServer({ requireHostHeader: false }, (req, res) => void app.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    blocked,
    redirected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
