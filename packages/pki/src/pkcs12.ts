/**
 * PKCS#12 (RFC 7292, .p12/.pfx) and encrypted PKCS#8 reading with WebCrypto only, so it runs in the browser (the
 * console's software token) as well as in Node: PBES2 (RFC 8018) with PBKDF2-HMAC-SHA-1/SHA-256/SHA-384/SHA-512
 * and AES-128/256-CBC — what OpenSSL 3 writes by default — and the HMAC integrity check (MacData, the PKCS#12 key
 * derivation of RFC 7292 Appendix B with SHA-1/SHA-256/SHA-384/SHA-512). Legacy PKCS#12 encryption (3DES, RC2,
 * RC4: `openssl pkcs12 -legacy`, older Windows exports) is refused with {@link Pkcs12Error}
 * `PKCS12_LEGACY_ENCRYPTION`, so the caller can ask for a re-export with modern encryption.
 *
 * Keys come back as PKCS#8 PrivateKeyInfo DER bytes with their algorithm (SM2, RSA, EC); the caller imports them
 * (the SM2 engine, or `crypto.subtle.importKey('pkcs8', …)`) and keeps them in memory only.
 */
import {
  CertBag,
  PFX,
  SafeContents,
  id_certBag,
  id_keyBag,
  id_pkcs8ShroudedKeyBag,
  id_x509Certificate,
} from '@peculiar/asn1-pfx';
import { EncryptedPrivateKeyInfo, PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { AsnConvert } from '@peculiar/asn1-schema';

export type Pkcs12ErrorCode =
  /** Not a PKCS#12 file (or encrypted PKCS#8 key), or its structure is malformed. */
  | 'PKCS12_INVALID'
  /** The password does not open the file (the MAC or the decryption fails). */
  | 'PKCS12_PASSWORD_INVALID'
  /** 3DES/RC2/RC4 PKCS#12 encryption: re-export with AES (PBES2). */
  | 'PKCS12_LEGACY_ENCRYPTION'
  /** An encryption, key-derivation or MAC algorithm this reader does not implement, or excessive iterations. */
  | 'PKCS12_UNSUPPORTED_ALGORITHM'
  /** The file holds no private key. */
  | 'PKCS12_NO_KEY';

export class Pkcs12Error extends Error {
  override readonly name = 'Pkcs12Error';
  readonly code: Pkcs12ErrorCode;
  constructor(code: Pkcs12ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isPkcs12Error(e: unknown, code?: Pkcs12ErrorCode): e is Pkcs12Error {
  return e instanceof Pkcs12Error && (code === undefined || e.code === code);
}

export type PrivateKeyAlgorithm = 'sm2' | 'rsa' | 'ec' | 'unknown';

export interface Pkcs12Key {
  /** PKCS#8 PrivateKeyInfo DER. */
  pkcs8: Uint8Array;
  algorithm: PrivateKeyAlgorithm;
  /** The bag's localKeyId attribute (pairs the key with its certificate). */
  localKeyId?: Uint8Array;
}

export interface Pkcs12Certificate {
  der: Uint8Array;
  localKeyId?: Uint8Array;
}

export interface Pkcs12Contents {
  keys: Pkcs12Key[];
  certificates: Pkcs12Certificate[];
}

export interface Pkcs12Options {
  /** Largest file accepted (default 1 MiB). */
  maxSize?: number;
  /** Largest PBKDF2 / MAC iteration count accepted (default 10,000,000: bounds the work a hostile file causes). */
  maxIterations?: number;
}

const OIDS = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pkcs12Pbe: '1.2.840.113549.1.12.1.',
  pkcs5Pbe: '1.2.840.113549.1.5.',
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  localKeyId: '1.2.840.113549.1.9.21',
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sm2: '1.2.156.10197.1.301',
} as const;

const PRF: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'SHA-1',
  '1.2.840.113549.2.9': 'SHA-256',
  '1.2.840.113549.2.10': 'SHA-384',
  '1.2.840.113549.2.11': 'SHA-512',
};
const DIGEST: Readonly<Record<string, { name: string; u: number; v: number }>> = {
  '1.3.14.3.2.26': { name: 'SHA-1', u: 20, v: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', u: 32, v: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', u: 48, v: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', u: 64, v: 128 },
};
const AES_CBC: Readonly<Record<string, number>> = {
  '2.16.840.1.101.3.4.1.2': 16,
  '2.16.840.1.101.3.4.1.42': 32,
};

const invalid = (message: string, cause?: unknown): Pkcs12Error =>
  new Pkcs12Error('PKCS12_INVALID', message, cause === undefined ? undefined : { cause });

/** A fresh copy on its own ArrayBuffer (what every WebCrypto signature accepts). */
const own = (b: Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> => new Uint8Array(new Uint8Array(b));

function subtle(): typeof globalThis.crypto.subtle {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new Pkcs12Error('PKCS12_UNSUPPORTED_ALGORITHM', 'WebCrypto is not available');
  return s;
}

/** One located TLV: `valueStart`/`end` delimit the contents (for indefinite lengths, `end` is after the EOC). */
interface Tlv {
  readonly tagByte: number;
  readonly constructed: boolean;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
  readonly indefinite: boolean;
}

const MAX_DEPTH = 32;

/** Reads (and walks, to validate and find its end) the BER TLV at `p`, within `limit`. */
function read(bytes: Uint8Array, start: number, limit: number, depth: number): Tlv {
  if (depth > MAX_DEPTH) throw invalid('ASN.1 nested too deeply');
  let p = start;
  if (p >= limit) throw invalid('truncated ASN.1');
  const tagByte = bytes[p++]!;
  const constructed = (tagByte & 0x20) !== 0;
  if ((tagByte & 0x1f) === 0x1f) {
    for (let n = 0; ; n++) {
      if (p >= limit || n > 4) throw invalid('bad ASN.1 tag');
      if ((bytes[p++]! & 0x80) === 0) break;
    }
  }
  if (p >= limit) throw invalid('truncated ASN.1');
  const first = bytes[p++]!;
  if (first === 0x80) {
    if (!constructed) throw invalid('indefinite length on a primitive');
    let q = p;
    for (;;) {
      if (q + 2 > limit) throw invalid('missing end-of-contents');
      if (bytes[q] === 0 && bytes[q + 1] === 0)
        return { tagByte, constructed, start, valueStart: p, end: q + 2, indefinite: true };
      q = read(bytes, q, limit, depth + 1).end;
    }
  }
  let length = first;
  if (first > 0x80) {
    const n = first & 0x7f;
    if (n > 4 || p + n > limit) throw invalid('bad ASN.1 length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[p++]!;
  }
  const end = p + length;
  if (end > limit) throw invalid('ASN.1 length beyond the input');
  if (constructed) for (let q = p; q < end;) q = read(bytes, q, end, depth + 1).end;
  return { tagByte, constructed, start, valueStart: p, end, indefinite: false };
}

/** The whole of `bytes` as one TLV (no trailing bytes). */
function tlv(bytes: Uint8Array): Tlv {
  const t = read(bytes, 0, bytes.length, 0);
  if (t.end !== bytes.length) throw invalid('trailing bytes after the ASN.1 value');
  return t;
}

function kids(bytes: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  const limit = t.indefinite ? t.end - 2 : t.end;
  for (let p = t.valueStart; p < limit;) {
    const c = read(bytes, p, limit, 1);
    out.push(c);
    p = c.end;
  }
  return out;
}

const value = (bytes: Uint8Array, t: Tlv): Uint8Array =>
  bytes.subarray(t.valueStart, t.indefinite ? t.end - 2 : t.end);

/** Parses with an @peculiar/asn1-schema type after the walker has bounded the input. */
function parse<T>(bytes: Uint8Array, type: new () => T, what: string): T {
  tlv(bytes);
  try {
    return AsnConvert.parse(bytes, type);
  } catch (e) {
    throw invalid(`not a valid ${what}`, e);
  }
}

/** The contents of an OCTET STRING (primitive, or constructed from chunks), tag checked by the caller. */
function octets(bytes: Uint8Array, t: Tlv): Uint8Array {
  if (!t.constructed) return value(bytes, t);
  const parts = kids(bytes, t).map((c) => octets(bytes, c));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function oidText(bytes: Uint8Array, t: Tlv): string {
  if (t.tagByte !== 0x06) throw invalid('expected an OBJECT IDENTIFIER');
  const v = value(bytes, t);
  const parts: number[] = [];
  let n = 0;
  for (const b of v) {
    n = n * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) parts.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80);
      else parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

function integer(bytes: Uint8Array, t: Tlv): number {
  if (t.tagByte !== 0x02) throw invalid('expected an INTEGER');
  let n = 0;
  for (const b of value(bytes, t)) n = n * 256 + b;
  return n;
}

function checkIterations(n: number, options: Pkcs12Options): number {
  const max = options.maxIterations ?? 10_000_000;
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw new Pkcs12Error('PKCS12_UNSUPPORTED_ALGORITHM', `iteration count ${n} outside 1…${max}`);
  return n;
}

/** Decrypts by an AlgorithmIdentifier (PBES2 / PBKDF2 / AES-CBC); the password is used as UTF-8. */
async function decrypt(
  algorithm: Uint8Array,
  data: Uint8Array,
  password: string,
  options: Pkcs12Options,
): Promise<Uint8Array> {
  const top = tlv(algorithm);
  const [oid, params] = kids(algorithm, top);
  if (oid === undefined) throw invalid('empty AlgorithmIdentifier');
  const id = oidText(algorithm, oid);
  if (id.startsWith(OIDS.pkcs12Pbe) || (id.startsWith(OIDS.pkcs5Pbe) && id !== OIDS.pbes2))
    throw new Pkcs12Error(
      'PKCS12_LEGACY_ENCRYPTION',
      `legacy password-based encryption ${id}: re-export the file with AES (PBES2)`,
    );
  if (id !== OIDS.pbes2 || params === undefined)
    throw new Pkcs12Error('PKCS12_UNSUPPORTED_ALGORITHM', `encryption algorithm ${id}`);
  const [kdf, scheme] = kids(algorithm, params);
  if (kdf === undefined || scheme === undefined) throw invalid('PBES2 parameters incomplete');
  const [kdfOid, kdfParams] = kids(algorithm, kdf);
  if (kdfOid === undefined || oidText(algorithm, kdfOid) !== OIDS.pbkdf2 || kdfParams === undefined)
    throw new Pkcs12Error('PKCS12_UNSUPPORTED_ALGORITHM', 'PBES2 key derivation other than PBKDF2');
  const p = kids(algorithm, kdfParams);
  const salt = p[0];
  if (salt === undefined || salt.tagByte !== 0x04) throw invalid('PBKDF2 salt');
  const iterations = checkIterations(integer(algorithm, p[1] ?? salt), options);
  let prf = 'SHA-1';
  for (const extra of p.slice(2)) {
    if (extra.tagByte !== 0x30) continue; // keyLength: implied by the cipher
    const [prfOid] = kids(algorithm, extra);
    const name = prfOid === undefined ? undefined : PRF[oidText(algorithm, prfOid)];
    if (name === undefined) throw new Pkcs12Error('PKCS12_UNSUPPORTED_ALGORITHM', 'PBKDF2 PRF');
    prf = name;
  }
  const [encOid, iv] = kids(algorithm, scheme);
  const encId = encOid === undefined ? '' : oidText(algorithm, encOid);
  const keyLength = AES_CBC[encId];
  if (keyLength === undefined)
    throw new Pkcs12Error('PKCS12_UNSUPPORTED_ALGORITHM', `PBES2 encryption scheme ${encId}`);
  if (iv === undefined || iv.tagByte !== 0x04 || iv.end - iv.valueStart !== 16) throw invalid('AES-CBC IV');
  const s = subtle();
  const base = await s.importKey('raw', own(new TextEncoder().encode(password)), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const bits = await s.deriveBits(
    { name: 'PBKDF2', salt: own(value(algorithm, salt)), iterations, hash: prf },
    base,
    keyLength * 8,
  );
  const key = await s.importKey('raw', bits, 'AES-CBC', false, ['decrypt']);
  try {
    return new Uint8Array(
      await s.decrypt({ name: 'AES-CBC', iv: own(value(algorithm, iv)) }, key, own(data)),
    );
  } catch (e) {
    throw new Pkcs12Error('PKCS12_PASSWORD_INVALID', 'the password does not decrypt the file', { cause: e });
  }
}

/** RFC 7292 Appendix B.2 key derivation (ID 3: the MAC key), with the password as a NUL-terminated BMPString. */
async function pkcs12Kdf(
  hash: { name: string; u: number; v: number },
  password: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const { u, v } = hash;
  const pw = new Uint8Array(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) {
    pw[2 * i] = password.charCodeAt(i) >> 8;
    pw[2 * i + 1] = password.charCodeAt(i) & 0xff;
  }
  const fill = (src: Uint8Array): Uint8Array => {
    const out = new Uint8Array(src.length === 0 ? 0 : v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = new Uint8Array([...fill(salt), ...fill(pw)]);
  const D = new Uint8Array(v).fill(3);
  let A = own(new Uint8Array([...D, ...I]));
  for (let r = 0; r < iterations; r++) A = own(await subtle().digest(hash.name, A));
  return A.subarray(0, u);
}

async function checkMac(
  pfx: PFX,
  authSafe: Uint8Array,
  password: string,
  options: Pkcs12Options,
): Promise<void> {
  const mac = pfx.macData;
  const hash = DIGEST[mac.mac.digestAlgorithm.algorithm];
  if (hash === undefined)
    throw new Pkcs12Error('PKCS12_UNSUPPORTED_ALGORITHM', `MAC digest ${mac.mac.digestAlgorithm.algorithm}`);
  const iterations = checkIterations(mac.iterations ?? 1, options);
  const keyBytes = await pkcs12Kdf(hash, password, new Uint8Array(mac.macSalt.buffer), iterations);
  const key = await subtle().importKey('raw', own(keyBytes), { name: 'HMAC', hash: hash.name }, false, [
    'verify',
  ]);
  const ok = await subtle().verify('HMAC', key, own(new Uint8Array(mac.mac.digest.buffer)), own(authSafe));
  if (!ok) throw new Pkcs12Error('PKCS12_PASSWORD_INVALID', 'the password does not match the file (MAC)');
}

/** The algorithm of a PKCS#8 PrivateKeyInfo (SM2 keys are id-ecPublicKey on the SM2 curve, or the SM2 OID). */
export function privateKeyAlgorithm(pkcs8: Uint8Array): PrivateKeyAlgorithm {
  const info = parse(pkcs8, PrivateKeyInfo, 'PKCS#8 private key');
  const alg = info.privateKeyAlgorithm;
  if (alg.algorithm === OIDS.rsaEncryption) return 'rsa';
  if (alg.algorithm === OIDS.sm2) return 'sm2';
  if (alg.algorithm === OIDS.ecPublicKey && alg.parameters) {
    const p = new Uint8Array(alg.parameters);
    const t = tlv(p);
    return t.tagByte === 0x06 && oidText(p, t) === OIDS.sm2 ? 'sm2' : 'ec';
  }
  return 'unknown';
}

/** Decrypts an EncryptedPrivateKeyInfo (PEM 'ENCRYPTED PRIVATE KEY' body, DER) to PKCS#8 PrivateKeyInfo DER. */
export async function decryptPrivateKeyInfo(
  der: Uint8Array,
  password: string,
  options: Pkcs12Options = {},
): Promise<Uint8Array> {
  const epki = parse(der, EncryptedPrivateKeyInfo, 'encrypted PKCS#8 key');
  const plain = await decrypt(
    new Uint8Array(AsnConvert.serialize(epki.encryptionAlgorithm)),
    new Uint8Array(epki.encryptedData.buffer),
    password,
    options,
  );
  try {
    tlv(plain);
  } catch (e) {
    throw new Pkcs12Error('PKCS12_PASSWORD_INVALID', 'the password does not decrypt the key', { cause: e });
  }
  return plain;
}

function localKeyIdOf(bag: {
  bagAttributes?: { attrId: string; attrValues: ArrayBuffer[] }[];
}): Uint8Array | undefined {
  const a = bag.bagAttributes?.find((x) => x.attrId === OIDS.localKeyId)?.attrValues[0];
  if (a === undefined) return undefined;
  const b = new Uint8Array(a);
  const t = tlv(b);
  return t.tagByte === 0x04 ? octets(b, t) : undefined;
}

/**
 * Opens a PKCS#12 file with its password: checks the MAC when present, decrypts the encrypted safes and shrouded
 * key bags, and returns the keys and certificates. Throws {@link Pkcs12Error}, never anything else, for any input.
 */
export async function parsePkcs12(
  bytes: Uint8Array,
  password: string,
  options: Pkcs12Options = {},
): Promise<Pkcs12Contents> {
  const maxSize = options.maxSize ?? 1024 * 1024;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw invalid('empty input');
  if (bytes.length > maxSize) throw invalid(`file of ${bytes.length} bytes exceeds ${maxSize}`);
  const pfx = parse(bytes, PFX, 'PKCS#12 file');
  try {
    if (pfx.version !== 3) throw invalid(`PFX version ${pfx.version}`);
    if (pfx.authSafe.contentType !== OIDS.data)
      throw new Pkcs12Error('PKCS12_UNSUPPORTED_ALGORITHM', 'public-key integrity mode');
    const inner = new Uint8Array(pfx.authSafe.content);
    const authSafe = octets(inner, tlv(inner));
    // The schema fills an absent MacData with an empty default.
    if (pfx.macData !== undefined && pfx.macData.mac.digestAlgorithm.algorithm !== '')
      await checkMac(pfx, authSafe, password, options);
    const out: Pkcs12Contents = { keys: [], certificates: [] };
    const safes = tlv(authSafe);
    for (const ci of kids(authSafe, safes)) {
      const [typeTlv, explicit] = kids(authSafe, ci);
      if (typeTlv === undefined || explicit === undefined) throw invalid('ContentInfo incomplete');
      const type = oidText(authSafe, typeTlv);
      const [content] = kids(authSafe, explicit);
      if (content === undefined) throw invalid('ContentInfo without content');
      let safeContents: Uint8Array;
      if (type === OIDS.data) safeContents = octets(authSafe, content);
      else if (type === OIDS.encryptedData) {
        // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo { contentType, algorithm, [0] IMPLICIT octets } }
        const eci = kids(authSafe, content)[1];
        const parts = eci === undefined ? [] : kids(authSafe, eci);
        const alg = parts[1];
        const enc = parts[2];
        if (alg === undefined || enc === undefined || (enc.tagByte & 0xdf) !== 0x80)
          throw invalid('EncryptedData incomplete');
        safeContents = await decrypt(
          authSafe.subarray(alg.start, alg.end),
          octets(authSafe, enc),
          password,
          options,
        );
      } else throw new Pkcs12Error('PKCS12_UNSUPPORTED_ALGORITHM', `safe content type ${type}`);
      let bags: SafeContents;
      try {
        bags = parse(safeContents, SafeContents, 'SafeContents');
      } catch (e) {
        throw new Pkcs12Error('PKCS12_PASSWORD_INVALID', 'the password does not decrypt the file', {
          cause: e,
        });
      }
      for (const bag of bags) {
        const localKeyId = localKeyIdOf(bag);
        const withId = <T extends object>(o: T): T & { localKeyId?: Uint8Array } =>
          localKeyId === undefined ? o : { ...o, localKeyId };
        if (bag.bagId === id_certBag) {
          const cert = AsnConvert.parse(bag.bagValue, CertBag);
          if (cert.certId !== id_x509Certificate) continue;
          const value = new Uint8Array(cert.certValue); // [0] EXPLICIT OCTET STRING
          out.certificates.push(withId({ der: octets(value, tlv(value)) }));
        } else if (bag.bagId === id_pkcs8ShroudedKeyBag || bag.bagId === id_keyBag) {
          const der = new Uint8Array(bag.bagValue);
          const pkcs8 = bag.bagId === id_keyBag ? der : await decryptPrivateKeyInfo(der, password, options);
          out.keys.push(withId({ pkcs8, algorithm: privateKeyAlgorithm(pkcs8) }));
        }
      }
    }
    if (out.keys.length === 0) throw new Pkcs12Error('PKCS12_NO_KEY', 'the file holds no private key');
    return out;
  } catch (e) {
    if (isPkcs12Error(e)) throw e;
    throw invalid('malformed PKCS#12 contents', e);
  }
}
