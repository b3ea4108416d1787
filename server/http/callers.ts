// Who is calling the public API (docs/api.md, Who is calling): an API key, else the session
// cookie; and the services the API's route tables (./routes/{session,links,keys}.ts) share.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Accounts } from '../auth/accounts';
import type { ApiKeys } from '../auth/apiKeys';
import type { Session, Sessions } from '../auth/sessions';
import type { LinkService } from '../links/linkService';
import type { RateLimits } from './rateLimits';
import { HttpError, inputError } from './respond';
import { checkOrigin } from './security';
import { readSessionId, sendSessionCookie } from './sessionCookie';

export interface ApiDeps {
  links: LinkService;
  sessions: Sessions;
  accounts: Accounts;
  apiKeys: ApiKeys;
  limits: RateLimits;
  /** PUBLIC_URL without a trailing slash, when set. */
  publicUrl: string | undefined;
  /** Without PUBLIC_URL: whether a request's Host is one of this service's own (never reflect another). */
  isOwnHost(host: string): boolean;
  /** Without PUBLIC_URL: the base of short URLs when the Host is not one of ours. */
  defaultBaseUrl: string;
  trustProxy: boolean;
  /** Session cookies get Secure (PUBLIC_URL is https). */
  secureCookies: boolean;
}

/** The API's dependencies with what is computed from them once. */
export interface Api extends ApiDeps {
  /** PUBLIC_URL's origin: cookie writes may come from it (as well as from the Host addressed). */
  publicOrigin: string | undefined;
}

export function apiOf(deps: ApiDeps): Api {
  return { ...deps, publicOrigin: deps.publicUrl ? new URL(deps.publicUrl).origin : undefined };
}

export interface Caller {
  owner: string;
  account: { id: string; username: string } | null;
  session: Session | null;
  viaApiKey: boolean;
}

export type AccountCaller = Caller & { account: { id: string; username: string } };

/** The base of short URLs in answers to this request. */
export function baseUrl(api: Api, req: IncomingMessage): string {
  if (api.publicUrl) return api.publicUrl;
  // A Host header is the client's to choose: reflecting it would let anyone mint short
  // URLs on a domain of theirs (Host: attacker.example), so only our own hosts are used.
  const host = req.headers.host;
  return host && api.isOwnHost(host) ? `http://${host}` : api.defaultBaseUrl;
}

/** The caller's session, refreshed when due (its cookie sent again then). */
export async function currentSession(api: Api, req: IncomingMessage, res: ServerResponse): Promise<Session | null> {
  const session = await api.sessions.current(readSessionId(req));
  sendSessionCookie(res, session, api.secureCookies);
  return session;
}

/**
 * Who is calling: an API key, else the session cookie, which a write must send from our own
 * pages (Origin). With `create`, a caller without a session gets one (and its cookie).
 */
export async function callerOf(
  api: Api,
  req: IncomingMessage,
  res: ServerResponse,
  opts: { write: boolean; create?: boolean },
): Promise<Caller | null> {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    const key = m ? await api.apiKeys.authenticate(m[1]!) : null;
    if (!key) {
      throw new HttpError(
        401,
        'Unauthorized',
        'The API key is not valid (revoked, mistyped, or not a ringlink key). Create one on the API keys page.',
        {
          'www-authenticate': 'Bearer',
        },
      );
    }
    return {
      owner: `a:${key.accountId}`,
      account: { id: key.accountId, username: key.username },
      session: null,
      viaApiKey: true,
    };
  }
  if (opts.write) checkOrigin(req, api.publicOrigin);
  let session: Session | null;
  if (opts.create) {
    session = await api.sessions.ensure(readSessionId(req));
    sendSessionCookie(res, session, api.secureCookies);
  } else session = await currentSession(api, req, res);
  if (!session) return null;
  const account = session.doc.accountId ? { id: session.doc.accountId, username: session.doc.username ?? '' } : null;
  return { owner: account ? `a:${account.id}` : `s:${session.idHash}`, account, session, viaApiKey: false };
}

/** A caller who may own links; one without a session has none, so every link is "not yours". */
export async function requireCaller(
  api: Api,
  req: IncomingMessage,
  res: ServerResponse,
  write: boolean,
): Promise<Caller> {
  const c = await callerOf(api, req, res, { write });
  if (!c)
    throw inputError(404, undefined, 'link_not_found', 'There is no such link among yours (you have no session yet).');
  return c;
}

export async function requireAccount(
  api: Api,
  req: IncomingMessage,
  res: ServerResponse,
  write: boolean,
): Promise<AccountCaller> {
  const c = await callerOf(api, req, res, { write });
  if (!c?.account) throw new HttpError(401, 'Unauthorized', 'Sign in to manage API keys.');
  return c as AccountCaller;
}
