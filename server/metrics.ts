// Prometheus metrics: process defaults plus the ring's own counters and gauges, read
// from the node at scrape time (no bookkeeping on hot paths).
import client from 'prom-client';
import type { RingNode } from '../ring';
import type { ClusterLimiter } from './limits';

export function createMetrics(node: RingNode, transportStats: () => Record<string, number>): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ node: node.name });
  client.collectDefaultMetrics({ register: registry });
  const stat = (name: string, help: string, read: () => number, type: 'counter' | 'gauge' = 'counter') => {
    const Metric = type === 'counter' ? client.Counter : client.Gauge;
    new Metric({
      name,
      help,
      registers: [registry],
      collect() {
        const v = read();
        if (this instanceof client.Counter) {
          (this as client.Counter).reset();
          (this as client.Counter).inc(v);
        } else (this as client.Gauge).set(v);
      },
    });
  };
  const s = node.stats;
  stat('ringlink_quorum_puts_total', 'Register writes coordinated or forwarded by this node', () => s.puts);
  stat('ringlink_quorum_gets_total', 'Quorum reads started on this node', () => s.gets);
  stat('ringlink_read_repairs_total', 'Replicas repaired by reads', () => s.readRepairs);
  stat('ringlink_handoff_keys_sent_total', 'Keys streamed by handoff', () => s.handoffKeysSent);
  stat('ringlink_handoffs_completed_total', 'Partition ownership transfers completed', () => s.handoffsCompleted);
  stat('ringlink_antientropy_exchanges_total', 'Anti-entropy exchanges started', () => s.antiEntropyExchanges);
  stat('ringlink_antientropy_keys_repaired_total', 'Keys shipped by anti-entropy', () => s.antiEntropyKeysRepaired);
  stat('ringlink_tombstones_reaped_total', 'Tombstones collected', () => s.tombstonesReaped);
  stat('ringlink_expired_swept_total', 'Expired entries removed', () => s.expiredSwept);
  stat('ringlink_cas_proposals_total', 'Compare-and-set proposals', () => s.casProposals);
  stat('ringlink_cas_retries_total', 'Compare-and-set retries', () => s.casRetries);
  stat('ringlink_counter_flushes_total', 'Counter delta flushes', () => s.counterFlushes);
  stat(
    'ringlink_stranger_messages_dropped_total',
    'Messages from authenticated peers that are not members (other than join)',
    () => s.strangerMessagesDropped,
  );
  stat('ringlink_keys', 'Keys stored on this node', () => node.keyCount(), 'gauge');
  stat('ringlink_handoffs_active', 'Handoffs in progress', () => node.handoffs().length, 'gauge');
  stat('ringlink_members', 'Ring members known', () => node.members().length, 'gauge');
  stat(
    'ringlink_members_up',
    'Ring members believed up',
    () => node.members().filter((m) => m.liveness !== 'dead').length,
    'gauge',
  );
  stat(
    'ringlink_partitions_owned',
    'Partitions this node owns',
    () => node.ring().partitions.filter((c) => c.owner === node.name).length,
    'gauge',
  );
  stat(
    'ringlink_counter_pending_keys',
    'Counter keys with unshipped increments',
    () => node.counterState().pending(),
    'gauge',
  );
  for (const [k, label] of [
    ['sent', 'Ring messages sent'],
    ['received', 'Ring messages received'],
    ['dropped', 'Ring messages dropped (queue full, unknown peer, blocked)'],
    ['refusedHandshakes', 'Peer connections refused (bad secret or protocol)'],
    ['reconnects', 'Peer reconnect attempts'],
  ] as const) {
    stat(
      `ringlink_transport_${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`,
      label,
      () => transportStats()[k] ?? 0,
    );
  }
  stat('ringlink_transport_peers', 'Open peer links', () => transportStats().peers ?? 0, 'gauge');
  return registry;
}

/**
 * Rate-limit checks by where they were decided (local: this node owns the key; owner: a
 * remote owner answered; fallback: the owner could not be reached) and their latency: what a
 * limit check costs a request (bench/rateLimits.ts reads these).
 */
export function observeLimits(registry: client.Registry, limiter: ClusterLimiter): void {
  const seconds = new client.Histogram({
    name: 'ringlink_rate_limit_check_seconds',
    help: 'Rate-limit decisions by where they were made, and how long they took',
    labelNames: ['by', 'outcome'],
    buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
    registers: [registry],
  });
  limiter.onDecision((by, ms, d) => seconds.observe({ by, outcome: d.ok ? 'admitted' : 'refused' }, ms / 1000));
}
