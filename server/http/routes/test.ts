// Test hooks, mounted only on a node started with RINGLINK_TEST_FAULTS=1 (auth 'test': the
// admin token too): the transport's fault injection (chaos/, bench/live.ts) and a bulk loader
// of link documents for the memory and owner benchmarks (bench/links.ts, bench/owners.ts):
// real link documents through quorum writes, so the ring's owner index lists them as a create would.
import { z } from 'zod';
import { linkKey } from '../../datatypes/keys';
import type { LinkDoc } from '../../links/linkDoc';
import type { RingClient } from '../../ringClient';
import { json } from '../respond';
import { routesFor } from '../router';

export interface TestDeps {
  ring: RingClient;
  /** Drop every message to and from these nodes (the transport's fault hook). */
  setBlocked(names: readonly string[]): void;
}

const route = routesFor<TestDeps>();
const tag = 'Test hooks';
/** Quorum writes the synthetic-data loader keeps in flight. */
const syntheticWritesInFlight = 256;

const faultsBody = z.object({ block: z.array(z.string()) });
const syntheticBody = z.object({
  count: z.number().int().min(1).max(2_000_000),
  prefix: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/),
  /** Whose links they are ("a:<accountId>" or "s:<sessionHash>"); default s:synthetic, an owner nobody signs in as. */
  owner: z
    .string()
    .regex(/^[as]:[A-Za-z0-9_-]{1,64}$/)
    .optional(),
});

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
      summary: 'Store `count` link documents straight through quorum writes',
      tag,
      hidden: true,
      responses: { 200: { description: 'Stored.' } },
    },
    async handler({ res, body }, { ring }) {
      const { count, prefix, owner = 's:synthetic' } = body;
      const t0 = performance.now();
      let next = 0;
      const now = Date.now();
      const worker = async () => {
        while (next < count) {
          const i = next++;
          const slug = `${prefix}${i.toString(36)}`;
          const doc: LinkDoc = {
            slug,
            url: `https://example.com/${prefix}/${i}`,
            owner,
            // One ms apart, the last one newest: an owner's list (the ring's owner index) has an order to page by.
            createdAt: now - count + i,
            updatedAt: now - count + i,
            expiresAt: null,
            maxClicks: null,
            redirectStatus: 302,
            password: null,
            deletedAt: null,
          };
          await ring.put(linkKey(slug), doc);
        }
      };
      await Promise.all(Array.from({ length: syntheticWritesInFlight }, worker));
      json(res, 200, { stored: count, ms: Math.round(performance.now() - t0) });
    },
  }),
];
