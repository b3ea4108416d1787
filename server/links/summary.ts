// Cluster-wide figures through a coverage query (every partition folded once, on one
// replica, retried elsewhere when a node is down): links, human and bot views, and the
// most viewed links.
import { gcounterValue, type GCounter } from '../../ring/crdt/gcounter';
import type { CoverageQuery } from '../../ring/coverage/coverage';
import type { LinkDoc } from './types';

export const topLinksMax = 10;

export interface LinkSummary {
  links: number;
  views: number;
  bots: number;
  top: [slug: string, total: number][];
}

function mergeTop(a: LinkSummary['top'], b: LinkSummary['top']): LinkSummary['top'] {
  return [...a, ...b].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, topLinksMax);
}

export const linkSummaryQuery: CoverageQuery<LinkSummary> = {
  name: 'link-summary',
  init: () => ({ links: 0, views: 0, bots: 0, top: [] }),
  fold(acc, key, value) {
    if (key.startsWith('link/')) {
      if ((value as LinkDoc | undefined)?.deletedAt === null) acc.links++;
    } else if (key.startsWith('views/')) {
      const n = gcounterValue(value as GCounter);
      acc.views += n;
      if (acc.top.length < topLinksMax || n > acc.top[acc.top.length - 1]![1]) acc.top = mergeTop(acc.top, [[key.slice(6), n]]);
    } else if (key.startsWith('bots/')) acc.bots += gcounterValue(value as GCounter);
    return acc;
  },
  combine: (a, b) => ({ links: a.links + b.links, views: a.views + b.views, bots: a.bots + b.bots, top: mergeTop(a.top, b.top) }),
};
