// The documents of accounts, sessions and API keys, and how their siblings resolve.
import type { RegisterType } from '../../ring';
import type { PasswordHash } from './passwords';

export interface SessionDoc {
  readonly accountId: string | null;
  readonly username: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface ApiKeyDoc {
  readonly id: string;
  readonly accountId: string;
  readonly username: string;
  readonly name: string;
  readonly prefix: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** Held by the CAS register user/<username> (accounts.ts), so it has no data type. */
export interface AccountDoc {
  readonly id: string;
  readonly username: string;
  readonly password: PasswordHash;
  readonly createdAt: number;
}

const identity = <T>(v: T) => v;

export const sessionType: RegisterType<SessionDoc> = {
  name: 'session',
  kind: 'register',
  // Siblings of a session differ only by a sliding refresh or a sign-in; the signed-in, longest-lived one wins.
  resolve: (values) =>
    [...values].sort(
      (a, b) => Number(b.accountId !== null) - Number(a.accountId !== null) || b.expiresAt - a.expiresAt,
    )[0]!,
  encode: identity,
  decode: (w) => w as SessionDoc,
  expiresAt: (v) => v.expiresAt,
};

export const apiKeyType: RegisterType<ApiKeyDoc> = {
  name: 'apikey',
  kind: 'register',
  // A revocation is final.
  resolve: (values) => values.find((v) => v.revokedAt !== null) ?? values[0]!,
  encode: identity,
  decode: (w) => w as ApiKeyDoc,
};
