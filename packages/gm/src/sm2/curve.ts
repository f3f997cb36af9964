/**
 * The SM2 recommended curve, GB/T 32918.5-2017 clause 5 (also GM/T 0003.5):
 *
 *   y² = x³ + ax + b over F_p,
 *   p = FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 00000000 FFFFFFFF FFFFFFFF
 *   a = p - 3
 *   b = 28E9FA9E 9D9F5E34 4D5A9E4B CF6509A7 F39789F5 15AB8F92 DDBCBD41 4D940E93
 *   n = FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF 7203DF6B 21C6052B 53BBF409 39D54123
 *   G = (32C4AE2C 1F198119 5F990446 6A39C994 8FE30BBF F2660BE1 715A4589 334C74C7,
 *        BC3736A2 F4F6779C 59BDCEE3 6B692153 D0A9877C C62A4740 02DF32E5 2139F0A0)
 */
export const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
export const A = P - 3n;
export const B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
export const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
export const GX = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n;
export const GY = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n;

/** Byte length of a field element and of a scalar. */
export const FIELD_BYTES = 32;
/** Uncompressed point: 0x04 ‖ x ‖ y. */
export const POINT_BYTES = 65;

/** Default user ID of GM/T 0009-2012 clause 10 (the ASCII string 1234567812345678). */
export const DEFAULT_USER_ID = '1234567812345678';

/** OIDs (GM/T 0006). */
export const OID = {
  /** SM2 curve / SM2 algorithm: 1.2.156.10197.1.301 */
  sm2: '1.2.156.10197.1.301',
  /** id-ecPublicKey, RFC 5480 */
  ecPublicKey: '1.2.840.10045.2.1',
  /** SM3withSM2: 1.2.156.10197.1.501 */
  sm3WithSm2: '1.2.156.10197.1.501',
  sm3: '1.2.156.10197.1.401',
  /** sm2encrypt (GM/T 0006) */
  sm2Encrypt: '1.2.156.10197.1.301.3',
} as const;

/** y² = x³ + ax + b (mod p) with 0 ≤ x, y < p. Pure, variable-time (public data only). */
export function isOnCurve(x: bigint, y: bigint): boolean {
  if (x < 0n || x >= P || y < 0n || y >= P) return false;
  return (y * y - (x * x * x + A * x + B)) % P === 0n;
}
