/**
 * Passwords: scrypt (node:crypto) with a random salt, stored as `scrypt$N$r$p$salt$hash` (base64), compared in
 * constant time; complexity rules from the system configuration (等保 level 3: length and character classes).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LEN = 32;
/** Longest accepted password: bounds the KDF's input. */
export const MAX_PASSWORD_LENGTH = 128;

function scrypt(password: string, salt: Buffer, keyLen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keyLen, options, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `password` matches `stored`; false for any malformed stored value. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 1 << 20) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (expected.length !== KEY_LEN || password.length > MAX_PASSWORD_LENGTH) return false;
  const key = await scrypt(password, salt, KEY_LEN, { N: n, r, p, maxmem: 256 * 1024 * 1024 });
  return timingSafeEqual(key, expected);
}

export interface PasswordPolicy {
  minLength: number;
  /** Character classes required among lower case, upper case, digits, symbols. */
  minClasses: number;
}

/** The reasons a password fails the policy (empty when it passes). */
export function passwordProblems(password: string, policy: PasswordPolicy, username?: string): string[] {
  const out: string[] = [];
  if (password.length < policy.minLength) out.push(`shorter than ${policy.minLength}`);
  if (password.length > MAX_PASSWORD_LENGTH) out.push(`longer than ${MAX_PASSWORD_LENGTH}`);
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < policy.minClasses) out.push(`fewer than ${policy.minClasses} character classes`);
  if (
    username !== undefined &&
    username.length > 0 &&
    password.toLowerCase().includes(username.toLowerCase())
  )
    out.push('contains the user name');
  return out;
}

/** A one-time password that satisfies any policy up to 4 classes and 20 characters. */
export function oneTimePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(20);
  let s = '';
  for (const b of bytes) s += alphabet.charAt(b % alphabet.length);
  return `${s.slice(0, 6)}-${s.slice(6, 12)}-${s.slice(12, 18)}#Aa9${s.slice(18)}`;
}
