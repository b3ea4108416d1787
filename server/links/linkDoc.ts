// The link document (key link/<slug>) and how concurrent edits of it resolve.
import type { IndexFilter, RegisterType } from '../../ring';
import type { RedirectStatus } from '../../contract/types';
import type { PasswordHash } from '../auth/passwords';

export type { RedirectStatus };

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
    if (v.updatedAt > best.updatedAt || (v.updatedAt === best.updatedAt && JSON.stringify(v) > JSON.stringify(best)))
      best = v;
  }
  return best;
}

/** The ring's secondary index of links by owner, newest (highest createdAt) first: "my links". */
export const ownerIndexName = 'owner';

export const linkType: RegisterType<LinkDoc> = {
  name: 'link',
  kind: 'register',
  resolve: resolveLink,
  encode: (v) => v,
  decode: (w) => ownedLinkDoc(w as LinkDoc),
  // A deleted link leaves its owner's list; the document stays (410, slug never reissued).
  index: (v) => (v.deletedAt === null ? [{ name: ownerIndexName, term: v.owner, sort: v.createdAt }] : []),
};

/**
 * Whether `s` contains lower-case `q`, case-insensitively: `s.toLowerCase().includes(q)`
 * without building the lower-cased copy while `s` is ASCII (where lower-casing maps A-Z to
 * a-z and nothing else); at the first other character it lower-cases `s` after all. A search
 * runs this over every link of an owner, so it allocates nothing on the common path.
 */
export function contains(s: string, q: string): boolean {
  if (s.includes(q)) return true;
  const m = q.length;
  const last = s.length - m;
  for (let i = 0; i <= last; i++) {
    let j = 0;
    for (; j < m; j++) {
      let c = s.charCodeAt(i + j);
      if (c >= 128) return s.toLowerCase().includes(q);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== q.charCodeAt(j)) break;
    }
    if (j === m) return true;
  }
  // Characters past `last` were never read: lower-casing a non-ASCII one could lengthen `s`.
  for (let k = Math.max(0, last + 1); k < s.length; k++) if (s.charCodeAt(k) >= 128) return s.toLowerCase().includes(q);
  return false;
}

/** Index filter: links whose slug or target contains the (lower-case) argument, case-insensitively. */
export const linkTextFilter: IndexFilter = {
  name: 'link-text',
  match: (value, arg) => {
    const doc = value as LinkDoc;
    const q = arg as string;
    return contains(doc.slug, q) || contains(doc.url, q);
  },
};

const linkDocFields: readonly string[] = [
  'slug',
  'url',
  'owner',
  'createdAt',
  'updatedAt',
  'expiresAt',
  'maxClicks',
  'redirectStatus',
  'password',
  'deletedAt',
] satisfies (keyof LinkDoc)[];

/**
 * A replica keeps what it decodes for as long as it holds the link. Strings msgpack decoded
 * from a message are slices of the whole message and keep it alive, and an object built one
 * field at a time spills past 4 fields into a separate property array. So: fresh strings
 * (through JSON: a link document is strings, numbers and null by construction), then one
 * object literal with every field inline (docs/storage.md). A document with fields this
 * version does not know keeps them all (the JSON copy).
 */
function ownedLinkDoc(w: LinkDoc): LinkDoc {
  const d = JSON.parse(JSON.stringify(w)) as LinkDoc;
  if (Object.keys(d).length !== linkDocFields.length || !linkDocFields.every((f) => f in d)) return d;
  return {
    slug: d.slug,
    url: d.url,
    owner: d.owner,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    expiresAt: d.expiresAt,
    maxClicks: d.maxClicks,
    redirectStatus: d.redirectStatus,
    password: d.password,
    deletedAt: d.deletedAt,
  };
}
