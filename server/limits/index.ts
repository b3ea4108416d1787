// Cluster-wide rate limits (the layer's public face).
export { ClusterLimiter, type DecidedBy, type DecisionListener } from './clusterLimiter';
export { FailureDelays } from './failureDelays';
export { LocalLimits, type LimitDecision, type LimitOp, type LimitRequest } from './localLimits';
export * from './policies';
