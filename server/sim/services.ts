// One simulated node's shortener: the real LinkService, ClickBudget, ViewRecorder,
// LinkDirectory, Sessions and redirect path, wired as server/main.ts wires them, over the
// simulated node's RingNode and on its clock, timers and seeded randomness. Built anew at
// every boot (world.onBoot); a crash cancels the life's timers, so its services stop with it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { simRingConfig, type SimNode, type SimRandom } from '../../ring/sim';
import { Sessions, type SessionLimits } from '../auth/sessions';
import type { RateLimits } from '../http/rateLimits';
import { createRedirector } from '../http/redirect';
import type { RedirectHeads } from '../http/security';
import { ClickBudget, type ClickBudgetLimits } from '../links/clickBudget';
import { defaultLinkDirectoryLimits, LinkDirectory, type LinkDirectoryLimits } from '../links/linkDirectory';
import type { LinkService } from '../links/linkService';
import { createLinkServices } from '../links/services';
import { defaultViewRecorderLimits, ViewRecorder, type ViewRecorderLimits } from '../links/viewRecorder';
import { reservedSlugs } from '../http/reservedSlugs';
import { RingClient } from '../ringClient';
import type { ServiceRuntime } from '../runtime';

/** Limits scaled for simulation, as simRingConfig scales the ring's: the same code, tighter loops. */
export const simBudgetLimits: ClickBudgetLimits = { leaseClicksMax: 4, idleReturnMs: 300, waitersPerLinkMax: 1_000 };
/** Sessions live long enough never to expire in a run, and are extended at most once a second. */
export const simSessionLimits: SessionLimits = {
  ttlMs: 3_600_000,
  refreshEveryMs: 1_000,
  cache: { entriesMax: 1_000, ttlMs: 5_000 },
};
/** Stats shipped every second (production: 200 ms): the same merges, fewer of them. */
const simRecorderLimits: ViewRecorderLimits = { ...defaultViewRecorderLimits, flushIntervalMs: 1_000 };
/** Small caches: lru-cache allocates its whole capacity up front, at every boot. */
const simDirectoryLimits: LinkDirectoryLimits = { ...defaultLinkDirectoryLimits, cacheEntriesMax: 1_000 };

export const humanAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0';
export const botAgent = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

export interface ShortenerNode {
  readonly name: string;
  /** The node life's holder name (the ClickBudget's and the stats slot's), as main.ts builds it. */
  readonly life: string;
  /** The life's counter slot in the ring's G-counters (views, bots). */
  readonly counterSlot: string;
  readonly sim: SimNode;
  /** The ring generation (SimNode.life) these services were built for. */
  readonly generation: number;
  readonly ring: RingClient;
  readonly links: LinkService;
  readonly sessions: Sessions;
  readonly budget: ClickBudget;
  readonly recorder: ViewRecorder;
  readonly directory: LinkDirectory;
  redirect(slug: string, client: string, agent: string): Promise<number>;
  /** Sessions.ensure with the cookie a client holds; resolves with the session id the answer sets (or keeps). */
  ensureSession(cookie: string | undefined): Promise<{ id: string; idHash: string }>;
}

/** A ServerResponse that records what the redirect path answered. */
class RecordedResponse {
  statusCode = 0;
  headersSent = false;
  readonly cookies: string[] = [];
  setHeader(): this {
    return this;
  }
  appendHeader(name: string, value: string): this {
    if (name === 'set-cookie') this.cookies.push(value);
    return this;
  }
  writeHead(status: number): this {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }
  end(): this {
    return this;
  }
  destroy(): this {
    return this;
  }
}

export function bootShortener(sim: SimNode, random: SimRandom): ShortenerNode {
  const node = sim.node;
  const runtime: ServiceRuntime = { clock: sim.clock, timers: sim.timers, random };
  const now = () => sim.clock.now();
  const ring = new RingClient(node, runtime);
  const { life, links, directory, recorder, budget } = createLinkServices({
    node,
    ring,
    runtime,
    selfHosts: () => ['sho.rt'],
    allowPrivateTargets: false,
    reservedSlugs,
    writeQuorum: simRingConfig().w,
    limits: { directory: simDirectoryLimits, recorder: simRecorderLimits, budget: simBudgetLimits },
  });
  const sessions = new Sessions(node, ring, now, random, simSessionLimits);
  // The simulated workload sets no passwords, the only path that consults the rate limits.
  const noLimits = {} as RateLimits;
  const redirector = createRedirector({ directory, recorder, budget, limits: noLimits, now, trustProxy: false });
  recorder.start();
  budget.start();
  // One socket per client: the redirect path keys its per-connection memo (and the visitor hash) on it.
  const sockets = new Map<string, { remoteAddress: string }>();
  return {
    name: sim.name,
    life,
    counterSlot: node.counterState().slotId(),
    sim,
    generation: sim.life,
    ring,
    links,
    sessions,
    budget,
    recorder,
    directory,
    async redirect(slug, client, agent) {
      let socket = sockets.get(client);
      if (!socket) sockets.set(client, (socket = { remoteAddress: `10.0.0.${sockets.size + 1}` }));
      const req = { method: 'GET', socket, headers: {} } as unknown as IncomingMessage;
      const res = new RecordedResponse();
      const heads: RedirectHeads = { host: 'sho.rt', userAgent: agent, referer: undefined, forwardedFor: undefined };
      await redirector.handle(req, res as unknown as ServerResponse, slug, heads);
      return res.statusCode;
    },
    async ensureSession(cookie) {
      const s = await sessions.ensure(cookie);
      return { id: s.id, idHash: s.idHash };
    },
  };
}
