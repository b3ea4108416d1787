// The shortener's data, as ring data types (riak_core's vnode behaviour: links, sessions,
// accounts and counters declare merge, encoding and expiry; the ring never special-cases
// them). Keys are "<type>/<id>".
//
//   link/<slug>        register  the link document (target, owner, options)
//   owns/<owner>/<s>   2P-set    slugs an owner (account or anonymous session) has, shard s (ownerIndex.ts)
//   session/<idHash>   register  a browser session; the ring expires it
//   apikey/<keyHash>   register  an API key (only its hash is ever stored)
//   keys/<accountId>   2P-set    "id:hash" of an account's API keys
//   views/<slug>       G-counter human views      bots/<slug>  G-counter bot views
//   stats/<slug>       CRDT      series, referrers, devices, unique visitors (stats.ts)
//
// Compare-and-set registers (their state lives in the CAS acceptors, not in a type):
//   slug/<slug>        who claimed a slug: custom and random slugs are granted once
//   user/<username>    the account: usernames are granted once
//   budget/<slug>      max-clicks budget and the leases granted from it (budget.ts)
import { gcounterType, type CrdtType, type DataTypeRegistry, type RegisterType } from '../../ring';
import { statsType } from './stats';

export type RedirectStatus = 301 | 302 | 307 | 308;

export interface PasswordHash {
  readonly salt: string;
  readonly hash: string;
}

export interface LinkDoc {
  readonly slug: string;
  readonly url: string;
  /** "a:<accountId>" or "s:<sessionHash>". */
  readonly owner: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number | null;
  readonly maxClicks: number | null;
  readonly redirectStatus: RedirectStatus;
  readonly password: PasswordHash | null;
  /** Deleted links stay as documents so their short URL answers 410 and the slug is never reissued. */
  readonly deletedAt: number | null;
}

export interface SessionDoc {
  readonly accountId: string | null;
  readonly username: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface ApiKeyDoc {
  readonly id: string;
  readonly accountId: string;
  readonly username: string;
  readonly name: string;
  readonly prefix: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface AccountDoc {
  readonly id: string;
  readonly username: string;
  readonly password: PasswordHash;
  readonly createdAt: number;
}

/**
 * Concurrent edits of a link become siblings; readers see one deterministically. A delete
 * is final, so a deleted sibling wins; otherwise the latest edit, ties broken by content.
 */
export function resolveLink(values: readonly LinkDoc[]): LinkDoc {
  let best = values[0]!;
  for (const v of values.slice(1)) {
    const bd = best.deletedAt !== null;
    const vd = v.deletedAt !== null;
    if (vd !== bd) {
      if (vd) best = v;
      continue;
    }
    if (v.updatedAt > best.updatedAt || (v.updatedAt === best.updatedAt && JSON.stringify(v) > JSON.stringify(best))) best = v;
  }
  return best;
}

const identity = <T>(v: T) => v;

export const linkType: RegisterType<LinkDoc> = { name: 'link', kind: 'register', resolve: resolveLink, encode: identity, decode: (w) => w as LinkDoc };

export const sessionType: RegisterType<SessionDoc> = {
  name: 'session',
  kind: 'register',
  // Siblings of a session differ only by a sliding refresh or a sign-in; the signed-in, longest-lived one wins.
  resolve: (values) => [...values].sort((a, b) => Number(b.accountId !== null) - Number(a.accountId !== null) || b.expiresAt - a.expiresAt)[0]!,
  encode: identity,
  decode: (w) => w as SessionDoc,
  expiresAt: (v) => v.expiresAt,
};

export const apiKeyType: RegisterType<ApiKeyDoc> = {
  name: 'apikey',
  kind: 'register',
  // A revocation is final.
  resolve: (values) => values.find((v) => v.revokedAt !== null) ?? values[0]!,
  encode: identity,
  decode: (w) => w as ApiKeyDoc,
};

/**
 * A two-phase set as a map element → 0 (added) | 1 (removed), merged by max: a removed
 * element never comes back. That is exactly what an owner's index needs (a slug moves from
 * a session to an account once, and a deleted link stays deleted), and unlike an OR-set it
 * needs no actor bookkeeping.
 */
export type TwoPhaseSet = Readonly<Record<string, 0 | 1>>;

/**
 * Elements are slugs and key ids, so the result is a null-prototype record read through
 * Object.hasOwn: on a plain object "__proto__" would hit the prototype setter, and an
 * element "constructor" would look present before it was ever added.
 */
export function mergeTwoPhase(a: TwoPhaseSet, b: TwoPhaseSet): TwoPhaseSet {
  const out = Object.create(null) as Record<string, 0 | 1>;
  for (const [k, v] of Object.entries(a)) out[k] = v;
  for (const [k, v] of Object.entries(b)) if (v === 1 || !Object.hasOwn(out, k)) out[k] = v;
  return out;
}

export const twoPhaseMembers = (s: TwoPhaseSet): string[] => Object.entries(s).flatMap(([k, v]) => (v === 0 ? [k] : []));

function twoPhaseSetType(name: string): CrdtType<TwoPhaseSet> {
  return {
    name,
    kind: 'crdt',
    empty: () => ({}),
    merge: mergeTwoPhase,
    encode: identity,
    decode: (w) => {
      if (typeof w !== 'object' || w === null || Array.isArray(w) || !Object.values(w).every((v) => v === 0 || v === 1)) {
        throw new Error(`${name}: not a two-phase set`);
      }
      return mergeTwoPhase(w as TwoPhaseSet, {});
    },
  };
}

export function registerLinkTypes(types: DataTypeRegistry): void {
  types.register(linkType);
  types.register(sessionType);
  types.register(apiKeyType);
  types.register(twoPhaseSetType('owns'));
  types.register(twoPhaseSetType('keys'));
  types.register(gcounterType('views'));
  types.register(gcounterType('bots'));
  types.register(statsType);
}

export const linkKey = (slug: string) => `link/${slug}`;
export const ownsKey = (owner: string) => `owns/${owner}`;
export const viewsKey = (slug: string) => `views/${slug}`;
export const botsKey = (slug: string) => `bots/${slug}`;
export const statsKey = (slug: string) => `stats/${slug}`;
export const slugClaimKey = (slug: string) => `slug/${slug}`;
export const userKey = (username: string) => `user/${username.toLowerCase()}`;
export const budgetKey = (slug: string) => `budget/${slug}`;
export const sessionKey = (idHash: string) => `session/${idHash}`;
export const apiKeyKey = (keyHash: string) => `apikey/${keyHash}`;
export const keysKey = (accountId: string) => `keys/${accountId}`;
