// Slugs that name something else on this site, so they can never be links (compared
// case-insensitively): the first path segment of every route in the route table, of every
// page of the web app (from the folders of app/, written at build time into
// ./appRoutes.generated.ts), and a fixed list of extras. The redirect fast path leaves these
// to the router, and LinkService refuses them as custom slugs and never draws them at random.
import { appRouteSegments } from './appRoutes.generated';
import type { Route } from './router';
import { routeTable } from './routes';

/**
 * Reserved beyond the routes and pages: framework paths (Next.js, socket.io, the ring's
 * transport), files browsers and crawlers ask for (Next's metadata routes among them), and
 * words people would take for a page of this site, now or later.
 */
// prettier-ignore
export const reservedExtras: readonly string[] = [
  // framework and transport paths
  '_next', '_ring', '_internal', 'socket.io', 'socket-io', 'socket_io', 'static', 'assets', 'public',
  'livez', 'health', 'ready', 'status', 'cluster', 'ring', 'ringctl', 'webhook', 'webhooks', 'well-known',
  // files browsers and crawlers ask for
  'favicon', 'favicon.ico', 'robots', 'robots.txt', 'sitemap', 'sitemap.xml', 'manifest', 'icon', 'apple-icon',
  'opengraph-image', 'twitter-image',
  // accounts
  'login', 'logout', 'signin', 'signout', 'signup', 'sign-in', 'sign-out', 'sign-up', 'register',
  'auth', 'oauth', 'account', 'accounts', 'settings', 'profile', 'user', 'users', 'me', 'password',
  'reset', 'verify', 'keys', 'api-keys', 'tokens',
  // pages
  'admin', 'dashboard', 'links', 'link', 'new', 'edit', 'delete', 'create', 'stats', 'qr',
  'preview', 'about', 'help', 'docs', 'privacy', 'terms', 'tos', 'legal', 'contact', 'support',
  'abuse', 'report', 'security', 'home', 'index', 'www', 'app', 'search',
  // msgpackr (ring wire and disk) decodes a "__proto__" key as "__proto_": an owner index
  // holding this slug would name another link on every other replica.
  '__proto__',
];

/** `/api/links/:slug` → `api`; a path whose first segment is a parameter or a wildcard has none. */
export function firstSegment(path: string): string | undefined {
  const s = path.split('/')[1];
  return s && !/^[:*]/.test(s) ? s : undefined;
}

export function reservedSlugsOf(
  routes: readonly Route<never>[],
  pages: readonly string[],
  extras: readonly string[],
): ReadonlySet<string> {
  const names = [...routes.map((r) => firstSegment(r.path)), ...pages, ...extras].filter(
    (s): s is string => s !== undefined,
  );
  return new Set(names.map((s) => s.toLowerCase()));
}

/** Lower-case. */
export const reservedSlugs: ReadonlySet<string> = reservedSlugsOf(routeTable, appRouteSegments, reservedExtras);
