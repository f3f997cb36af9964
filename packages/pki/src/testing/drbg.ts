/**
 * A deterministic byte stream for test keys and serials: HMAC-SHA256(seed, label ‖ counter) blocks
 * (HMAC in counter mode, NIST SP 800-108 style). Same seed and label, same bytes, on every machine. Tests only:
 * a seed is not a secret.
 */
import { createHmac } from 'node:crypto';

export interface Drbg {
  bytes(n: number): Uint8Array;
}

export function drbg(seed: string, label: string): Drbg {
  let counter = 0;
  let buffer = new Uint8Array(0);
  return {
    bytes(n) {
      while (buffer.length < n) {
        const block = createHmac('sha256', seed).update(`${label}\u0000${counter++}`).digest();
        const next = new Uint8Array(buffer.length + block.length);
        next.set(buffer);
        next.set(block, buffer.length);
        buffer = next;
      }
      const out = buffer.slice(0, n);
      buffer = buffer.slice(n);
      return out;
    },
  };
}

export function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

export function toBytes(v: bigint, length: number): Uint8Array {
  const hex = v.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new RangeError('value does not fit');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** A uniform integer in [1, max] by rejection sampling. */
export function scalarBelow(d: Drbg, max: bigint): bigint {
  const len = Math.ceil(max.toString(16).length / 2);
  for (;;) {
    const v = toBigInt(d.bytes(len));
    if (v >= 1n && v <= max) return v;
  }
}
