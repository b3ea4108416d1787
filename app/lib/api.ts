// The one typed client for the ringlink HTTP API (docs/api.md). Every page fetches through
// it: success returns the typed body, failure throws an ApiError parsed from problem+json.

import type {
  ApiKeyList,
  ApiKeyView,
  ClusterEvent,
  ClusterSummary,
  ClusterUpdate as ClusterUpdateEvent,
  ClusterView,
  LinkChanges,
  LinkList,
  LinkQuery,
  LinkStatsView,
  LinkView,
  NewApiKeyView,
  NewLink,
  SessionView,
  SignInResult,
} from '../../contract/types';

// The wire types are the server's own (contract/types.ts); these names are the ones the pages use.
export type {
  ClusterEvent,
  ClusterHandoff,
  ClusterMember,
  ClusterSummary,
  ClusterView,
  LinkChanges,
  LinkQuery,
  LinkStatus,
  Liveness,
  MemberStatus,
  NewLink,
  NodeInPreferenceList,
  RedirectStatus,
  RingPartition,
  SignInResult,
  User,
} from '../../contract/types';
export type Link = LinkView;
export type LinkStats = LinkStatsView;
export type ApiKey = ApiKeyView;
export type NewApiKey = NewApiKeyView;

/**
 * What the cluster page holds: GET /api/cluster's view, or the socket's `cluster` event, which adds the
 * preference lists, the event log and a timestamp.
 */
export type ClusterUpdate = ClusterView & {
  ring: ClusterView['ring'] & { preferenceLists?: ClusterUpdateEvent['ring']['preferenceLists'] };
  events?: ClusterEvent[];
  at?: string;
};

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

async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
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
  session: () => request<SessionView>('GET', '/api/session'),
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
    return request<LinkList>('GET', `/api/links${search ? `?${search}` : ''}`);
  },
  getLink: (slug: string) => request<Link>('GET', slugPath(slug)),
  updateLink: (slug: string, changes: LinkChanges) => request<Link>('PATCH', slugPath(slug), changes),
  deleteLink: (slug: string) => request<void>('DELETE', slugPath(slug)),
  linkStats: (slug: string) => request<LinkStats>('GET', `${slugPath(slug)}/stats`),

  listKeys: () => request<ApiKeyList>('GET', '/api/keys'),
  createKey: (name: string) => request<NewApiKey>('POST', '/api/keys', { name }),
  revokeKey: (id: string) => request<void>('DELETE', `/api/keys/${encodeURIComponent(id)}`),

  cluster: () => request<ClusterView>('GET', '/api/cluster'),
  /** With the admin token the answer includes `top`. */
  clusterSummary: (adminToken?: string | null) =>
    request<ClusterSummary>('GET', '/api/cluster/summary', undefined, bearer(adminToken)),
  adminLeave: (node: string, adminToken: string) =>
    request<unknown>('POST', '/api/admin/leave', { node }, bearer(adminToken)),
  adminRemove: (node: string, adminToken: string) =>
    request<unknown>('POST', '/api/admin/remove', { node }, bearer(adminToken)),
};
