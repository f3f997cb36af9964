import { expect } from 'vitest';
import { isGmError, type GmErrorCode } from '../errors.js';

/** Asserts that `fn` throws a GmError with exactly this code (the code, not the message). */
export function expectCode(fn: () => unknown, code: GmErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeDefined();
  expect(isGmError(thrown) ? thrown.code : thrown).toBe(code);
}
