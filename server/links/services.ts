// The link services of one node life, wired once for production (server/main.ts) and for the
// shortener simulation (server/sim/services.ts), so the simulation runs what production runs.
import type { RingNode } from '../../ring';
import type { RingClient } from '../ringClient';
import type { ServiceRuntime } from '../runtime';
import { ClickBudget, type ClickBudgetLimits } from './clickBudget';
import { defaultLinkDirectoryLimits, LinkDirectory, type LinkDirectoryLimits } from './linkDirectory';
import { linkTextFilter } from './linkDoc';
import { LinkService } from './linkService';
import { ViewRecorder, type ViewRecorderLimits } from './viewRecorder';

export interface LinkServicesOptions {
  node: RingNode;
  ring: RingClient;
  runtime: ServiceRuntime;
  /** Hosts a link may not point at (this cluster's own addresses). */
  selfHosts: () => string[];
  allowPrivateTargets: boolean;
  reservedSlugs: ReadonlySet<string>;
  /** W (writes are acknowledged by this many replicas): when "no such link" can be trusted (LinkDirectory). */
  writeQuorum?: number;
  /** Defaults unless given (the simulation scales them down). */
  limits?: { directory?: LinkDirectoryLimits; recorder?: ViewRecorderLimits; budget?: ClickBudgetLimits };
}

/** The links and what counts their views and clicks; `life` tags this node life's counter deltas and leases. */
export function createLinkServices(o: LinkServicesOptions) {
  const { node, ring, runtime, limits = {} } = o;
  const { clock, timers, random } = runtime;
  const now = () => clock.now();
  const life = `${node.bootId}:${random.hex(4)}`;
  node.registerIndexFilter(linkTextFilter);
  const directory = new LinkDirectory(
    node,
    ring,
    now,
    limits.directory ?? defaultLinkDirectoryLimits,
    o.writeQuorum,
    timers,
  );
  const recorder = new ViewRecorder(node, life, timers, now, limits.recorder);
  const members = () => node.members().filter((m) => m.status === 'valid' || m.status === 'leaving').length;
  const budget = new ClickBudget(ring, life, members, timers, now, limits.budget);
  const links = new LinkService({
    node,
    ring,
    directory,
    budget,
    recorder,
    now,
    timers,
    random,
    selfHosts: o.selfHosts,
    allowPrivateTargets: o.allowPrivateTargets,
    reservedSlugs: o.reservedSlugs,
  });
  return { life, links, directory, recorder, budget };
}
