/**
 * CRL building (RFC 5280 §5): a v2 CRL signed by the issuing CA, with cRLNumber and authorityKeyIdentifier
 * (both required of conforming CAs, §5.2.1 / §5.2.3) and per-entry reason codes (§5.3.1).
 *
 *   TBSCertList ::= SEQUENCE { version Version OPTIONAL (v2), signature AlgorithmIdentifier, issuer Name,
 *     thisUpdate Time, nextUpdate Time OPTIONAL,
 *     revokedCertificates SEQUENCE OF SEQUENCE { userCertificate CertificateSerialNumber,
 *       revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *     crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 *   CRLReason ::= ENUMERATED { unspecified (0), keyCompromise (1), cACompromise (2), affiliationChanged (3),
 *     superseded (4), cessationOfOperation (5), certificateHold (6), removeFromCRL (8),
 *     privilegeWithdrawn (9), aACompromise (10) }
 */
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import type { CrlReason } from './crl.js';
import {
  bitString,
  enumerated,
  explicit,
  generalizedTime,
  integer,
  sequence,
  signatureAlgorithmIdentifier,
  time,
  tlv,
} from './der-writer.js';
import { PkiError } from './errors.js';
import { extension } from './extensions.js';
import type { Signer } from './signer.js';

const REASON_CODE: Readonly<Record<CrlReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

export interface CrlEntryInput {
  /** The revoked certificate's serial: a number, its bytes, lowercase hex, or the certificate itself. */
  readonly serial: bigint | Uint8Array | string | ParsedCertificate;
  readonly revocationDate: Date;
  /** Written as a reasonCode entry extension, except 'unspecified' (RFC 5280 §5.3.1: SHOULD be absent). */
  readonly reason?: CrlReason;
  /** invalidityDate entry extension (§5.3.2), GeneralizedTime. */
  readonly invalidityDate?: Date;
}

export interface BuildCrlOptions {
  /** The CA's certificate (its subject becomes the CRL issuer; its SKI the AKI). */
  readonly issuer: ParsedCertificate | Uint8Array;
  /** The CA's key. */
  readonly signer: Signer;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Monotonically increasing CRL number (§5.2.3), non-negative, at most 20 octets. */
  readonly crlNumber?: bigint;
  readonly entries?: readonly CrlEntryInput[];
  /** Write the authorityKeyIdentifier (default true when the issuer has an SKI). */
  readonly authorityKeyIdentifier?: boolean;
  readonly extraExtensions?: readonly {
    readonly oid: string;
    readonly critical?: boolean;
    readonly value: Uint8Array;
  }[];
}

function serialOf(s: CrlEntryInput['serial']): Uint8Array {
  if (typeof s === 'bigint' || s instanceof Uint8Array) return integer(s);
  if (typeof s === 'string') {
    if (!/^[0-9a-fA-F]+$/.test(s)) throw new PkiError('PKI_INVALID_ARGUMENT', `not a hex serial: ${s}`);
    return integer(Buffer.from(s.length % 2 === 1 ? `0${s}` : s, 'hex'));
  }
  return integer(Buffer.from(s.serialHex.length % 2 === 1 ? `0${s.serialHex}` : s.serialHex, 'hex'));
}

/** Builds and signs a CRL; returns its DER. Throws PKI_INVALID_ARGUMENT for inconsistent options. */
export function buildCrl(options: BuildCrlOptions): Uint8Array {
  const issuer = options.issuer instanceof Uint8Array ? parseCertificate(options.issuer) : options.issuer;
  if (!Buffer.from(options.signer.publicKeyInfo).equals(Buffer.from(issuer.spki)))
    throw new PkiError('PKI_INVALID_ARGUMENT', `the signer's key is not the key of ${issuer.subject}`);
  if (options.nextUpdate !== undefined && options.nextUpdate.getTime() < options.thisUpdate.getTime())
    throw new PkiError('PKI_INVALID_ARGUMENT', 'nextUpdate is before thisUpdate');
  const entries = (options.entries ?? []).map((e) => {
    const exts: Uint8Array[] = [];
    if (e.reason !== undefined && e.reason !== 'unspecified') {
      exts.push(extension('2.5.29.21', false, enumerated(REASON_CODE[e.reason])));
    }
    if (e.invalidityDate !== undefined)
      exts.push(extension('2.5.29.24', false, generalizedTime(e.invalidityDate)));
    return sequence(
      serialOf(e.serial),
      time(e.revocationDate),
      ...(exts.length > 0 ? [sequence(...exts)] : []),
    );
  });
  const crlExts: Uint8Array[] = [];
  if ((options.authorityKeyIdentifier ?? true) && issuer.subjectKeyIdentifier !== undefined) {
    crlExts.push(extension('2.5.29.35', false, sequence(tlv(0x80, issuer.subjectKeyIdentifier))));
  }
  if (options.crlNumber !== undefined) {
    if (options.crlNumber < 0n || options.crlNumber >= 1n << 159n)
      throw new PkiError('PKI_INVALID_ARGUMENT', 'cRLNumber is 0..2^159-1 (at most 20 octets)');
    crlExts.push(extension('2.5.29.20', false, integer(options.crlNumber)));
  }
  for (const e of options.extraExtensions ?? []) crlExts.push(extension(e.oid, e.critical ?? false, e.value));
  const algorithm = signatureAlgorithmIdentifier(options.signer.signatureAlgorithm);
  const tbs = sequence(
    integer(1),
    algorithm,
    issuer.subjectDer,
    time(options.thisUpdate),
    ...(options.nextUpdate === undefined ? [] : [time(options.nextUpdate)]),
    ...(entries.length > 0 ? [sequence(...entries)] : []),
    ...(crlExts.length > 0 ? [explicit(0, sequence(...crlExts))] : []),
  );
  return sequence(tbs, algorithm, bitString(options.signer.sign(tbs)));
}
