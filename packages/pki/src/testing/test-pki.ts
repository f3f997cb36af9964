/**
 * A test PKI: root and intermediate CAs, end-entity, TSA and OCSP responder certificates, revocation and
 * CRLs — SM2 (GM/T 0015), RSA or P-256, with Chinese subject names, deterministic for a given seed (keys,
 * serials, names, validity, extensions; EC/SM2 signature values excepted, see `keys.ts`). For tests and
 * demos only: seeds are not secrets.
 *
 *   const pki = new TestPki({ seed: 'case-1' });
 *   const root = pki.root();
 *   const ca = root.intermediate({ subject: { CN: '医证测试二级CA' } });
 *   const doctor = ca.leaf({ subject: { CN: '张三' } });
 *   ca.revoke(doctor, { reason: 'keyCompromise' });
 *   const crl = ca.crl();
 *
 * OCSP responses for a CA are made from {@link TestCa.revocationOf} (status of a certificate) and the
 * responder from {@link TestCa.ocspResponder}; see the OCSP builder of this package.
 */
import { buildCertificate } from '../certificate-builder.js';
import { parseCertificate, type ParsedCertificate } from '../certificate.js';
import { buildCrl } from '../crl-builder.js';
import type { CrlReason } from '../crl.js';
import { toPem } from '../der.js';
import { PkiError } from '../errors.js';
import type { ExtensionsInput, PolicyInput } from '../extensions.js';
import type { NameInput } from '../name.js';
import type { Signer } from '../signer.js';
import { drbg } from './drbg.js';
import { testKey, type TestKeyKind } from './keys.js';

const DAY = 86_400_000;
const YEAR = 365 * DAY;

export interface TestPkiOptions {
  /** Everything derives from the seed. */
  readonly seed: string;
  /** Key kind of certificates that do not name one (default 'sm2'). */
  readonly kind?: TestKeyKind;
  /** The PKI's "now": validity periods start a day before it (default 2026-01-01T00:00:00Z). */
  readonly now?: Date;
  /** RSA modulus length (default 2048). */
  readonly rsaBits?: number;
}

/** An issued certificate with its key. */
export interface TestCertificate {
  readonly kind: TestKeyKind;
  readonly der: Uint8Array;
  readonly pem: string;
  readonly cert: ParsedCertificate;
  readonly signer: Signer;
  /** Unencrypted PKCS#8 PEM. */
  readonly privateKeyPem: string;
}

export interface IssueOptions {
  readonly subject?: NameInput;
  readonly kind?: TestKeyKind;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Replaces the profile's extensions field by field (e.g. another keyUsage). */
  readonly extensions?: ExtensionsInput;
  readonly policies?: readonly PolicyInput[];
}

export interface CaOptions extends IssueOptions {
  /** basicConstraints pathLenConstraint. */
  readonly pathLength?: number;
  /** Written into the certificates this CA issues: CRL distribution point and AIA. */
  readonly crlUrl?: string;
  readonly ocspUrl?: string;
  readonly caIssuersUrl?: string;
}

export interface RevokeOptions {
  /** Revocation date (default: the PKI's now). */
  readonly at?: Date;
  readonly reason?: CrlReason;
}

export interface CrlOptions {
  readonly thisUpdate?: Date;
  /** Default thisUpdate + 7 days. */
  readonly nextUpdate?: Date;
  /** Default: one more than the last CRL of this CA (starting at 1). */
  readonly crlNumber?: bigint;
}

export interface Revocation {
  readonly revokedAt: Date;
  readonly reason: CrlReason | undefined;
}

export class TestPki {
  readonly seed: string;
  readonly kind: TestKeyKind;
  readonly now: Date;
  readonly rsaBits: number;
  #count = 0;

  constructor(options: TestPkiOptions) {
    this.seed = options.seed;
    this.kind = options.kind ?? 'sm2';
    this.now = options.now ?? new Date('2026-01-01T00:00:00Z');
    this.rsaBits = options.rsaBits ?? 2048;
  }

  /** @internal The n-th key/serial label: deterministic in the order certificates are made. */
  nextLabel(): string {
    return `cert-${this.#count++}`;
  }

