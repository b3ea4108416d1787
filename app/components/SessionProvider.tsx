'use client';

// Who is signed in (GET /api/session), shared by the header and the pages, plus a one-shot
// notice that survives a client-side navigation ("3 links moved to your account").

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, type User } from '../lib/api';
import { restartLive } from '../lib/live';

interface SessionState {
  /** undefined while the first answer is on its way. */
  user: User | null | undefined;
  setUser: (user: User | null) => void;
  refresh: () => Promise<void>;
  notice: Notice | null;
  showNotice: (notice: Notice | null) => void;
}

/** A message for the page at `path`, shown there until the next navigation or dismissal. */
export interface Notice {
  text: string;
  path: string;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, showNotice] = useState<Notice | null>(null);

  const refresh = useCallback(async () => {
    try {
      const answer = await api.session();
      setUser(answer.user);
    } catch {
      // The header falls back to "Sign in"; pages report their own errors.
      setUser(null);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // Signing in or up rotates the session cookie; the live socket reconnects to present it.
  const userId = user === undefined ? undefined : (user?.id ?? null);
  const previousUserId = useRef(userId);
  useEffect(() => {
    const before = previousUserId.current;
    previousUserId.current = userId;
    if (before !== undefined && before !== userId) restartLive();
  }, [userId]);

  const value = useMemo(() => ({ user, setUser, refresh, notice, showNotice }), [user, refresh, notice]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === null) throw new Error('useSession must be used inside <SessionProvider>');
  return state;
}
