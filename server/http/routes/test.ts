// Test hooks, mounted only on a node started with RINGLINK_TEST_FAULTS=1 (auth 'test': the
// admin token too): the transport's fault injection (chaos/, bench/live.ts), and for the memory
// and owner benchmarks (bench/links.ts, bench/owners.ts) a bulk loader of links through the create
// path, a forced GC with the memory figures after it, and what the node stores per key namespace.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { z } from 'zod';
import type { RingNode } from '../../../ring';
import type { LinkService } from '../../links/linkService';
import { json } from '../respond';
import { HttpError } from '../respond';
import { routesFor } from '../router';

export interface TestDeps {
  node: RingNode;
  links: LinkService;
  /** Drop every message to and from these nodes (the transport's fault hook). */
  setBlocked(names: readonly string[]): void;
}

const route = routesFor<TestDeps>();
const tag = 'Test hooks';
/** Creates the synthetic-link loader keeps in flight. */
const syntheticCreatesInFlight = 256;
/** The short URLs' base in the loader's answers (computed and dropped, as a create's answer is). */
const syntheticBaseUrl = 'http://synthetic.invalid';

const faultsBody = z.object({ block: z.array(z.string()) });
const syntheticBody = z.object({
  count: z.number().int().min(1).max(2_000_000),
  /** Whose links they are ("a:<accountId>" or "s:<sessionHash>"); default s:synthetic, an owner nobody signs in as. */
  owner: z
    .string()
    .regex(/^[as]:[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  /** Targets are https://example.com/<urlPath>/<i> (a search can find a known share of them). */
  urlPath: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,16}$/)
    .optional(),
});

/** V8's full collection, when the node runs with --expose-gc. */
const gc = (globalThis as { gc?: () => void }).gc;

export const testRoutes = [
  route({
    method: 'POST',
    path: '/api/admin/faults',
    auth: 'test',
    body: faultsBody,
    doc: {
      summary: 'Block the ring transport to and from the named nodes',
      tag,
      hidden: true,
      responses: { 200: { description: 'Blocked.' } },
    },
    handler({ res, body }, d) {
      d.setBlocked(body.block);
      json(res, 200, { blocked: body.block });
    },
  }),
  route({
    method: 'POST',
    path: '/api/admin/synthetic-links',
    auth: 'test',
    body: syntheticBody,
    doc: {
      summary: 'Create `count` links with random slugs through the create path (LinkService.create)',
      tag,
      hidden: true,
      responses: { 200: { description: '{ created, failed: { error class: count }, ms }' } },
    },
    async handler({ res, body }, { links }) {
      const { count, owner = 's:synthetic', urlPath = 's' } = body;
      const t0 = performance.now();
      let next = 0;
      let created = 0;
      const failed: Record<string, number> = {};
      // What POST /api/links does after auth and rate limits: the create, then its answer. A
      // create that fails (a 503 or 504 through the API) is counted, as the API's client would.
      const worker = async () => {
        while (next < count) {
          const i = next++;
          try {
            const doc = await links.create(owner, { url: `https://example.com/${urlPath}/${i}` });
            created++;
            await links.view(doc, syntheticBaseUrl);
          } catch (err) {
            const what = err instanceof Error ? err.constructor.name : 'unknown';
            failed[what] = (failed[what] ?? 0) + 1;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(count, syntheticCreatesInFlight) }, worker));
      json(res, 200, { created, failed, ms: Math.round(performance.now() - t0) });
    },
  }),
  route({
    method: 'POST',
    path: '/api/admin/gc',
    auth: 'test',
    doc: {
      summary: "Force a full garbage collection, then report the process's memory (needs node --expose-gc)",
      tag,
      hidden: true,
      responses: { 200: { description: 'process.memoryUsage() after the collection, in bytes.' } },
    },
    handler({ res }) {
      if (!gc) throw new HttpError(409, 'Conflict', 'this node was not started with --expose-gc');
      gc();
      json(res, 200, process.memoryUsage());
    },
  }),
  route({
    method: 'POST',
    path: '/api/admin/heap-snapshot',
    auth: 'test',
    doc: {
      summary: "Write a V8 heap snapshot of this node to the OS's temporary directory (after a full GC)",
      tag,
      hidden: true,
      responses: { 200: { description: '{ file }: where the snapshot was written.' } },
    },
    handler({ res }) {
      gc?.();
      const file = writeHeapSnapshot(join(tmpdir(), `ringlink-${process.pid}-${Date.now()}.heapsnapshot`));
      json(res, 200, { file });
    },
  }),
  route({
    method: 'GET',
    path: '/api/admin/storage-counts',
    auth: 'test',
    doc: {
      summary: 'Keys stored and CAS acceptor states held by this node, by key namespace',
      tag,
      hidden: true,
      responses: { 200: { description: '{ keys: { link: n, ... }, cas: { slug: n, ... } }' } },
    },
    handler({ res }, { node }) {
      json(res, 200, node.storageCounts());
    },
  }),
];
