'use client';

// Live view counts for a list of links: one `stats` subscription per slug (at most
// liveLinksMax), re-made when the set of slugs changes, dropped on unmount. Events are
// gathered and handed over once per animation frame, so a burst of clicks on many links
// costs one render.

import { useEffect, useRef } from 'react';
import { subscribeLink } from './live';

export const liveLinksMax = 100;

export interface LiveCounts {
  total: number;
  bots: number;
}

export function useLiveLinkCounts(
  slugs: readonly string[],
  apply: (counts: ReadonlyMap<string, LiveCounts>) => void,
): void {
  const applyRef = useRef(apply);
  applyRef.current = apply;
  // The order of the slugs does not matter; a stable key keeps re-sorting from resubscribing.
  const key = [...new Set(slugs.slice(0, liveLinksMax))].sort().join('\n');

  useEffect(() => {
    if (key === '') return;
    let pending = new Map<string, LiveCounts>();
    let frame: number | undefined;
    const flush = () => {
      frame = undefined;
      const batch = pending;
      pending = new Map();
      if (batch.size > 0) applyRef.current(batch);
    };
    const unsubscribes = key.split('\n').map((slug) =>
      subscribeLink(slug, (stats) => {
        pending.set(slug, { total: stats.total, bots: stats.bots });
        frame ??= requestAnimationFrame(flush);
      }),
    );
    return () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
      if (frame !== undefined) cancelAnimationFrame(frame);
    };
  }, [key]);
}
