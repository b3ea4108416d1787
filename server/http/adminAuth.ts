// The admin token (README.md, Security): operator routes need `Authorization: Bearer <ADMIN_TOKEN>`.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './respond';

const challenge = { 'www-authenticate': 'Bearer' };

/** Refuses the request unless it carries the admin token: 403 when the node has none, else 401. */
export function requireAdminToken(req: IncomingMessage, adminToken: string | undefined): void {
  if (!adminToken) throw new HttpError(403, 'Forbidden', 'admin routes are disabled: set ADMIN_TOKEN on this node');
  // `\s+(\S.*)` and not `\s+(.+)`: the two quantifiers must not both match spaces, or a long
  // run of them that fails to match at its end is retried at every split (quadratic).
  const m = /^Bearer\s+(\S.*)$/i.exec(String(req.headers.authorization ?? ''));
  if (!m) throw new HttpError(401, 'Unauthorized', 'send Authorization: Bearer <ADMIN_TOKEN>', challenge);
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(adminToken);
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new HttpError(401, 'Unauthorized', 'send Authorization: Bearer <ADMIN_TOKEN>', challenge);
  }
}
