/** Redis stream ids ('<ms>-<n>'): parsing and ordering. */
const ID = /^(\d{1,16})-(\d{1,16})$/;

/** -1, 0 or 1 as a is before, equal to or after b; throws on a malformed id. */
export function compareStreamIds(a: string, b: string): number {
  const ma = ID.exec(a);
  const mb = ID.exec(b);
  if (!ma || !mb) throw new RangeError(`not a stream id: ${ma ? b : a}`);
  const d = BigInt(ma[1]!) - BigInt(mb[1]!) || BigInt(ma[2]!) - BigInt(mb[2]!);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** The id below every real entry: the offset of a stream never flushed. */
export const ZERO_ID = '0-0';
