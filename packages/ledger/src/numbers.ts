/**
 * Defensive parsing of tree sizes and indices. They arrive from the network (query strings, JSON, a checkpoint)
 * as numbers, bigints or decimal strings; anything that is not a non-negative safe integer becomes a
 * `LEDGER_BAD_ARGUMENT` rather than a `RangeError` or a silently rounded float.
 */
import { LedgerError } from './errors.js';

/** A tree size or leaf index as a caller may hold it. */
export type TreeNumber = number | bigint | string;

const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/** Returns `value` as a safe non-negative integer or throws `LEDGER_BAD_ARGUMENT`. */
export function toTreeNumber(value: unknown, what: string): number {
  let n: number;
  if (typeof value === 'number') {
    n = value;
  } else if (typeof value === 'bigint') {
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw bad(what, value.toString());
    }
    n = Number(value);
  } else if (typeof value === 'string') {
    if (!DECIMAL.test(value)) throw bad(what, value.length > 40 ? `${value.slice(0, 40)}…` : value);
    n = Number(value);
  } else {
    throw new LedgerError('LEDGER_BAD_ARGUMENT', `${what} must be a number, bigint or decimal string`);
  }
  if (!Number.isSafeInteger(n) || n < 0) throw bad(what, String(n));
  return n;
}

function bad(what: string, shown: string): LedgerError {
  return new LedgerError('LEDGER_BAD_ARGUMENT', `${what} is not a non-negative safe integer: ${shown}`, {
    context: { [what]: shown },
  });
}
