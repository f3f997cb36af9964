/**
 * TSTInfo, the content a TSA signs (RFC 3161 §2.4.2, RFC 5816). Parsed from strict DER (the standard requires
 * TSTInfo to be DER-encoded) after the hardened {@link scanDer} intake; built with minimal INTEGERs and a
 * GeneralizedTime without trailing fractional zeros (§2.4.2).
 *
 *   TSTInfo ::= SEQUENCE {
 *     version        INTEGER { v1(1) },
 *     policy         TSAPolicyId,
 *     messageImprint MessageImprint,
 *     serialNumber   INTEGER,
 *     genTime        GeneralizedTime,
 *     accuracy       Accuracy OPTIONAL,
 *     ordering       BOOLEAN DEFAULT FALSE,
 *     nonce          INTEGER OPTIONAL,
 *     tsa            [0] GeneralName OPTIONAL,
 *     extensions     [1] IMPLICIT Extensions OPTIONAL }
 *   MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
 *   Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
 *                           micros [1] INTEGER (1..999) OPTIONAL }
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo, id_ct_tstInfo } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier, type GeneralName } from '@peculiar/asn1-x509';
import { DIGEST_OID, type DigestName } from './algorithms.js';
import { nameToString } from './certificate.js';
import { childrenOf, fromPem, readHeader, scanDer, tlvBytes, type DerLimits, type Tlv } from './der.js';
import { PkiError } from './errors.js';
import { TAG, boolean, explicit, octetString, oid, sequence, tlv } from './der-writer.js';

export const TSP_OID = {
  /** id-ct-TSTInfo, the eContentType of a timestamp token. */
  tstInfo: id_ct_tstInfo,
  /** id-aa-signingCertificate (RFC 2634 §5.4), ESSCertID with SHA-1. */
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  /** id-aa-signingCertificateV2 (RFC 5035 §3), ESSCertIDv2. */
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  /** id-aa-timeStampToken (RFC 3161 Appendix A), the CAdES-T unsigned attribute. */
  timeStampToken: '1.2.840.113549.1.9.16.2.14',
} as const;

/** Accuracy of genTime (RFC 3161 §2.4.2); absent fields are 0. */
export interface TstAccuracy {
  readonly seconds: number;
  readonly millis: number;
  readonly micros: number;
}

export interface ParsedTstInfo {
  /** The TSTInfo DER exactly as received. */
  readonly der: Uint8Array;
  readonly version: number;
  readonly policy: string;
  /** messageImprint.hashAlgorithm OID. */
  readonly hashAlgorithm: string;
  readonly hashedMessage: Uint8Array;
  readonly serialNumber: bigint;
  readonly genTime: Date;
  readonly accuracy: TstAccuracy | undefined;
  readonly ordering: boolean;
  readonly nonce: bigint | undefined;
  /** The tsa GeneralName: a directoryName as an RFC 4514 string, other forms as `type:value`. */
  readonly tsa: string | undefined;
  /** The exact DER of the tsa directoryName, when the tsa field is one. */
  readonly tsaDirectoryName: Uint8Array | undefined;
  /** Extension OIDs present. */
  readonly extensions: readonly string[];
}

/** Two's-complement big-endian INTEGER contents to a bigint. */
export function integerValue(bytes: ArrayBuffer | Uint8Array): bigint {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length === 0) return 0n;
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  if ((b[0] ?? 0) & 0x80) v -= 1n << BigInt(b.length * 8);
  return v;
}

/** A bigint as minimal two's-complement INTEGER contents (X.690 §8.3). */
export function integerBytes(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array([0]);
  const out: number[] = [];
  let v = value;
  for (;;) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
    const top = out[0] ?? 0;
    if ((v === 0n && (top & 0x80) === 0) || (v === -1n && (top & 0x80) !== 0)) break;
  }
  return new Uint8Array(out);
}

/** A GeneralName for display: directoryName as RFC 4514, else `dNSName:…`, `uniformResourceIdentifier:…`, …. */
export function generalNameToString(g: GeneralName): string {
  if (g.directoryName) return nameToString(g.directoryName);
  if (g.dNSName !== undefined) return `dNSName:${g.dNSName}`;
  if (g.uniformResourceIdentifier !== undefined)
    return `uniformResourceIdentifier:${g.uniformResourceIdentifier}`;
  if (g.rfc822Name !== undefined) return `rfc822Name:${g.rfc822Name}`;
  if (g.registeredID !== undefined) return `registeredID:${g.registeredID}`;
  if (g.iPAddress !== undefined) return `iPAddress:${g.iPAddress}`;
  return 'otherName';
}

function asnError(what: string, e: unknown): PkiError {
  return new PkiError('PKI_ASN1_INVALID', `not a valid ${what}`, { cause: e });
}