  /** A 16-byte positive serial derived from the seed and label. */
  serialFor(label: string): Uint8Array {
    const s = drbg(this.seed, `serial:${label}`).bytes(16);
    s[0] = ((s[0] ?? 0) & 0x7f) | 0x10;
    return s;
  }

  /** A self-signed root CA (20 years, basicConstraints CA, keyCertSign + cRLSign). */
  root(options: CaOptions = {}): TestCa {
    const kind = options.kind ?? this.kind;
    const label = this.nextLabel();
    const key = testKey(this.seed, label, kind, this.rsaBits);
    const der = buildCertificate({
      subject: options.subject ?? { C: 'CN', O: '医证测试', CN: `医证测试根CA（${kind.toUpperCase()}）` },
      serial: this.serialFor(label),
      notBefore: options.notBefore ?? new Date(this.now.getTime() - DAY),
      notAfter: options.notAfter ?? new Date(this.now.getTime() + 20 * YEAR),
      extensions: {
        basicConstraints: {
          ca: true,
          ...(options.pathLength === undefined ? {} : { pathLength: options.pathLength }),
        },
        keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
        ...(options.policies ? { certificatePolicies: options.policies } : {}),
        ...options.extensions,
      },
      signer: key.signer,
    });
    return new TestCa(this, certificateOf(kind, der, key.signer, key.privateKeyPem), options);
  }
}

function certificateOf(
  kind: TestKeyKind,
  der: Uint8Array,
  signer: Signer,
  privateKeyPem: string,
): TestCertificate {
  return { kind, der, pem: toPem(der, 'CERTIFICATE'), cert: parseCertificate(der), signer, privateKeyPem };
}

/** A CA of a {@link TestPki}: issues certificates, revokes them, makes CRLs. */
export class TestCa implements TestCertificate {
  readonly kind: TestKeyKind;
  readonly der: Uint8Array;
  readonly pem: string;
  readonly cert: ParsedCertificate;
  readonly signer: Signer;
  readonly privateKeyPem: string;
  readonly pki: TestPki;
  readonly #options: CaOptions;
  readonly #revoked = new Map<string, Revocation>();
  #crlNumber = 0n;

  constructor(pki: TestPki, self: TestCertificate, options: CaOptions) {
    this.pki = pki;
    this.kind = self.kind;
    this.der = self.der;
    this.pem = self.pem;
    this.cert = self.cert;
    this.signer = self.signer;
    this.privateKeyPem = self.privateKeyPem;
    this.#options = options;
  }

  /** Issues a certificate with `profile` extensions (overridden by `options.extensions`). */
  issue(
    options: IssueOptions,
    profile: ExtensionsInput,
    defaultSubject: NameInput,
    years: number,
  ): TestCertificate {
    const kind = options.kind ?? this.pki.kind;
    const label = this.pki.nextLabel();
    const key = testKey(this.pki.seed, label, kind, this.pki.rsaBits);
    const notBefore = options.notBefore ?? new Date(this.pki.now.getTime() - DAY);
    const notAfter =
      options.notAfter ??
      new Date(Math.min(notBefore.getTime() + years * YEAR, this.cert.notAfter.getTime()));
    const o = this.#options;
    const der = buildCertificate({
      subject: options.subject ?? defaultSubject,
      issuer: this.cert,
      subjectPublicKeyInfo: key.signer.publicKeyInfo,
      serial: this.pki.serialFor(label),
      notBefore,
      notAfter,
      extensions: {
        ...(o.crlUrl ? { crlDistributionPoints: [o.crlUrl] } : {}),
        ...(o.ocspUrl || o.caIssuersUrl
          ? {
              authorityInfoAccess: {
                ...(o.ocspUrl ? { ocsp: [o.ocspUrl] } : {}),
                ...(o.caIssuersUrl ? { caIssuers: [o.caIssuersUrl] } : {}),
              },
            }
          : {}),
        ...(options.policies ? { certificatePolicies: options.policies } : {}),
        ...profile,
        ...options.extensions,
      },
      signer: this.signer,
    });
    return certificateOf(kind, der, key.signer, key.privateKeyPem);
  }

