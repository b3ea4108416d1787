// The session cookie (docs/api.md, Who is calling): the session id in `rl_sid`, HttpOnly,
// SameSite=Lax, Path=/, Secure when PUBLIC_URL is https, with the session's lifetime.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sessionTtlMs, type Session } from '../auth/sessions';

export const sessionCookie = 'rl_sid';

/** The session id the request's cookie carries, if any. */
export function readSessionId(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === sessionCookie) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Give the client its session again when the call that returned it wrote it (new, refreshed, rotated). */
export function sendSessionCookie(res: ServerResponse, session: Session | null, secure: boolean): void {
  if (!session?.issued) return;
  const maxAgeSec = Math.floor(sessionTtlMs / 1000);
  res.appendHeader(
    'set-cookie',
    `${sessionCookie}=${session.id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSec}${secure ? '; Secure' : ''}`,
  );
}

export function clearSessionCookie(res: ServerResponse, secure: boolean): void {
  res.appendHeader(
    'set-cookie',
    `${sessionCookie}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`,
  );
}
