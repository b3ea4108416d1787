// The one place where errors become HTTP answers: the domain's errors (server/domain/errors.ts),
// the ring's (RingCallError) and the HTTP layer's own (HttpError) each map to a status code,
// a title, headers and the problem's extra members here.
import { DomainError, type DomainErrorKind } from '../domain/errors';
import { RingCallError } from '../ringClient';
import { HttpError, statusTitle, type ProblemExtras } from './respond';

export interface ProblemAnswer {
  status: number;
  title: string;
  detail: string;
  headers: Record<string, string>;
  extras: ProblemExtras;
}

/** Retry-After (seconds) on every answer that says "try again": the cluster may recover at once. */
const retryAfter = { 'retry-after': '1' };

export const domainErrorStatus: Record<DomainErrorKind, number> = {
  invalid_input: 422,
  limit_reached: 422,
  not_found: 404,
  conflict: 409,
  gone: 410,
  forbidden: 403,
  unavailable: 503,
};

const ringErrorStatus: Record<string, number> = {
  unavailable: 503,
  timeout: 504,
  invalid: 400,
  conflict: 409,
  stopped: 503,
  overloaded: 503,
};

/** The answer for an error, or undefined for one nobody expected (a bug: 500, and logged). */
export function problemOf(err: unknown): ProblemAnswer | undefined {
  if (err instanceof HttpError)
    return { status: err.status, title: err.title, detail: err.message, headers: err.headers, extras: err.extras };
  if (err instanceof DomainError) {
    const status = domainErrorStatus[err.kind];
    const extras: ProblemExtras = {
      ...(err.field ? { field: err.field } : {}),
      ...(err.code ? { code: err.code } : {}),
    };
    return {
      status,
      title: statusTitle(status),
      detail: err.message,
      headers: status === 503 ? { ...retryAfter } : {},
      extras,
    };
  }
  if (err instanceof RingCallError) {
    const status = ringErrorStatus[err.ringError.kind] ?? 503;
    const detail =
      status >= 500
        ? `The cluster could not complete this request right now (${err.message}). Try again in a moment.`
        : err.message;
    return { status, title: statusTitle(status), detail, headers: status >= 500 ? { ...retryAfter } : {}, extras: {} };
  }
  return undefined;
}
