// The shortener simulation's checkers (server/sim/checkers.ts) on hand-made histories:
// each accepts a good one and flags a bad one, so a green simulator run means something.
import { describe, expect, it } from 'vitest';
import {
  checkMaxClicks,
  checkSessionsKept,
  checkSlugsGrantedOnce,
  checkViewTotals,
  type BudgetRecord,
  type CreateRecord,
  type EnsureRecord,
  type ViewRecord,
} from '../../server/sim/checkers';

const create = (c: Partial<CreateRecord>): CreateRecord => ({
  client: 'b0',
  owner: 's:a',
  node: 'n0',
  invokedAt: 0,
  custom: 'launch',
  outcome: 'ok',
  slug: 'launch',
  ...c,
});

describe('slug granted once', () => {
  it('accepts one owner per slug, a retry by that owner after a create that failed, and refusals', () => {
    const creates = [
      create({ outcome: 'failed', slug: undefined, completedAt: 10 }),
      create({ invokedAt: 20, completedAt: 30, node: 'n1' }),
      create({ client: 'b1', owner: 's:b', outcome: 'taken', slug: undefined }),
      create({ custom: undefined, slug: 'Ab3dE5f' }),
    ];
    const links = new Map([
      ['launch', { owner: 's:a' }],
      ['Ab3dE5f', { owner: 's:a' }],
    ]);
    expect(checkSlugsGrantedOnce(creates, links)).toEqual([]);
  });

  it('flags a slug granted to two owners (a partition let both claim it)', () => {
    const creates = [create({}), create({ client: 'b1', owner: 's:b', node: 'n4' })];
    const v = checkSlugsGrantedOnce(creates, new Map([['launch', { owner: 's:b' }]]));
    expect(v.map((x) => x.invariant)).toEqual(['slug-once']);
    expect(v[0]!.detail).toContain('granted to 2 owners');
  });

  it('flags a slug granted again to its owner after a create that succeeded (its link silently replaced)', () => {
    const creates = [create({ completedAt: 10 }), create({ invokedAt: 20, completedAt: 30, node: 'n3' })];
    const v = checkSlugsGrantedOnce(creates, new Map([['launch', { owner: 's:a' }]]));
    expect(v.map((x) => x.detail)).toEqual([`"launch" was granted again to s:a at 20, after b0's create succeeded`]);
  });

  it('flags a random slug granted twice, and a granted slug whose link belongs to someone else or is gone', () => {
    const twice = [create({ custom: undefined, slug: 'Zz9Zz9Z' }), create({ custom: undefined, slug: 'Zz9Zz9Z' })];
    expect(checkSlugsGrantedOnce(twice, new Map([['Zz9Zz9Z', { owner: 's:a' }]]))[0]!.detail).toContain(
      'granted 2 times',
    );
    expect(checkSlugsGrantedOnce([create({})], new Map([['launch', { owner: 's:z' }]]))[0]!.detail).toContain(
      'belongs to s:z',
    );
    expect(checkSlugsGrantedOnce([create({})], new Map())[0]!.detail).toContain('no replica holds');
  });
});

describe('max clicks', () => {
  const budget = (served: [string, number][], max = 5): BudgetRecord => ({
    slug: 'launch',
    max,
    servedByLife: new Map(served),
  });

  it('accepts a link used up exactly, with clicks stranded only in a dead life', () => {
    const b = budget([
      ['L1', 3],
      ['L2', 1],
    ]);
    const final = { max: 5, granted: 5, holders: { L1: 3, L2: 2 } };
    expect(checkMaxClicks([b], new Map([['launch', final]]), new Set(['L2']), true)).toEqual([]);
  });

  it('flags more clicks served than the maximum (a budget that skipped its check)', () => {
    const b = budget([
      ['L1', 4],
      ['L2', 2],
    ]);
    const final = { max: 5, granted: 5, holders: { L1: 3, L2: 2 } };
    const v = checkMaxClicks([b], new Map([['launch', final]]), new Set(), true);
    expect(v.map((x) => x.detail)).toEqual(expect.arrayContaining(['launch: 6 clicks served, max 5']));
    // Even when the end state could not be reached, an excess is an excess.
    expect(checkMaxClicks([b], new Map(), new Set(), false).map((x) => x.detail)).toContain(
      'launch: 6 clicks served, max 5',
    );
  });

  it('flags clicks a live node keeps once idle, a total below the maximum, and an unreadable or unfinished budget', () => {
    const b = budget([['L1', 3]]);
    const kept = checkMaxClicks(
      [b],
      new Map([['launch', { max: 5, granted: 5, holders: { L1: 5 } }]]),
      new Set(),
      true,
    );
    expect(kept.map((x) => x.detail)).toEqual([
      'launch: live holder L1 keeps 5 clicks once idle, served 3',
      'launch: idle with 3 served + 0 stranded in dead lives != max 5',
    ]);
    const lost = checkMaxClicks(
      [b],
      new Map([['launch', { max: 5, granted: 3, holders: { L1: 3 } }]]),
      new Set(),
      true,
    );
    expect(lost.map((x) => x.detail)).toEqual(['launch: idle with 3 served + 0 stranded in dead lives != max 5']);
    expect(checkMaxClicks([b], new Map([['launch', undefined]]), new Set(), true)[0]!.detail).toContain(
      'could not be read',
    );
    expect(checkMaxClicks([b], new Map(), new Set(), false)[0]!.detail).toContain('could not use up');
  });
});

