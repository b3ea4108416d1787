// Password hashing with scrypt (node:crypto), as README.md's Security section says. The parameters travel with
// nothing: they are fixed here, so changing them means a rehash on next sign-in.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** N=2^14, r=8, p=1: about 16 MiB and a few tens of ms per hash on this class of machine. */
const params: ScryptOptions = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const keyBytes = 32;

export interface PasswordHash {
  readonly salt: string;
  readonly hash: string;
}

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyBytes, params, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await derive(password, salt);
  return { salt: salt.toString('base64'), hash: key.toString('base64') };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const want = Buffer.from(stored.hash, 'base64');
  const got = await derive(password, Buffer.from(stored.salt, 'base64'));
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A hash to compare against when the account does not exist, so timing does not reveal which usernames exist. */
export const decoyHash: PasswordHash = {
  salt: 'AAAAAAAAAAAAAAAAAAAAAA==',
  hash: Buffer.alloc(keyBytes).toString('base64'),
};
