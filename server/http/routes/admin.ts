// Operator routes (README.md, Operating; docs/api.md, Cluster): this node's status, and
// membership changes. All need the admin token.
import { z } from 'zod';
import type { RingNode } from '../../../ring';
import { HttpError, json } from '../respond';
import { routesFor } from '../router';
import { clusterSnapshot } from './cluster';

export interface AdminDeps {
  node: RingNode;
}

const route = routesFor<AdminDeps>();
const tag = 'Admin';
const memberBody = z.object({ node: z.string().min(1).optional() });

export const adminRoutes = [
  route({
    method: 'GET',
    path: '/api/admin/status',
    auth: 'admin',
    doc: {
      summary: "This node's view, readiness, key count and counters",
      tag,
      responses: { 200: { description: 'The status.' } },
    },
    handler({ res }, { node }) {
      const status = {
        ...clusterSnapshot(node),
        ready: node.ready(),
        keys: node.keyCount(),
        casPending: node.casPendingPartitions(),
        stats: node.stats,
      };
      json(res, 200, status);
    },
  }),
  route({
    method: 'POST',
    path: '/api/admin/leave',
    auth: 'admin',
    body: memberBody,
    doc: {
      summary: 'A member (this node unless named) leaves: hands its partitions off, then stops',
      tag,
      responses: { 202: { description: 'Leaving.' } },
    },
    handler({ res, body }, { node }) {
      const name = body.node ?? node.name;
      if (!node.requestLeave(name)) throw new HttpError(404, 'Not Found', `${name} is not a member that can leave`);
      json(res, 202, { leaving: name });
    },
  }),
  route({
    method: 'POST',
    path: '/api/admin/remove',
    auth: 'admin',
    body: memberBody,
    doc: {
      summary: 'Remove a member that is gone for good; its partitions are rebuilt from replicas',
      tag,
      responses: { 202: { description: 'Removed.' } },
    },
    handler({ res, body }, { node }) {
      const name = body.node;
      if (!name) throw new HttpError(422, 'Unprocessable Content', 'node: name the member to remove');
      if (name === node.name)
        throw new HttpError(409, 'Conflict', 'a node cannot remove itself: ask another member, or use leave');
      if (!node.remove(name)) throw new HttpError(404, 'Not Found', `${name} is not a member`);
      json(res, 202, { removed: name });
    },
  }),
];
