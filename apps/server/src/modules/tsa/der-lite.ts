/**
 * The few DER primitives the TSA's per-request path needs (reading a TimeStampReq, splicing a TimeStampResp),
 * written for speed: no schema objects, one allocation per output. Anything beyond what a canonical
 * TimeStampReq uses is refused (`undefined`), and the caller falls back to `@yizheng/pki`.
 */

/** A TLV inside `buf`: identifier octet, value [start, end). */
export interface Item {
  tag: number;
  start: number;
  end: number;
}

/** Reads the TLV at `pos` (single-octet tags, definite minimal lengths, at most 4 length octets), within `limit`. */
export function readItem(buf: Uint8Array, pos: number, limit: number): Item | undefined {
  if (pos + 2 > limit) return undefined;
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  let len = buf[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    if (len < 0x80 || (n > 1 && buf[start] === 0)) return undefined; // not minimal (X.690 §10.1)
    start += n;
  }
  const end = start + len;
  return end > limit ? undefined : { tag, start, end };
}

/** Dotted OID of an OBJECT IDENTIFIER value, or undefined when malformed. */
export function readOid(buf: Uint8Array, start: number, end: number): string | undefined {
  if (start >= end || buf[end - 1]! & 0x80) return undefined;
  const arcs: number[] = [];
  let v = 0;
  let fresh = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (fresh && b === 0x80) return undefined; // leading 0x80: not minimal
    if (v > 0x1fffffffffff) return undefined; // beyond safe integers: leave it to the full parser
    v = v * 128 + (b & 0x7f);
    fresh = (b & 0x80) === 0;
    if (fresh) {
      if (arcs.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        arcs.push(first, v - first * 40);
      } else arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

/** A minimal two's-complement INTEGER value as a bigint, or undefined when not minimal. */
export function readInteger(buf: Uint8Array, start: number, end: number): bigint | undefined {
  if (start >= end) return undefined;
  if (
    end - start > 1 &&
    ((buf[start] === 0 && !(buf[start + 1]! & 0x80)) || (buf[start] === 0xff && buf[start + 1]! & 0x80))
  )
    return undefined;
  let v = 0n;
  for (let i = start; i < end; i++) v = (v << 8n) | BigInt(buf[i]!);
  if (buf[start]! & 0x80) v -= 1n << BigInt(8 * (end - start));
  return v;
}

/** The identifier and length octets of a TLV with `len` value octets. */
export function header(tag: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tag, len]);
  if (len < 0x100) return Buffer.from([tag, 0x81, len]);
  if (len < 0x10000) return Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  return Buffer.from([tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff]);
}

/** A TLV holding `parts` (already encoded). */
export function tlv(tag: number, ...parts: readonly Uint8Array[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  return Buffer.concat(
    [header(tag, len), ...parts],
    len + (len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5),
  );
}
