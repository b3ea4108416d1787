// The route table: every HTTP route of a node, by concern. A new route is one entry in one of
// these modules; 404, 405 with Allow, HEAD, body validation, the OpenAPI document and the
// reserved slugs follow from it (../router.ts, ../openapi.ts, ../reservedSlugs.ts).
import type { Api } from '../callers';
import { bind, type BoundRoute, type Route } from '../router';
import { adminRoutes, type AdminDeps } from './admin';
import { clusterRoutes, type ClusterDeps } from './cluster';
import { dataRoutes, type DataDeps } from './data';
import { keyRoutes } from './keys';
import { linkRoutes } from './links';
import { nodeRoutes, type NodeDeps } from './node';
import { sessionRoutes } from './session';
import { testRoutes, type TestDeps } from './test';

/** Every route, test hooks included (whether mounted or not). */
export const routeTable: readonly Route<never>[] = [
  ...nodeRoutes,
  ...clusterRoutes,
  ...sessionRoutes,
  ...linkRoutes,
  ...keyRoutes,
  ...adminRoutes,
  ...dataRoutes,
  ...testRoutes,
];

export interface RouteDeps {
  node: NodeDeps;
  cluster: ClusterDeps;
  api: Api;
  admin: AdminDeps;
  data: DataDeps;
  test: TestDeps;
  /** Mount the test hooks (RINGLINK_TEST_FAULTS=1). */
  testFaults: boolean;
}

/** The routes this node serves, each with its dependencies. */
export function mountedRoutes(d: RouteDeps): BoundRoute[] {
  return [
    ...bind(nodeRoutes, d.node),
    ...bind(clusterRoutes, d.cluster),
    ...bind(sessionRoutes, d.api),
    ...bind(linkRoutes, d.api),
    ...bind(keyRoutes, d.api),
    ...bind(adminRoutes, d.admin),
    ...bind(dataRoutes, d.data),
    ...(d.testFaults ? bind(testRoutes, d.test) : []),
  ];
}
