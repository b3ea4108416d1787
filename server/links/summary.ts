// Cluster-wide figures through a coverage query (every partition folded on two replicas,
// retried elsewhere when a node is down, and reconciled): links, human and bot views, and
// the most viewed links. Two replicas, because one can lag behind (it missed a delta the
// others acknowledged) and a total shown to a person must never go down.
import { gcounterValue, type CoverageQuery, type GCounter } from '../../ring';
import type { LinkDoc } from './linkDoc';

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
      if (acc.top.length < topLinksMax || n > acc.top[acc.top.length - 1]![1])
        acc.top = mergeTop(acc.top, [[key.slice(6), n]]);
    } else if (key.startsWith('bots/')) acc.bots += gcounterValue(value as GCounter);
    return acc;
  },
  combine: (a, b) => ({
    links: a.links + b.links,
    views: a.views + b.views,
    bots: a.bots + b.bots,
    top: mergeTop(a.top, b.top),
  }),
  replicas: 2,
  // Views and bots are sums of grow-only counters, so the larger is the fresher; links too
  // (a delete that one replica has not seen yet is at most a moment early).
  reconcile: (a, b) => ({
    links: Math.max(a.links, b.links),
    views: Math.max(a.views, b.views),
    bots: Math.max(a.bots, b.bots),
    top: reconcileTop(a.top, b.top),
  }),
};

/** One partition's top links from two replicas: each slug at the larger of its two totals. */
function reconcileTop(a: LinkSummary['top'], b: LinkSummary['top']): LinkSummary['top'] {
  const best = new Map<string, number>();
  for (const [slug, n] of [...a, ...b]) best.set(slug, Math.max(n, best.get(slug) ?? 0));
  return mergeTop([...best], []);
}

/**
 * What one node answers for the cluster's totals: never less than it answered before. Views
 * and bots only grow, so an earlier answer is still a lower bound on the truth; a later
 * coverage read that met a lagging replica (or missed a partition) is raised to it.
 */
export class MonotoneTotals {
  private views = 0;
  private bots = 0;

  raise(s: { views: number; bots: number }): { views: number; bots: number } {
    this.views = Math.max(this.views, s.views);
    this.bots = Math.max(this.bots, s.bots);
    return { views: this.views, bots: this.bots };
  }
}
