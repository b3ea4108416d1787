// The one typed client for the ringlink HTTP API (docs/api.md). Every page fetches through
// it: success returns the typed body, failure throws an ApiError parsed from problem+json.

export type RedirectStatus = 301 | 302 | 307 | 308;
export type LinkStatus = 'active' | 'expired' | 'used_up' | 'deleted';

export interface User {
  id: string;
  username: string;
}

export interface Link {
  slug: string;
  shortUrl: string;
  url: string;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
  maxClicks: number | null;
  redirectStatus: RedirectStatus;
  hasPassword: boolean;
  status: LinkStatus;
  total: number;
  bots: number;
}

export interface NewLink {
  url: string;
  slug?: string;
  expiresAt?: string;
  password?: string;
  maxClicks?: number;
  redirectStatus?: RedirectStatus;
}

/** `null` clears expiresAt, password and maxClicks; absent fields stay as they are. */
export interface LinkChanges {
  url?: string;
  expiresAt?: string | null;
  password?: string | null;
  maxClicks?: number | null;
  redirectStatus?: RedirectStatus;
}

export interface LinkQuery {
  q?: string;
  sort?: 'created' | 'total' | 'slug';
  order?: 'asc' | 'desc';
}

export interface NodeInPreferenceList {
  name: string;
  role: 'primary' | 'fallback';
  up: boolean;
}

export interface LinkStats {
  slug: string;
  total: number;
  bots: number;
  uniques: number;
  series: { t: string; n: number }[];
  referrers: { host: string; n: number }[];
  devices: { device: string; n: number }[];
  partition: number;
  nodes: NodeInPreferenceList[];
}

export type MemberStatus = 'valid' | 'joining' | 'leaving' | 'exiting' | 'downed' | 'removed';
export type Liveness = 'alive' | 'suspect' | 'dead';

export interface ClusterMember {
  name: string;
  addr: string;
  status: MemberStatus;
  liveness: Liveness;
}

export interface RingPartition {
  index: number;
  owner: string;
  /** The node the partition is moving to, while it moves. */
  next?: string | null;
}

/** A handoff as the node reports it; the fields beyond `partition` vary, so all are optional. */
export interface ClusterHandoff {
  partition: number;
  kind?: string;
  from?: string;
  to?: string | readonly string[];
  sent?: number;
  total?: number;
  keysSent?: number;
  keysTotal?: number;
}

export interface ClusterEvent {
  /** ISO string or epoch milliseconds. */
  at: string | number;
  kind: string;
  message: string;
}

/** GET /api/cluster. */
export interface ClusterView {
  node: string;
  members: ClusterMember[];
  ring: {
    size: number;
    nVal: number;
    partitions: RingPartition[];
    preferenceLists?: string[][];
  };
  handoffs: ClusterHandoff[];
}

/** The socket.io `cluster` event: GET /api/cluster plus the event log and a timestamp. */
export interface ClusterUpdate extends ClusterView {
  events?: ClusterEvent[];
  at?: string | number;
}

/** GET /api/cluster/summary; `top` only with the admin token. */
export interface ClusterSummary {
  links: number;
  views: number;
  bots: number;
  top?: { slug: string; total: number }[];
  partitions?: number;
  partial?: boolean;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
}

export interface NewApiKey extends ApiKey {
  /** The secret; the server shows it only in this answer. */
  key: string;
}

export interface SignInResult {
  user: User;
  /** How many links of the anonymous session moved to the account. */
  migrated: number;
}

/** A failed call: the problem+json body, or a stand-in when the server could not be reached. */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly field: string | undefined;
  readonly code: string | undefined;
  /** Seconds from the Retry-After header of a 429, when present. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: {
    status: number;
    title: string;
    detail: string;
    field?: string | undefined;
    code?: string | undefined;
    retryAfterSeconds?: number | undefined;
  }) {
    super(init.detail);
    this.name = 'ApiError';
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.field = init.field;
    this.code = init.code;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** The sentence to show a person for any error thrown by a call. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429 && error.retryAfterSeconds !== undefined) {
      const s = error.retryAfterSeconds;
      return `${error.detail} Try again in ${s} second${s === 1 ? '' : 's'}.`;
    }
    return error.detail;
  }
  return 'Something went wrong. Please try again.';
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(header);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

async function problemFrom(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = await response.json();
    if (parsed !== null && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page, say): fall back to the status line below.
  }
  const title = stringOrUndefined(body.title) ?? (response.statusText || 'Request failed');
  return new ApiError({
    status: response.status,
    title,
    detail:
      stringOrUndefined(body.detail) ??
      `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}. Please try again.`,
    field: stringOrUndefined(body.field),
    code: stringOrUndefined(body.code),
    retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')),
  });
}

async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { accept: 'application/json, application/problem+json', ...headers },
  };
  if (body !== undefined) {
    init.headers = { ...init.headers, 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError({
      status: 0,
      title: 'Network error',
      detail: 'Could not reach ringlink. Check your connection and try again.',
    });
  }
  if (!response.ok) throw await problemFrom(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

const slugPath = (slug: string) => `/api/links/${encodeURIComponent(slug)}`;
const bearer = (token: string | null | undefined): Record<string, string> =>
  token ? { authorization: `Bearer ${token}` } : {};

export const api = {
  session: () => request<{ user: User | null }>('GET', '/api/session'),
  signUp: (username: string, password: string) =>
    request<SignInResult>('POST', '/api/auth/signup', { username, password }),
  signIn: (username: string, password: string) =>
    request<SignInResult>('POST', '/api/auth/signin', { username, password }),
  signOut: () => request<void>('POST', '/api/auth/signout'),

  createLink: (input: NewLink) => request<Link>('POST', '/api/links', input),
  listLinks: (query: LinkQuery = {}) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value) params.set(key, String(value));
    const search = params.toString();
    return request<{ links: Link[] }>('GET', `/api/links${search ? `?${search}` : ''}`);
  },
  getLink: (slug: string) => request<Link>('GET', slugPath(slug)),
  updateLink: (slug: string, changes: LinkChanges) => request<Link>('PATCH', slugPath(slug), changes),
  deleteLink: (slug: string) => request<void>('DELETE', slugPath(slug)),
  linkStats: (slug: string) => request<LinkStats>('GET', `${slugPath(slug)}/stats`),

  listKeys: () => request<{ keys: ApiKey[] }>('GET', '/api/keys'),
  createKey: (name: string) => request<NewApiKey>('POST', '/api/keys', { name }),
  revokeKey: (id: string) => request<void>('DELETE', `/api/keys/${encodeURIComponent(id)}`),

  cluster: () => request<ClusterView>('GET', '/api/cluster'),
  /** With the admin token the answer includes `top`. */
  clusterSummary: (adminToken?: string | null) => request<ClusterSummary>('GET', '/api/cluster/summary', undefined, bearer(adminToken)),
  adminLeave: (node: string, adminToken: string) => request<unknown>('POST', '/api/admin/leave', { node }, bearer(adminToken)),
  adminRemove: (node: string, adminToken: string) => request<unknown>('POST', '/api/admin/remove', { node }, bearer(adminToken)),
};
