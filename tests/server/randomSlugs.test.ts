// LinkService's random slugs against a fake node and RingClient: a short slug is claimed by
// CAS when a majority of its claim register is reachable; when none is (the minority side of
// a partition) or the claim does not settle, a minted slug is used, never one any reachable
// node holds a link under; and no custom slug may take a minted slug's shape.
import { describe, expect, it } from 'vitest';
import type { ReadResult, RingNode } from '../../ring';
import { SimRandom, SimScheduler } from '../../ring/sim';
import { reservedSlugs } from '../../server/http/reservedSlugs';
import type { ClickBudget } from '../../server/links/clickBudget';
import type { LinkDirectory } from '../../server/links/linkDirectory';
import { LinkService } from '../../server/links/linkService';
import { isMintedSlug, RANDOM_SLUG_LENGTH } from '../../server/links/rules';
import type { ViewRecorder } from '../../server/links/viewRecorder';
import { RingCallError, type RingClient } from '../../server/ringClient';
import { DomainError } from '../../server/domain/errors';

type Change = (cur: unknown) => { next: unknown; result: unknown };

function setup(opts: { up: (name: string) => boolean; cas: 'ok' | 'unavailable' | 'hang' }) {
  const sched = new SimScheduler();
  const registers = new Map<string, unknown>();
  const held = new Set<string>();
  const calls = { cas: 0, everywhere: [] as string[] };
  const node = {
    placement: () => ({ partition: 0, primaries: ['n3', 'n4', 'n5'], fallbacks: ['n1', 'n2'] }),
    isUp: opts.up,
  } as unknown as RingNode;
  const ring = {
    casRetrying: (key: string, change: Change) => {
      calls.cas++;
      if (opts.cas === 'unavailable') return Promise.reject(new RingCallError({ kind: 'unavailable', message: 'x' }));
      if (opts.cas === 'hang') return new Promise(() => {});
      const r = change(registers.get(key));
      registers.set(key, r.next);
      return Promise.resolve(r.result);
    },
    getEverywhere: (key: string): Promise<ReadResult> => {
      calls.everywhere.push(key);
      return Promise.resolve(
        held.has(key) ? { found: true, deleted: false, values: [1], value: 1, context: {} } : { found: false },
      );
    },
  } as unknown as RingClient;
  const links = new LinkService({
    node,
    ring,
    directory: {} as LinkDirectory,
    budget: {} as ClickBudget,
    recorder: {} as ViewRecorder,
    now: () => sched.now(),
    timers: sched.timersFor('n1'),
    random: new SimRandom(7),
    selfHosts: () => [],
    allowPrivateTargets: false,
    reservedSlugs,
  });
  const claimRandom = () => (links as unknown as { claimRandom(owner: string): Promise<string> }).claimRandom('o');
  return { sched, links, calls, held, claimRandom };
}

describe('random slugs', () => {
  it('claims a short slug by CAS when a majority of its claim register is reachable', async () => {
    const t = setup({ up: () => true, cas: 'ok' });
    const slug = await t.claimRandom();
    expect(slug).toHaveLength(RANDOM_SLUG_LENGTH);
    expect(t.calls.cas).toBe(1);
    expect(t.calls.everywhere).toEqual([]);
  });

  it('mints a long slug, with no claim, when no claim register has a reachable majority', async () => {
    const t = setup({ up: (n) => n === 'n1' || n === 'n2' || n === 'n3', cas: 'ok' });
    const slug = await t.claimRandom();
    expect(isMintedSlug(slug)).toBe(true);
    expect(t.calls.cas).toBe(0);
    expect(t.calls.everywhere).toEqual([`link/${slug}`]);
  });

  it('mints a long slug when the claims fail or do not settle in time', async () => {
    const failing = setup({ up: () => true, cas: 'unavailable' });
    expect(isMintedSlug(await failing.claimRandom())).toBe(true);
    const hanging = setup({ up: () => true, cas: 'hang' });
    const slug = hanging.claimRandom();
    await new Promise((r) => setImmediate(r));
    hanging.sched.runUntil(2_000);
    expect(isMintedSlug(await slug)).toBe(true);
  });

  it('never returns a minted slug a reachable node holds a link under', async () => {
    const t = setup({ up: (n) => n === 'n1' || n === 'n2', cas: 'ok' });
    // Hold every minted slug this seed will draw first: the next one is taken instead.
    const first = setup({ up: (n) => n === 'n1' || n === 'n2', cas: 'ok' });
    const taken = await first.claimRandom();
    t.held.add(`link/${taken}`);
    const slug = await t.claimRandom();
    expect(slug).not.toBe(taken);
    expect(t.calls.everywhere).toEqual([`link/${taken}`, `link/${slug}`]);
  });

  it('refuses a custom slug with the shape of a minted one (422 slug_reserved), and accepts its near miss', async () => {
    const t = setup({ up: (n) => n === 'n1' || n === 'n2', cas: 'ok' });
    const minted = await t.claimRandom();
    let err: unknown;
    try {
      t.links.checkInput({ url: 'https://example.com', slug: minted });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('slug_reserved');
    const nearMiss = minted.slice(0, 14) + (minted[14] === 'a' ? 'b' : 'a');
    expect(() => t.links.checkInput({ url: 'https://example.com', slug: nearMiss })).not.toThrow();
  });
});
