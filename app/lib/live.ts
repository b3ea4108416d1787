'use client';

// Live updates over socket.io (docs/api.md, "Live updates"): one shared connection per tab,
// opened on the first subscription, reconnecting on its own. Every subscription is
// reference-counted here and sent to the server once; after a reconnect (the server forgot
// them with the old connection) all active ones are sent again. Emits happen only while
// connected: socket.io would otherwise buffer them and replay them next to ours.

import { useSyncExternalStore } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { ClusterUpdate, LinkStats } from './api';

/** idle: no connection yet; connecting: the first attempt; reconnecting: lost, trying again. */
export type LiveState = 'idle' | 'connecting' | 'connected' | 'reconnecting';

export type LinkStatsListener = (stats: LinkStats) => void;
export type ClusterListener = (cluster: ClusterUpdate) => void;
/** The server refused a subscription (its `error`), or did not answer it. */
export type SubscribeErrorListener = (error: string) => void;

interface Subscription<L> {
  listeners: Set<L>;
  onError: Set<SubscribeErrorListener>;
}

type Ack = { ok: true } | { ok: false; error?: string };

const ackTimeoutMs = 5000;
const ackRetryMs = 2000;
/** A server-side disconnect or middleware refusal stops socket.io's own retries; we retry. */
const manualReconnectMs = 2000;
/** With nothing subscribed for this long, the connection closes (a later subscribe reopens it). */
const idleCloseMs = 30_000;

let socket: Socket | null = null;
let state: LiveState = 'idle';
let idleTimer: ReturnType<typeof setTimeout> | undefined;
let everConnected = false;
const stateListeners = new Set<() => void>();
const links = new Map<string, Subscription<LinkStatsListener>>();
let cluster: Subscription<ClusterListener> | null = null;

function setState(next: LiveState) {
  if (state === next) return;
  state = next;
  for (const listener of stateListeners) listener();
}

function topic(key: string): { slug: string } | { cluster: true } {
  return key === '' ? { cluster: true } : { slug: key };
}

function sendSubscribe(key: string) {
  const s = socket;
  if (s === null || !s.connected) return; // the next `connect` sends it
  s.timeout(ackTimeoutMs).emit('subscribe', topic(key), (err: Error | null, ack?: Ack) => {
    const sub = key === '' ? cluster : links.get(key);
    if (sub === null || sub === undefined) return; // unsubscribed meanwhile
    if (err !== null) {
      // No answer in time: ask again while still connected (a reconnect re-sends anyway).
      setTimeout(() => {
        if ((key === '' ? cluster : links.get(key)) === sub && socket?.connected) sendSubscribe(key);
      }, ackRetryMs);
      return;
    }
    if (ack !== undefined && ack.ok === false) {
      const message = ack.error ?? 'The server refused live updates.';
      for (const listener of sub.onError) listener(message);
    }
  });
}

function sendUnsubscribe(key: string) {
  const s = socket;
  if (s === null || !s.connected) return; // the server dropped it with the connection
  s.timeout(ackTimeoutMs).emit('unsubscribe', topic(key), () => {});
}

function activeCount(): number {
  return links.size + (cluster === null ? 0 : 1);
}

