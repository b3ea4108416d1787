// Every rate limit the node applies, named with its unit (docs/architecture.md, Conventions:
// a limit on everything, in one place). A policy is either a window (at most `points` per
// `windowMs` per key) or a failure delay (progressive delays after repeated failures of one key).

/** `points` decisions per key per `windowMs`, as a rate with a burst of `points` (GCRA, gcra.ts). */
export interface WindowPolicy {
  kind: 'window';
  name: string;
  points: number;
  windowMs: number;
  /** What is counted, for the person who is refused ("link creations from your address"). */
  what: string;
}

/**
 * After `failuresBeforeDelay` failures of one key, each further attempt must wait
 * `delayBaseMs * 2^(failures - failuresBeforeDelay)`, at most `delayMaxMs`. A success
 * forgets the key; so does `memoryMs` without a failure.
 */
export interface DelayPolicy {
  kind: 'delay';
  name: string;
  failuresBeforeDelay: number;
  delayBaseMs: number;
  delayMaxMs: number;
  memoryMs: number;
  what: string;
}

export type LimitPolicy = WindowPolicy | DelayPolicy;

/** Sign-in attempts from one address, whatever usernames it tries (stops one address spraying). */
export const signInAttemptsPerAddressPerMin = 20;
/** Failed sign-ins of one (address, username) pair before each further attempt waits. */
export const signInFailuresBeforeDelay = 5;
/** The first wait after signInFailuresBeforeDelay failures; it doubles with each further failure. */
export const signInDelayBaseMs = 1_000;
/** The longest wait between attempts of one (address, username) pair. */
export const signInDelayMaxMs = 15 * 60_000;
/** How long a pair's failures are remembered after its last failure. */
export const signInFailureMemoryMs = 60 * 60_000;
/** Account sign-ups from one address (cluster-wide: room for a few people behind one NAT). */
export const signUpsPerAddressPerMin = 10;
/** Password-form guesses per client address and link. */
export const passwordGuessesPerClientPerLinkPerMin = 5;
/** (address, username) pairs a node remembers failures for; the oldest are forgotten first beyond it. */
export const failureDelayEntriesMax = 100_000;
/** Keys one window policy's GCRA remembers at once (per node, per policy). */
export const rateLimitKeysMax = 100_000;
/** Distinct policies (name and parameters) an owner keeps stores for: nodes configured differently add variants. */
export const limitPolicyVariantsMax = 64;

/** How long a node waits for a limit key's owner before deciding on its local fallback. */
export const rateLimitOwnerTimeoutMs = 300;
/**
 * After a failed call, how long a node decides on its fallback for keys of that owner
 * without asking it again (so each request does not wait out rateLimitOwnerTimeoutMs while
 * the failure detector has not yet marked the owner down).
 */
export const rateLimitOwnerRetryAfterMs = 2_000;

const minute = 60_000;

export interface LimitSettings {
  /** RATE_LIMIT_CREATE_PER_MIN: link creations per client address and per owner; 0 turns them off. */
  createsPerMin: number;
  /** RATE_LIMIT_WRITES_PER_MIN: edits, deletes, API key changes per client address and per owner; 0 turns them off. */
  writesPerMin: number;
}

/** The policies by name: every node builds the same table from its config, and an owner decides with its own. */
export function limitPolicies(s: LimitSettings): Map<string, LimitPolicy> {
  const window = (name: string, points: number, what: string): WindowPolicy => {
    return { kind: 'window', name, points, windowMs: minute, what };
  };
  const list: LimitPolicy[] = [
    window('signin-addr', signInAttemptsPerAddressPerMin, 'sign-in attempts from your address'),
    {
      kind: 'delay',
      name: 'signin-pair',
      failuresBeforeDelay: signInFailuresBeforeDelay,
      delayBaseMs: signInDelayBaseMs,
      delayMaxMs: signInDelayMaxMs,
      memoryMs: signInFailureMemoryMs,
      what: 'failed sign-ins for this username from your address',
    },
    window('signup-addr', signUpsPerAddressPerMin, 'sign-ups from your address'),
    window('guess', passwordGuessesPerClientPerLinkPerMin, 'password guesses for this link from your address'),
  ];
  if (s.createsPerMin > 0) {
    list.push(window('create-addr', s.createsPerMin, 'link creations from your address'));
    list.push(window('create-owner', s.createsPerMin, 'link creations for your account'));
  }
  if (s.writesPerMin > 0) {
    list.push(window('write-addr', s.writesPerMin, 'changes (edits, deletes, API keys) from your address'));
    list.push(window('write-owner', s.writesPerMin, 'changes (edits, deletes, API keys) for your account'));
  }
  return new Map(list.map((p) => [p.name, p]));
}
