// The wire types of the public API and of the socket.io events (docs/api.md): one module for both
// sides. The server's routes build these; the web app (app/lib/api.ts, app/lib/live.ts) imports
// them with `import type` only, so it still reaches the server through HTTP and socket.io alone.
// Bodies of the HTTP API are inferred from their zod schemas (./schemas.ts).
import type { z } from 'zod';
import type * as s from './schemas';

// Requests: what a client sends (z.input: before the server's parsing).
export type NewLink = z.input<typeof s.createLinkBody>;
/** Absent fields stay as they are; `null` clears expiresAt, password and maxClicks. */
export type LinkChanges = z.input<typeof s.updateLinkBody>;
export type LinkQuery = z.input<typeof s.linkListQuery>;
export type Credentials = z.input<typeof s.credentialsBody>;
export type NewApiKey = z.input<typeof s.newApiKeyBody>;

// Answers.
export type User = z.output<typeof s.userSchema>;
export type SessionView = z.output<typeof s.sessionViewSchema>;
export type SignInResult = z.output<typeof s.signInResultSchema>;
export type RedirectStatus = z.output<typeof s.redirectStatusSchema>;
export type LinkStatus = z.output<typeof s.linkStatusSchema>;
export type LinkView = z.output<typeof s.linkViewSchema>;
export type LinkList = z.output<typeof s.linkListSchema>;
export type LinkStatsView = z.output<typeof s.linkStatsViewSchema>;
export type NodeInPreferenceList = LinkStatsView['nodes'][number];
export type ApiKeyView = z.output<typeof s.apiKeyViewSchema>;
export type ApiKeyList = z.output<typeof s.apiKeyListSchema>;
export type NewApiKeyView = z.output<typeof s.newApiKeyViewSchema>;
export type ClusterView = z.output<typeof s.clusterViewSchema>;
export type ClusterMember = ClusterView['members'][number];
export type MemberStatus = ClusterMember['status'];
export type Liveness = ClusterMember['liveness'];
export type RingPartition = ClusterView['ring']['partitions'][number];
export type ClusterHandoff = ClusterView['handoffs'][number];
export type ClusterSummary = z.output<typeof s.clusterSummarySchema>;
export type Health = z.output<typeof s.healthSchema>;
export type Ready = z.output<typeof s.readySchema>;
export type Problem = z.output<typeof s.problemSchema>;

// socket.io events (docs/api.md, Live updates).

/** An entry of a node's event log. */
export interface ClusterEvent {
  /** ISO 8601. */
  at: string;
  kind: 'member' | 'liveness' | 'handoff' | 'ring';
  message: string;
}

/** The `cluster` event: GET /api/cluster's view, with the preference lists, the event log and when. */
export interface ClusterUpdate extends ClusterView {
  ring: ClusterView['ring'] & { preferenceLists: string[][] };
  /** Newest last, at most 100. */
  events: ClusterEvent[];
  /** ISO 8601. */
  at: string;
}

/** The `stats` event: the same object as GET /api/links/:slug/stats. */
export type StatsEvent = LinkStatsView;
