// What went wrong, as the domain (links, accounts, sessions) says it: a kind, a sentence a
// person can act on, and for input errors the field at fault and a stable code. No HTTP here:
// server/http/errors.ts maps each kind to a status code, in one place.
export type DomainErrorKind =
  /** The input breaks a rule (a field, a code). */
  | 'invalid_input'
  /** The caller already holds the most of something one owner may hold. */
  | 'limit_reached'
  /** No such thing, or not the caller's. */
  | 'not_found'
  /** A name that is granted once is taken. */
  | 'conflict'
  /** Deleted for good. */
  | 'gone'
  /** The caller may not do this. */
  | 'forbidden'
  /** Too few replicas reachable or agreeing right now: the same request may succeed later. */
  | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** A stable machine name (docs/api.md), such as `slug_taken`. */
    readonly code?: string,
    /** The input at fault. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalidInput = (field: string | undefined, code: string, message: string) =>
  new DomainError('invalid_input', message, code, field);
export const limitReached = (code: string, message: string) => new DomainError('limit_reached', message, code);
export const notFound = (code: string, message: string) => new DomainError('not_found', message, code);
export const conflict = (field: string | undefined, code: string, message: string) =>
  new DomainError('conflict', message, code, field);
export const gone = (code: string, message: string) => new DomainError('gone', message, code);
export const forbidden = (code: string, message: string) => new DomainError('forbidden', message, code);
export const unavailable = (message: string) => new DomainError('unavailable', message);
