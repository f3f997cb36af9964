/**
 * Deterministic RSA keys for tests (RFC 8017 §3.2 private key with CRT values): primes found by a seeded
 * search — candidates from a {@link Drbg}, the top two bits and the low bit set (so p·q has exactly `bits`
 * bits), trial division by small primes, then OpenSSL's Miller–Rabin (FIPS 186-5 B.3.1) via node:crypto
 * `checkPrimeSync`. e = 65537. The modulus and CRT values are BigInt arithmetic. Keys are cached per process
 * by (seed, label, bits).
 */
import { checkPrimeSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { drbg, toBigInt, type Drbg } from './drbg.js';

const SMALL_PRIMES: readonly number[] = (() => {
  const out: number[] = [];
  for (let n = 3; n < 2000; n += 2) {
    let prime = true;
    for (let d = 3; d * d <= n; d += 2) if (n % d === 0) prime = false;
    if (prime) out.push(n);
  }
  return out;
})();

const E = 65537n;

function prime(bits: number, d: Drbg): bigint {
  const bytes = bits / 8;
  for (;;) {
    const raw = d.bytes(bytes);
    raw[0] = (raw[0] ?? 0) | 0xc0;
    raw[bytes - 1] = (raw[bytes - 1] ?? 0) | 1;
    const start = toBigInt(raw);
    // Incremental search from the seeded start: residues mod the small primes kept as numbers.
    const residues = SMALL_PRIMES.map((p) => Number(start % BigInt(p)));
    for (let k = 0; k < 4096; k += 2) {
      if (SMALL_PRIMES.some((p, i) => ((residues[i] ?? 0) + k) % p === 0)) continue;
      const c = start + BigInt(k);
      if (c >> BigInt(bits) !== 0n) break;
      if ((c - 1n) % E === 0n) continue; // gcd(e, p-1) = 1 as e is prime
      // OpenSSL's Miller–Rabin (BN_check_prime) through node:crypto: the candidate sequence is seeded, so the
      // prime found is the same on every run (a composite passing has probability below 2^-128).
      if (checkPrimeSync(c)) return c;
    }
  }
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

const b64url = (v: bigint): string => {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
};

const cache = new Map<string, KeyObject>();

/** A deterministic RSA private key of `bits` (a multiple of 16, at least 1024) for (seed, label). */
export function seededRsaKey(seed: string, label: string, bits = 2048): KeyObject {
  if (bits % 16 !== 0 || bits < 1024) throw new RangeError('RSA test keys are ≥ 1024 bits, a multiple of 16');
  const key = `${bits}\u0000${seed}\u0000${label}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const d = drbg(seed, `rsa:${bits}:${label}`);
  let p = prime(bits / 2, d);
  let q = prime(bits / 2, d);
  while (p === q) q = prime(bits / 2, d);
  if (p < q) [p, q] = [q, p];
  const n = p * q;
  const phi = (p - 1n) * (q - 1n);
  const priv = modInverse(E, phi);
  const jwk = {
    kty: 'RSA',
    n: b64url(n),
    e: b64url(E),
    d: b64url(priv),
    p: b64url(p),
    q: b64url(q),
    dp: b64url(priv % (p - 1n)),
    dq: b64url(priv % (q - 1n)),
    qi: b64url(modInverse(q, p)),
  };
  const obj = createPrivateKey({ key: jwk, format: 'jwk' });
  cache.set(key, obj);
  return obj;
}