/** Parses a DER TSTInfo; throws PkiError PKI_ASN1_INVALID / PKI_DEPTH_LIMIT / PKI_SIZE_LIMIT. */
export function parseTstInfo(input: Uint8Array, limits: DerLimits = {}): ParsedTstInfo {
  const der = fromPem(input);
  const top = scanDer(der, { ...limits, mode: 'der' });
  // tsa [0] EXPLICIT GeneralName; directoryName is [4] EXPLICIT Name.
  let tsaDirectoryName: Uint8Array | undefined;
  const tsaTlv = childrenOf(der, top, 'der').find((c) => c.tagByte === 0xa0);
  if (tsaTlv) {
    const g = readHeader(der, tsaTlv.valueStart, tsaTlv.end);
    if (g.tagByte === 0xa4) tsaDirectoryName = tlvBytes(der, readHeader(der, g.valueStart, g.end));
  }
  let t: TSTInfo;
  try {
    t = AsnConvert.parse(der, TSTInfo);
  } catch (e) {
    throw asnError('TSTInfo', e);
  }
  if ((t.version as number) !== 1) throw new PkiError('PKI_ASN1_INVALID', `TSTInfo version ${t.version}`);
  const genTime = t.genTime;
  if (!(genTime instanceof Date) || Number.isNaN(genTime.getTime()))
    throw new PkiError('PKI_ASN1_INVALID', 'TSTInfo genTime is not a valid GeneralizedTime');
  let accuracy: TstAccuracy | undefined;
  if (t.accuracy) {
    const { seconds, millis, micros } = t.accuracy;
    const inRange = (v: number | undefined): boolean => v === undefined || (v >= 1 && v <= 999);
    if (!inRange(millis) || !inRange(micros) || seconds < 0)
      throw new PkiError('PKI_ASN1_INVALID', 'TSTInfo accuracy out of range');
    accuracy = { seconds: seconds ?? 0, millis: millis ?? 0, micros: micros ?? 0 };
  }
  try {
    return {
      der,
      version: t.version,
      policy: t.policy,
      hashAlgorithm: t.messageImprint.hashAlgorithm.algorithm,
      hashedMessage: new Uint8Array(t.messageImprint.hashedMessage.buffer),
      serialNumber: integerValue(t.serialNumber),
      genTime,
      accuracy,
      ordering: t.ordering,
      nonce: t.nonce === undefined ? undefined : integerValue(t.nonce),
      tsa: t.tsa ? generalNameToString(t.tsa) : undefined,
      tsaDirectoryName,
      extensions: t.extensions ? t.extensions.map((e) => e.extnID) : [],
    };
  } catch (e) {
    throw asnError('TSTInfo field', e);
  }
}

export interface TstInfoFields {
  readonly policy: string;
  readonly hash: DigestName;
  readonly hashedMessage: Uint8Array;
  readonly serialNumber: bigint;
  readonly genTime: Date;
  readonly accuracy?: Partial<TstAccuracy>;
  readonly ordering?: boolean;
  readonly nonce?: bigint;
  /** The TSA name as a directoryName (DER of a Name), e.g. the TSA certificate's subjectDer. */
  readonly tsaName?: Uint8Array;
}

/** The DER AlgorithmIdentifier of a digest, parameters absent (RFC 5754 §2). */
export function digestAlgorithmIdentifier(hash: DigestName): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm: DIGEST_OID[hash] });
}

/** Encodes a TSTInfo as DER. */
export function buildTstInfo(f: TstInfoFields): Uint8Array {
  if (f.serialNumber < 0n) throw new PkiError('PKI_INVALID_ARGUMENT', 'serialNumber must not be negative');
  const acc = f.accuracy;
  if (
    acc &&
    ((acc.seconds ?? 0) < 0 ||
      !Number.isInteger(acc.seconds ?? 0) ||
      [acc.millis, acc.micros].some((v) => v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 999)))
  )
    throw new PkiError(
      'PKI_INVALID_ARGUMENT',
      'accuracy: seconds ≥ 0, millis and micros 1..999 (0 = absent)',
    );
  // Written with the package's DER writer (no schema objects: a TSA builds one per stamp).
  const int = (v: bigint): Uint8Array => tlv(TAG.INTEGER, integerBytes(v));
  const accuracy: Uint8Array[] = [];
  if (acc) {
    if (acc.seconds) accuracy.push(int(BigInt(acc.seconds)));
    if (acc.millis) accuracy.push(tlv(0x80, integerBytes(BigInt(acc.millis))));
    if (acc.micros) accuracy.push(tlv(0x81, integerBytes(BigInt(acc.micros))));
  }
  let tsa: Uint8Array[] = [];
  if (f.tsaName) {
    let t: Tlv;
    try {
      t = scanDer(f.tsaName, { mode: 'der' });
    } catch (e) {
      throw new PkiError('PKI_INVALID_ARGUMENT', 'tsaName is not a DER Name', { cause: e });
    }
    if (t.tagByte !== TAG.SEQUENCE || t.end !== f.tsaName.length)
      throw new PkiError('PKI_INVALID_ARGUMENT', 'tsaName is not a DER Name');
    // tsa [0] GeneralName (EXPLICIT: a CHOICE), directoryName [4] Name (EXPLICIT: a CHOICE).
    tsa = [explicit(0, explicit(4, f.tsaName))];
  }
  return sequence(
    int(1n),
    oid(f.policy),
    sequence(sequence(oid(DIGEST_OID[f.hash])), octetString(f.hashedMessage)),
    int(f.serialNumber),
    tlv(TAG.GENERALIZED_TIME, new TextEncoder().encode(genTimeString(f.genTime))),
    ...(acc ? [sequence(...accuracy)] : []),
    ...(f.ordering === true ? [boolean(true)] : []),
    ...(f.nonce !== undefined ? [int(f.nonce)] : []),
    ...tsa,
  );
}

/** YYYYMMDDHHMMSS[.fff]Z in UTC, the fraction without trailing zeros (RFC 3161 §2.4.2, X.690 §11.7). */
function genTimeString(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new PkiError('PKI_INVALID_ARGUMENT', 'genTime is invalid');
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ (years 0–9999)
  const whole = iso.slice(0, 19).replace(/[-:T]/g, '');
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return fraction === '' ? `${whole}Z` : `${whole}.${fraction}Z`;
}
