import { expect } from 'vitest';
import { isLedgerError, type LedgerErrorCode } from '../errors.js';

/** Asserts that `fn` throws a LedgerError with exactly this code (the code, not the message). */
export function expectCode(fn: () => unknown, code: LedgerErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeDefined();
  expect(isLedgerError(thrown) ? thrown.code : thrown).toBe(code);
}

/** Asserts that the promise rejects with a LedgerError with exactly this code. */
export async function expectRejectCode(promise: Promise<unknown>, code: LedgerErrorCode): Promise<void> {
  let thrown: unknown;
  try {
    await promise;
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeDefined();
  expect(isLedgerError(thrown) ? thrown.code : thrown).toBe(code);
}
