/**
 * The verification code of a record (核验码): what the report's QR link carries so that the public endpoint
 * answers only for records whose report a person holds. code = base64url(first 16 bytes of HMAC-SM3(K, id)),
 * K = HMAC-SM3(platform SM2 key PEM, "yizheng/verify-code/v1") — derived, so it needs no new stored secret and
 * nothing but the platform key to recompute. 128 bits: a guessed id without its code reveals nothing.
 */
import { constantTimeEqual, hmacSm3 } from '@yizheng/gm';
import type { PlatformKey } from '../../crypto/platform-key.js';

const LABEL = 'yizheng/verify-code/v1';
const keys = new WeakMap<PlatformKey, Uint8Array>();

/** Syntax of a code: 22 base64url characters. */
export const CODE_PATTERN = '^[A-Za-z0-9_-]{22}$';

function keyOf(platformKey: PlatformKey): Uint8Array {
  let k = keys.get(platformKey);
  if (k === undefined) {
    k = hmacSm3(new TextEncoder().encode(platformKey.privateKey.toPem()), LABEL);
    keys.set(platformKey, k);
  }
  return k;
}

export function verificationCode(platformKey: PlatformKey, recordId: string): string {
  return Buffer.from(hmacSm3(keyOf(platformKey), recordId).subarray(0, 16)).toString('base64url');
}

/** Constant-time check of a presented code. */
export function isVerificationCode(platformKey: PlatformKey, recordId: string, code: string): boolean {
  const want = new TextEncoder().encode(verificationCode(platformKey, recordId));
  const got = new TextEncoder().encode(code);
  return want.length === got.length && constantTimeEqual(want, got);
}

/** The public verification page of a record: the code rides in the fragment, never sent when the page loads. */
export function publicVerifyUrl(publicUrl: string, platformKey: PlatformKey, recordId: string): string {
  const id = encodeURIComponent(recordId);
  return `${publicUrl}/verify/${id}#c=${verificationCode(platformKey, recordId)}`;
}