function ensureSocket(): Socket {
  if (idleTimer !== undefined) {
    clearTimeout(idleTimer);
    idleTimer = undefined;
  }
  if (socket !== null) {
    if (!socket.connected && !socket.active) {
      setState(everConnected ? 'reconnecting' : 'connecting');
      socket.connect();
    }
    return socket;
  }
  const s = io({ transports: ['websocket'], withCredentials: true, autoConnect: false });
  socket = s;
  s.on('connect', () => {
    everConnected = true;
    setState('connected');
    if (cluster !== null) sendSubscribe('');
    for (const slug of links.keys()) sendSubscribe(slug);
  });
  s.on('disconnect', (reason) => {
    if (socket !== s) return;
    if (reason === 'io client disconnect') {
      setState('idle');
      return;
    }
    setState('reconnecting');
    // After a server-side disconnect socket.io does not retry by itself.
    if (!s.active)
      setTimeout(() => socket === s && !s.connected && activeCount() > 0 && s.connect(), manualReconnectMs);
  });
  s.on('connect_error', () => {
    if (socket !== s) return;
    setState(everConnected ? 'reconnecting' : 'connecting');
    // A refusal by the server's middleware is final for socket.io; keep trying.
    if (!s.active)
      setTimeout(() => socket === s && !s.connected && activeCount() > 0 && s.connect(), manualReconnectMs);
  });
  s.on('stats', (stats: LinkStats) => {
    const sub = stats !== null && typeof stats === 'object' ? links.get(stats.slug) : undefined;
    if (sub !== undefined) for (const listener of [...sub.listeners]) listener(stats);
  });
  s.on('cluster', (update: ClusterUpdate) => {
    if (cluster !== null && update !== null && typeof update === 'object')
      for (const listener of [...cluster.listeners]) listener(update);
  });
  setState('connecting');
  s.connect();
  return s;
}

function released() {
  if (activeCount() > 0 || idleTimer !== undefined) return;
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    if (activeCount() === 0 && socket !== null) {
      socket.disconnect();
      everConnected = false;
    }
  }, idleCloseMs);
}

/**
 * Live `stats` of one link: `onStats` gets the first right after the subscription and
 * another after every change. Returns the unsubscribe function.
 */
export function subscribeLink(slug: string, onStats: LinkStatsListener, onError?: SubscribeErrorListener): () => void {
  let sub = links.get(slug);
  const isNew = sub === undefined;
  if (sub === undefined) {
    sub = { listeners: new Set(), onError: new Set() };
    links.set(slug, sub);
  }
  // A fresh wrapper per call, so the same function subscribed twice unsubscribes once each.
  const listener: LinkStatsListener = (stats) => onStats(stats);
  const errorListener: SubscribeErrorListener = (error) => onError?.(error);
  sub.listeners.add(listener);
  sub.onError.add(errorListener);
  const s = ensureSocket();
  if (isNew) sendSubscribe(slug);
  else if (s.connected) sendSubscribe(slug); // the server answers with the current stats for this listener
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const current = links.get(slug);
    if (current === undefined) return;
    current.listeners.delete(listener);
    current.onError.delete(errorListener);
    if (current.listeners.size === 0) {
      links.delete(slug);
      sendUnsubscribe(slug);
      released();
    }
  };
}

/** The `cluster` view of the node this tab is connected to: right away, on change, every 2 s. */
export function subscribeCluster(onCluster: ClusterListener, onError?: SubscribeErrorListener): () => void {
  const isNew = cluster === null;
  if (cluster === null) cluster = { listeners: new Set(), onError: new Set() };
  const sub = cluster;
  const listener: ClusterListener = (update) => onCluster(update);
  const errorListener: SubscribeErrorListener = (error) => onError?.(error);
  sub.listeners.add(listener);
  sub.onError.add(errorListener);
  const s = ensureSocket();
  if (isNew || s.connected) sendSubscribe('');
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (cluster !== sub) return;
    sub.listeners.delete(listener);
    sub.onError.delete(errorListener);
    if (sub.listeners.size === 0) {
      cluster = null;
      sendUnsubscribe('');
      released();
    }
  };
}

/**
 * Reconnects so the handshake carries the current session cookie (after sign-in or
 * sign-up the server knows this browser by a new session); subscriptions are re-sent.
 */
export function restartLive(): void {
  const s = socket;
  if (s === null) return;
  s.disconnect();
  if (activeCount() > 0) {
    setState('reconnecting');
    s.connect();
  }
}

export function liveState(): LiveState {
  return state;
}

export function onLiveState(listener: () => void): () => void {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

/** The connection state, for the "Live" indicators; 'idle' during server rendering. */
export function useLiveState(): LiveState {
  return useSyncExternalStore(onLiveState, liveState, () => 'idle');
}