  /** A subordinate CA (10 years or up to this CA's end). */
  intermediate(options: CaOptions = {}): TestCa {
    const kind = options.kind ?? this.pki.kind;
    const c = this.issue(
      options,
      {
        basicConstraints: {
          ca: true,
          ...(options.pathLength === undefined ? {} : { pathLength: options.pathLength }),
        },
        keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
      },
      { C: 'CN', O: '医证测试', OU: '证书服务', CN: `医证测试二级CA（${kind.toUpperCase()}）` },
      10,
    );
    return new TestCa(this.pki, c, options);
  }

  /** An end-entity signing certificate: digitalSignature + nonRepudiation (2 years). */
  leaf(options: IssueOptions = {}): TestCertificate {
    return this.issue(
      options,
      {
        basicConstraints: { ca: false, critical: false },
        keyUsage: { usages: ['digitalSignature', 'nonRepudiation'] },
      },
      { C: 'CN', ST: '北京市', O: '医证测试医院', OU: '心血管内科', CN: '张三' },
      2,
    );
  }

  /** A TSA certificate: sole, critical extKeyUsage timeStamping (RFC 3161 §2.3), digitalSignature (5 years). */
  tsa(options: IssueOptions = {}): TestCertificate {
    return this.issue(
      options,
      {
        basicConstraints: { ca: false, critical: false },
        keyUsage: { usages: ['digitalSignature', 'nonRepudiation'] },
        extKeyUsage: { purposes: ['timeStamping'], critical: true },
      },
      { C: 'CN', O: '医证测试', OU: '时间戳服务', CN: '医证测试时间戳服务器' },
      5,
    );
  }

  /** An OCSP responder certificate delegated by this CA: OCSPSigning EKU and id-pkix-ocsp-nocheck (1 year). */
  ocspResponder(options: IssueOptions = {}): TestCertificate {
    return this.issue(
      options,
      {
        basicConstraints: { ca: false, critical: false },
        keyUsage: { usages: ['digitalSignature'] },
        extKeyUsage: { purposes: ['OCSPSigning'] },
        ocspNoCheck: true,
      },
      { C: 'CN', O: '医证测试', OU: '证书状态服务', CN: '医证测试OCSP响应器' },
      1,
    );
  }

  /** Marks a certificate issued by this CA as revoked (listed in later CRLs, reported by OCSP). */
  revoke(certificate: TestCertificate | ParsedCertificate, options: RevokeOptions = {}): void {
    const cert = 'cert' in certificate ? certificate.cert : certificate;
    if (!Buffer.from(cert.issuerDer).equals(Buffer.from(this.cert.subjectDer)))
      throw new PkiError('PKI_INVALID_ARGUMENT', `${cert.subject} was not issued by ${this.cert.subject}`);
    this.#revoked.set(cert.serialHex, { revokedAt: options.at ?? this.pki.now, reason: options.reason });
  }

  /** Whether (and when, why) a serial of this CA is revoked: what an OCSP response for it must say. */
  revocationOf(certificate: TestCertificate | ParsedCertificate | string): Revocation | undefined {
    const serial =
      typeof certificate === 'string'
        ? certificate
        : ('cert' in certificate ? certificate.cert : certificate).serialHex;
    return this.#revoked.get(serial);
  }

  /** A CRL of this CA listing every revocation so far. */
  crl(options: CrlOptions = {}): Uint8Array {
    const thisUpdate = options.thisUpdate ?? this.pki.now;
    this.#crlNumber = options.crlNumber ?? this.#crlNumber + 1n;
    return buildCrl({
      issuer: this.cert,
      signer: this.signer,
      thisUpdate,
      nextUpdate: options.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * DAY),
      crlNumber: this.#crlNumber,
      entries: [...this.#revoked].map(([serial, r]) => ({
        serial,
        revocationDate: r.revokedAt,
        ...(r.reason === undefined ? {} : { reason: r.reason }),
      })),
    });
  }
}
