// Every limit of the ring in one place, each named with its unit (TIGER_STYLE).

export interface RingConfig {
  /** Number of partitions Q; a power of two. */
  ringSize: number;
  /** Replicas per key N. */
  nVal: number;
  /** Replies a read waits for. */
  r: number;
  /** Acknowledgements a write waits for. */
  w: number;

  // Membership and failure detection (SWIM).
  gossipIntervalMs: number;
  /** Peers a gossip round sends the ring to. */
  gossipFanout: number;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /** Peers asked to probe indirectly after a direct probe times out (SWIM's k). */
  indirectProbeCount: number;
  suspectTimeoutMs: number;
  /**
   * Liveness changes (SWIM's piggybacked updates) one message carries besides the sender's
   * own entry; each change rides on about 4 * log10(n + 1) messages, then stops.
   */
  livenessUpdatesPerMessageMax: number;
  /** How often a probe carries the whole liveness table and asks for the peer's (push-pull anti-entropy). */
  livenessFullSyncIntervalMs: number;
  /** A member confirmed down for this long is removed and its partitions reassigned; 0 disables. */
  autoDownAfterMs: number;
  /** Ownership transfers the claimant starts per planning round (Akka: cap moves per round). */
  claimMovesPerRoundMax: number;
  claimIntervalMs: number;

  // Requests.
  requestTimeoutMs: number;
  /** Times a coordinator forwards a request before giving up. */
  forwardHopsMax: number;

  // Handoff and anti-entropy.
  handoffIntervalMs: number;
  /** Keys one handoff chunk carries at most. */
  handoffBatchKeysMax: number;
  /**
   * Estimated encoded bytes (entryBytesEstimate) one handoff chunk carries at most: with
   * handoffChunksInFlightMax and handoffConcurrencyMax it bounds what handoff queues towards a
   * peer (under the transport's per-peer buffer and frame limits).
   */
  handoffChunkBytesMax: number;
  /**
   * Chunks of one transfer sent and not yet acknowledged by every receiver: a window, so the
   * sender encodes the next chunk while the receiver stores the previous one instead of
   * waiting a round trip per chunk.
   */
  handoffChunksInFlightMax: number;
  /** How long one handoff chunk may take to be acknowledged before the transfer is retried. */
  handoffChunkTimeoutMs: number;
  /** Partitions a node hands off at once. */
  handoffConcurrencyMax: number;
  antiEntropyIntervalMs: number;
  /** Hashed buckets per partition digest. */
  antiEntropyBucketsPerPartition: number;
  /** Keys a single repair message carries. */
  antiEntropyRepairKeysMax: number;

  // Tombstones.
  tombstoneGraceMs: number;
  tombstoneReapBatchMax: number;

  // Counters (delta-state CRDT shipping).
  counterFlushIntervalMs: number;
  counterFlushBatchKeysMax: number;
  /** Keys this node's in-memory counter slots cover before it rotates to a fresh slot id. */
  counterSlotKeysMax: number;

  // CAS (CASPaxos).
  casRetriesMax: number;
  casBackoffMs: number;

  // Coverage queries.
  coveragePartitionRetriesMax: number;
  /**
   * Deadline of one node's part of a secondary index query (ring/coverage/indexQuery.ts): a
   * filtered one reads every value under the term, which for an owner with a million links
   * takes longer than requestTimeoutMs on a loaded node.
   */
  indexQueryTimeoutMs: number;

  /** Largest value, encoded, a put may carry. */
  valueBytesMax: number;
}

export const defaultRingConfig: RingConfig = {
  ringSize: 64,
  nVal: 3,
  r: 2,
  w: 2,

  gossipIntervalMs: 200,
  gossipFanout: 2,
  probeIntervalMs: 200,
  probeTimeoutMs: 150,
  indirectProbeCount: 2,
  suspectTimeoutMs: 1_000,
  livenessUpdatesPerMessageMax: 16,
  livenessFullSyncIntervalMs: 10_000,
  autoDownAfterMs: 0,
  claimMovesPerRoundMax: 16,
  claimIntervalMs: 250,

  requestTimeoutMs: 1_000,
  forwardHopsMax: 2,

  handoffIntervalMs: 500,
  handoffBatchKeysMax: 512,
  handoffChunkBytesMax: 256 * 1024,
  handoffChunksInFlightMax: 4,
  handoffChunkTimeoutMs: 10_000,
  handoffConcurrencyMax: 2,
  antiEntropyIntervalMs: 1_000,
  antiEntropyBucketsPerPartition: 64,
  antiEntropyRepairKeysMax: 256,

  tombstoneGraceMs: 30_000,
  tombstoneReapBatchMax: 128,

  counterFlushIntervalMs: 100,
  counterFlushBatchKeysMax: 256,
  counterSlotKeysMax: 100_000,

  casRetriesMax: 8,
  casBackoffMs: 20,

  coveragePartitionRetriesMax: 3,
  indexQueryTimeoutMs: 10_000,

  valueBytesMax: 64 * 1024,
};

export function ringConfig(overrides: Partial<RingConfig> = {}): RingConfig {
  const config = { ...defaultRingConfig, ...overrides };
  assertRingConfig(config);
  return config;
}

export function assertRingConfig(c: RingConfig): void {
  const isPow2 = (x: number) => Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;
  if (!isPow2(c.ringSize) || c.ringSize < 8 || c.ringSize > 4096)
    throw new Error(`ringSize must be a power of two in 8..4096, got ${c.ringSize}`);
  if (!Number.isInteger(c.nVal) || c.nVal < 1 || c.nVal > 7)
    throw new Error(`nVal must be an integer in 1..7, got ${c.nVal}`);
  if (!Number.isInteger(c.r) || c.r < 1 || c.r > c.nVal)
    throw new Error(`r must be an integer in 1..nVal (${c.nVal}), got ${c.r}`);
  if (!Number.isInteger(c.w) || c.w < 1 || c.w > c.nVal)
    throw new Error(`w must be an integer in 1..nVal (${c.nVal}), got ${c.w}`);
}
