// The simulator's public face, for code outside ring/ that drives it (tests, benchmarks):
// a seeded world of real RingNode code on a deterministic scheduler, network and clocks,
// the workload that drives it, and the checkers that judge the histories.
export { kvType, simRingConfig, simTypes, SimWorld, type LostSlot, type SimNode } from './world';
export {
  SimScheduler,
  SimSchedulerLivelockError,
  type OwnedTimers,
  type SimHandle,
  type SimSchedulerOptions,
} from './scheduler';
export {
  defaultFaults,
  SimNetwork,
  type DropReason,
  type KindBytes,
  type NetworkFaults,
  type NetworkStats,
  type SimNetworkOptions,
} from './network';
export { SimRandom, simRandom } from './prng';
export { simClock, type SimClock } from './clock';
export { Workload, type RegisterOp, type WorkloadOptions } from './workload';
export {
  checkCas,
  checkConvergence,
  checkCounters,
  checkPreferenceLists,
  checkRegisterHistories,
  checkRegisters,
  finalState,
  type Violation,
} from './checkers';
export {
  checkCasHistories,
  checkCasRegister,
  type CasOp,
  type CheckOptions,
  type HistoryEntry,
  type LinearizabilityResult,
  type RegisterValue,
} from './linearizability';
export {
  defaultScenario,
  quiet,
  ringSim,
  ringZonesSim,
  runSeed,
  type ScenarioOptions,
  type SeedResult,
} from './scenario';
export { FaultSchedule } from './faults';
export { simCli, simWorker, type RunOptions, type SeedSummary, type SimKind } from './runner';
export {
  defaultScaleOptions,
  measureRingScale,
  settledCluster,
  type BytesPerNodePerSec,
  type ChangeStep,
  type ScaleOptions,
  type ScalePoint,
  type Spread,
} from './scale';
