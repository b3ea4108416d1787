// The cluster as a node sees it (docs/api.md, Cluster): members, ring and handoffs, and the
// cluster-wide figures of a coverage query.
import type { RingNode } from '../../../ring';
import { clusterSummarySchema, clusterViewSchema } from '../../../contract/schemas';
import type { ClusterSummary, ClusterView } from '../../../contract/types';
import { requireAdminToken } from '../adminAuth';
import { json } from '../respond';
import { routesFor } from '../router';

export interface ClusterDeps {
  node: RingNode;
  /** Cluster-wide figures through a coverage query; `top` only when asked for. */
  summary(withTop: boolean): Promise<ClusterSummary>;
  adminToken: string | undefined;
}

/** GET /api/cluster: this node's view of members, ring and handoffs (also the live `cluster` feed's base). */
export function clusterSnapshot(node: RingNode): ClusterView {
  const r = node.ring();
  return {
    node: node.name,
    members: node.members(),
    ring: {
      size: r.ringSize,
      nVal: node.preferenceLists().primaries[0]?.length ?? 0,
      partitions: r.partitions.map((c, index) => ({ index, owner: c.owner, next: c.next })),
    },
    handoffs: node.handoffs().map((h) => ({ ...h, to: [...h.to], sent: h.keysSent, total: h.keysTotal })),
  };
}

const route = routesFor<ClusterDeps>();
const tag = 'Cluster';

export const clusterRoutes = [
  route({
    method: 'GET',
    path: '/api/cluster',
    auth: 'none',
    doc: {
      summary: "This node's view of the cluster",
      tag,
      responses: { 200: { description: 'Members, ring and handoffs.', schema: clusterViewSchema } },
    },
    handler({ res }, d) {
      json(res, 200, clusterSnapshot(d.node));
    },
  }),
  route({
    method: 'GET',
    path: '/api/cluster/summary',
    auth: 'none',
    doc: {
      summary: 'Cluster-wide figures: links, views and bots, never lower than this node answered before',
      tag,
      responses: { 200: { description: 'The figures; `top` too with the admin token.', schema: clusterSummarySchema } },
    },
    async handler({ req, res }, d) {
      // Anyone gets the totals; the top links need the admin token (a wrong one is refused).
      const admin = req.headers.authorization !== undefined;
      if (admin) requireAdminToken(req, d.adminToken);
      json(res, 200, await d.summary(admin));
    },
  }),
];