describe('exact view totals', () => {
  const record = (slots: ViewRecord['slots'], reported: [string, number | undefined][]): ViewRecord => ({
    key: 'views/launch',
    slots,
    reported: new Map(reported),
  });

  it('accepts live slots complete and a crashed slot between what was acknowledged and what it counted', () => {
    const r = record(
      [
        { slot: 'a', counted: 4, held: 4, ackedAtCrash: undefined },
        { slot: 'b', counted: 5, held: 3, ackedAtCrash: 2 },
      ],
      [
        ['n0', 7],
        ['n1', 7],
      ],
    );
    expect(checkViewTotals([r])).toEqual([]);
  });

  it('flags a view counted twice, a live view lost, a crashed slot below its acknowledged count, and a wrong answer', () => {
    const twice = record([{ slot: 'a', counted: 4, held: 8, ackedAtCrash: undefined }], [['n0', 8]]);
    expect(checkViewTotals([twice])[0]!.detail).toBe('views/launch: live slot a holds 8, counted 4');
    const lost = record([{ slot: 'a', counted: 4, held: 3, ackedAtCrash: undefined }], [['n0', 3]]);
    expect(checkViewTotals([lost])).toHaveLength(1);
    const acked = record([{ slot: 'b', counted: 5, held: 1, ackedAtCrash: 2 }], [['n0', 1]]);
    expect(checkViewTotals([acked])[0]!.detail).toContain('outside [acked 2, counted 5]');
    const wrong = record(
      [{ slot: 'a', counted: 4, held: 4, ackedAtCrash: undefined }],
      [
        ['n0', 4],
        ['n1', 3],
        ['n2', undefined],
      ],
    );
    expect(checkViewTotals([wrong]).map((x) => x.detail)).toEqual([
      'views/launch: n1 reports 3, the replicas hold 4',
      'views/launch: n2 could not read the total after the heal',
    ]);
  });
});

describe('sessions kept', () => {
  const ensure = (e: Partial<EnsureRecord>): EnsureRecord => ({
    client: 'b0',
    node: 'n0',
    invokedAt: 100,
    cookie: 'old-session-id-0000000',
    cookieAcked: true,
    primaries: ['n0', 'n1', 'n2'],
    reachable: 2,
    networkChanged: false,
    outcome: 'ok',
    result: 'old-session-id-0000000',
    completedAt: 120,
    ...e,
  });

  it('accepts a kept session, and a replacement when a majority of its primaries was cut off or the network changed', () => {
    const ok = [
      ensure({}),
      ensure({ result: 'new-session-id-1111111', reachable: 1 }),
      ensure({ result: 'new-session-id-1111111', networkChanged: true }),
      ensure({ result: 'new-session-id-1111111', cookieAcked: false }),
      ensure({ result: undefined, outcome: 'failed' }),
    ];
    expect(checkSessionsKept(ok)).toEqual([]);
  });

  it('flags a session replaced while a majority of its primaries was reachable', () => {
    const v = checkSessionsKept([ensure({ result: 'new-session-id-1111111' })]);
    expect(v.map((x) => x.invariant)).toEqual(['session-kept']);
    expect(v[0]!.detail).toContain('while 2 of its primaries [n0,n1,n2] were reachable');
  });
});
