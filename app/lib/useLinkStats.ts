'use client';

// Live stats of one link. For now it polls GET /api/links/:slug/stats; when the socket.io
// `stats` events land, only this hook changes (subscribe {slug}, apply events).

import { useEffect, useState } from 'react';
import { api, ApiError, type LinkStats } from './api';

export const statsPollIntervalMs = 2000;

export interface LinkStatsState {
  stats: LinkStats | null;
  /** The last failure; cleared by the next success. A 404 stops the polling. */
  error: unknown;
}

export function useLinkStats(slug: string): LinkStatsState {
  const [state, setState] = useState<LinkStatsState>({ stats: null, error: null });

  useEffect(() => {
    let active = true; // false once this effect is cleaned up
    let gone = false; // a 404: the link is not there (or not ours); polling stops
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    setState({ stats: null, error: null });

    async function poll() {
      timer = undefined;
      if (!active || gone || inFlight) return;
      // A hidden tab does not poll; visibilitychange resumes it.
      if (document.visibilityState === 'hidden') return;
      inFlight = true;
      try {
        const stats = await api.linkStats(slug);
        if (active) setState({ stats, error: null });
      } catch (error) {
        gone = error instanceof ApiError && error.status === 404;
        if (active) setState((s) => ({ stats: s.stats, error }));
      } finally {
        inFlight = false;
      }
      if (active && !gone) timer = setTimeout(poll, statsPollIntervalMs);
    }

    function onVisibilityChange() {
      if (document.visibilityState === 'visible' && timer === undefined) void poll();
    }

    void poll();
    document.addEventListener('visibilitychange', onVisibilityChange);
    return () => {
      active = false;
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibilityChange);
    };
  }, [slug]);

  return state;
}
