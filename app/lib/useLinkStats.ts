'use client';

// Live stats of one link: a first GET /api/links/:slug/stats for the first paint, then the
// socket.io `stats` events (subscribe {slug}). While the socket is down, or the server
// refused the subscription, a slow poll keeps the numbers fresh until it is back.

import { useEffect, useState } from 'react';
import { api, ApiError, type LinkStats } from './api';
import { liveState, onLiveState, subscribeLink, useLiveState, type LiveState } from './live';

/** How often the stats are fetched while live updates are not flowing. */
export const statsFallbackPollMs = 15_000;
/** How soon a failed first fetch is retried (nothing is on screen yet). */
const firstFetchRetryMs = 3000;

export interface LinkStatsState {
  stats: LinkStats | null;
  /** The last failure; cleared by the next success. A 404 stops the updates. */
  error: unknown;
  /** True while `stats` events flow: the socket is connected and the subscription was accepted. */
  live: boolean;
  /** The shared socket's state, for a "Live" / "Reconnecting…" indicator. */
  connection: LiveState;
}

export function useLinkStats(slug: string): LinkStatsState {
  const [state, setState] = useState<{ stats: LinkStats | null; error: unknown; refused: boolean }>({
    stats: null,
    error: null,
    refused: false,
  });
  const connection = useLiveState();

  useEffect(() => {
    let active = true; // false once this effect is cleaned up
    let gone = false; // a 404: the link is not there (or not ours); updates stop
    let refused = false; // the server said no to the subscription; polling stands in
    let haveStats = false;
    let socketEvents = 0; // a fetch that started before the latest event must not undo it
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    setState({ stats: null, error: null, refused: false });

    const unsubscribe = subscribeLink(
      slug,
      (stats) => {
        if (!active || gone) return;
        socketEvents++;
        haveStats = true;
        setState({ stats, error: null, refused: false });
      },
      () => {
        if (!active) return;
        refused = true;
        setState((s) => ({ ...s, refused: true }));
      },
    );

    const streaming = () => liveState() === 'connected' && !refused;

    async function fetchStats() {
      if (!active || gone || inFlight) return;
      inFlight = true;
      const eventsBefore = socketEvents;
      try {
        const stats = await api.linkStats(slug);
        if (active && socketEvents === eventsBefore) {
          haveStats = true;
          setState((s) => ({ ...s, stats, error: null }));
        }
      } catch (error) {
        gone = error instanceof ApiError && error.status === 404;
        if (gone) unsubscribe();
        if (active) setState((s) => ({ ...s, error }));
      } finally {
        inFlight = false;
      }
      schedule();
    }

    function schedule() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (!active || gone) return;
      timer = setTimeout(tick, haveStats ? statsFallbackPollMs : firstFetchRetryMs);
    }

    function tick() {
      timer = undefined;
      // Live events need no polling; a hidden tab does not poll (visibilitychange resumes it).
      if (streaming() || document.visibilityState === 'hidden') return schedule();
      void fetchStats();
    }

    function onVisibilityChange() {
      if (document.visibilityState === 'visible' && !streaming() && haveStats) void fetchStats();
    }

    void fetchStats();
    document.addEventListener('visibilitychange', onVisibilityChange);
    const stopWatchingSocket = onLiveState(() => {
      // A fresh socket re-subscribes and gets the stats pushed; nothing to do then.
      if (liveState() === 'connected') refused = false;
    });
    return () => {
      active = false;
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibilityChange);
      stopWatchingSocket();
      unsubscribe();
    };
  }, [slug]);

  return { stats: state.stats, error: state.error, live: connection === 'connected' && !state.refused, connection };
}
