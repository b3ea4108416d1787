// Sessions and accounts (docs/api.md, Session and accounts): who is signed in, sign-up,
// sign-in and sign-out. Sign-up and sign-in move the anonymous session's links to the account
// and rotate the session id.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialsBody, sessionViewSchema, signInResultSchema } from '../../../contract/schemas';
import type { SessionView, SignInResult } from '../../../contract/types';
import { USERNAME_PATTERN } from '../../auth/accounts';
import { callerOf, currentSession, type Api } from '../callers';
import { inputError, json } from '../respond';
import { routesFor } from '../router';
import { clientIp } from '../security';
import { clearSessionCookie, sendSessionCookie } from '../sessionCookie';

const route = routesFor<Api>();
const tag = 'Session and accounts';
const signedInAnswer = { description: 'Signed in; the session cookie is set.', schema: signInResultSchema };

/** The account's new session (the old one ended), with the anonymous session's links moved to it. */
async function signedIn(
  api: Api,
  req: IncomingMessage,
  res: ServerResponse,
  account: { id: string; username: string },
  status: number,
): Promise<void> {
  const old = await currentSession(api, req, res);
  let migrated = 0;
  if (old && !old.doc.accountId) migrated = await api.links.migrate(`s:${old.idHash}`, `a:${account.id}`);
  sendSessionCookie(res, await api.sessions.signIn(old, account), api.secureCookies);
  const answer: SignInResult = { user: { id: account.id, username: account.username }, migrated };
  json(res, status, answer);
}

export const sessionRoutes = [
  route({
    method: 'GET',
    path: '/api/session',
    auth: 'caller',
    doc: {
      summary: 'Who is signed in',
      tag,
      responses: { 200: { description: 'The account, or null.', schema: sessionViewSchema } },
    },
    async handler({ req, res }, api) {
      const c = await callerOf(api, req, res, { write: false }).catch(() => null);
      const answer: SessionView = { user: c?.account ? { id: c.account.id, username: c.account.username } : null };
      json(res, 200, answer);
    },
  }),
  route({
    method: 'POST',
    path: '/api/auth/signup',
    auth: 'session',
    body: credentialsBody,
    doc: {
      summary: 'Create an account and sign in',
      tag,
      responses: { 201: signedInAnswer, 409: { description: 'The username is taken.' } },
    },
    async handler({ req, res, body }, api) {
      const u = body.username.trim().toLowerCase();
      if (!USERNAME_PATTERN.test(u))
        throw inputError(
          422,
          'username',
          'invalid_username',
          'Usernames are 3-32 characters of a-z, 0-9, "_" and "-".',
        );
      if (body.password.length < 8 || body.password.length > 256)
        throw inputError(422, 'password', 'invalid_password', 'Passwords need 8 to 256 characters.');
      await api.limits.signUp(clientIp(req, api.trustProxy));
      const r = await api.accounts.signUp(u, body.password);
      if (!r.ok)
        throw inputError(409, 'username', 'username_taken', `The username "${u}" is taken. Choose another one.`);
      return signedIn(api, req, res, r.account, 201);
    },
  }),
  route({
    method: 'POST',
    path: '/api/auth/signin',
    auth: 'session',
    body: credentialsBody,
    doc: {
      summary: 'Sign in',
      tag,
      responses: { 200: signedInAnswer, 401: { description: 'Wrong username or password.' } },
    },
    async handler({ req, res, body }, api) {
      const ip = clientIp(req, api.trustProxy);
      const u = body.username.trim().toLowerCase();
      await api.limits.signIn(ip, u);
      const account = USERNAME_PATTERN.test(u) ? await api.accounts.verify(u, body.password) : null;
      if (!account)
        throw inputError(401, undefined, 'bad_credentials', 'That username and password do not match an account.');
      await api.limits.signedIn(ip, u);
      return signedIn(api, req, res, account, 200);
    },
  }),
  route({
    method: 'POST',
    path: '/api/auth/signout',
    auth: 'session',
    doc: {
      summary: 'Sign out',
      tag,
      responses: { 204: { description: 'Signed out; the session cookie is cleared.' } },
    },
    async handler({ req, res }, api) {
      const session = await currentSession(api, req, res);
      if (session) {
        // Ending a session is a write too (its record is deleted on the ring).
        await api.limits.write(
          clientIp(req, api.trustProxy),
          session.doc.accountId ? `a:${session.doc.accountId}` : `s:${session.idHash}`,
        );
        await api.sessions.signOut(session);
      }
      clearSessionCookie(res, api.secureCookies);
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
    },
  }),
];
