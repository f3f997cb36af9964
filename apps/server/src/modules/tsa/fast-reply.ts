/**
 * The TSA's per-request token builder: everything of a granted TimeStampResp that does not change between stamps
 * — the certificates, the signer identifier, the algorithm identifiers, the contentType and signingCertificateV2
 * (ESSCertIDv2) attributes — is taken once per key from a response made by the reference builder
 * (`replyTimeStamp` of `@yizheng/pki`); each stamp then splices in its own TSTInfo, messageDigest, signingTime
 * and signature. The output is byte for byte what `replyTimeStamp` makes for the same request, serial, time and
 * signature (fast-reply.test.ts). Only requests `replyTimeStamp` would grant are taken (`takes`); every other one
 * is answered by `replyTimeStamp` itself, so rejections keep their reference wording.
 */
import { createHash } from 'node:crypto';
import {
  buildTimeStampReq,
  buildTstInfo,
  childrenOf,
  CMS_OID,
  digestName,
  replyTimeStamp,
  scanDer,
  tlvBytes,
  type DigestName,
  type ParsedTimeStampReq,
  type ReplyTimeStampOptions,
  type TstAccuracy,
} from '@yizheng/pki';
import { readItem, readOid, tlv } from './der-lite.js';

type Identity = ReplyTimeStampOptions['tsa'];

export interface StampTemplate {
  readonly identity: Identity;
  /** The signer's digest (messageDigest attribute). */
  readonly hash: DigestName;
  /** SignerInfo version, sid and digestAlgorithm, encoded. */
  readonly signerInfoHead: Uint8Array;
  readonly signatureAlgorithm: Uint8Array;
  readonly contentTypeAttr: Uint8Array;
  readonly signingCertificateAttr: Uint8Array;
  /** SignedData version and digestAlgorithms. */
  readonly signedDataHead: Uint8Array;
  readonly eContentTypeOid: Uint8Array;
  /** certificates [0] IMPLICIT (the TSA certificate and its chain), for requests with certReq. */
  readonly certificates: Uint8Array;
  readonly contentInfoOid: Uint8Array;
  readonly status: Uint8Array;
}

const kids = (der: Uint8Array): Uint8Array[] =>
  childrenOf(der, scanDer(der, { mode: 'der', allowTrailing: false }), 'der').map((t) => tlvBytes(der, t));

/** The type OID of an Attribute ::= SEQUENCE { attrType OID, attrValues SET }. */
function attrType(attr: Uint8Array): string | undefined {
  const seq = readItem(attr, 0, attr.length);
  const type = seq === undefined ? undefined : readItem(attr, seq.start, seq.end);
  return type?.tag === 0x06 ? readOid(attr, type.start, type.end) : undefined;
}

/** Builds the template of one TSA key from a reference response (a synthetic request with certReq). */
export function stampTemplate(identity: Identity): StampTemplate {
  const request = buildTimeStampReq({ digest: new Uint8Array(32), hash: 'sha256', certReq: true }).der;
  const resp = replyTimeStamp({
    request,
    tsa: identity,
    serialNumber: 1n,
    genTime: new Date(0),
    policy: '1.2.3',
  });
  const [status, contentInfo] = kids(resp);
  const [contentInfoOid, wrapped] = kids(contentInfo!);
  const sd = kids(kids(wrapped!)[0]!);
  const si = kids(kids(sd[4]!)[0]!);
  if (sd.length !== 5 || si.length !== 6 || kids(sd[4]!).length !== 1)
    throw new Error('unexpected layout of the reference TimeStampToken');
  const attrs = kids(si[3]!);
  const find = (oid: string): Uint8Array => {
    const a = attrs.find((x) => attrType(x) === oid);
    if (a === undefined) throw new Error(`the reference TimeStampToken lacks the attribute ${oid}`);
    return a;
  };
  return {
    identity,
    hash: digestName(identity.signer.digestAlgorithm),
    signerInfoHead: Buffer.concat([si[0]!, si[1]!, si[2]!]),
    signatureAlgorithm: si[4]!,
    contentTypeAttr: find(CMS_OID.contentType),
    signingCertificateAttr: find(CMS_OID.signingCertificateV2),
    signedDataHead: Buffer.concat([sd[0]!, sd[1]!]),
    eContentTypeOid: kids(sd[2]!)[0]!,
    certificates: sd[3]!,
    contentInfoOid: contentInfoOid!,
    status: status!,
  };
}

const GRANTABLE: ReadonlySet<string> = new Set(['sm3', 'sha256', 'sha384', 'sha512']);
const LENGTH: Readonly<Record<string, number>> = { sm3: 32, sha256: 32, sha384: 48, sha512: 64 };

/** Whether `replyTimeStamp` would grant this request (the checks of its `refuse`, default hashes). */
export function takes(req: ParsedTimeStampReq, acceptedPolicies: readonly string[]): boolean {
  return (
    req.version === 1 &&
    req.hash !== undefined &&
    GRANTABLE.has(req.hash) &&
    !req.hashParameters &&
    req.hashedMessage.length === LENGTH[req.hash] &&
    (req.policy === undefined || acceptedPolicies.includes(req.policy)) &&
    req.extensions.length === 0
  );
}

const MESSAGE_DIGEST_TYPE = Buffer.from('06092a864886f70d010904', 'hex');
const SIGNING_TIME_TYPE = Buffer.from('06092a864886f70d010905', 'hex');

/** RFC 5280 Time as `time()` of the pki DER writer writes it: UTCTime 1950–2049, else GeneralizedTime. */
function timeDer(d: Date): Buffer {
  const s = d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '');
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050
    ? tlv(0x17, Buffer.from(s.slice(2), 'latin1'))
    : tlv(0x18, Buffer.from(s, 'latin1'));
}

export interface FastStampFields {
  request: ParsedTimeStampReq;
  serialNumber: bigint;
  genTime: Date;
  /** The TSA's default policy, used when the request names none. */
  policy: string;
  accuracy?: Partial<TstAccuracy>;
}

/** The SET OF signed attributes to sign, and the TSTInfo it covers. */
function toBeSigned(t: StampTemplate, f: FastStampFields): { tstInfo: Uint8Array; signedAttrs: Buffer } {
  const req = f.request;
  const tstInfo = buildTstInfo({
    policy: req.policy ?? f.policy,
    hash: req.hash!,
    hashedMessage: req.hashedMessage,
    serialNumber: f.serialNumber,
    genTime: f.genTime,
    ...(f.accuracy ? { accuracy: f.accuracy } : {}),
    ordering: false,
    ...(req.nonce !== undefined ? { nonce: req.nonce } : {}),
    tsaName: t.identity.certificate.subjectDer,
  });
  const md = createHash(t.hash).update(tstInfo).digest();
  const attrs = [
    t.contentTypeAttr,
    tlv(0x30, MESSAGE_DIGEST_TYPE, tlv(0x31, tlv(0x04, md))),
    tlv(0x30, SIGNING_TIME_TYPE, tlv(0x31, timeDer(f.genTime))),
    t.signingCertificateAttr,
  ].sort((a, b) => Buffer.compare(a, b));
  return { tstInfo, signedAttrs: tlv(0x31, ...attrs) };
}

function assemble(
  t: StampTemplate,
  certReq: boolean,
  tstInfo: Uint8Array,
  signedAttrs: Buffer,
  signature: Uint8Array,
): Uint8Array {
  signedAttrs[0] = 0xa0; // stored as [0] IMPLICIT after signing the SET OF (RFC 5652 §5.4)
  const signerInfo = tlv(0x30, t.signerInfoHead, signedAttrs, t.signatureAlgorithm, tlv(0x04, signature));
  const signedData = tlv(
    0x30,
    t.signedDataHead,
    tlv(0x30, t.eContentTypeOid, tlv(0xa0, tlv(0x04, tstInfo))),
    ...(certReq ? [t.certificates] : []),
    tlv(0x31, signerInfo),
  );
  return tlv(0x30, t.status, tlv(0x30, t.contentInfoOid, tlv(0xa0, signedData)));
}

/** A granted TimeStampResp for a request that {@link takes} accepts, signed by the template's signer. */
export function fastReply(t: StampTemplate, f: FastStampFields): Uint8Array {
  const { tstInfo, signedAttrs } = toBeSigned(t, f);
  return assemble(t, f.request.certReq, tstInfo, signedAttrs, t.identity.signer.sign(signedAttrs));
}

/**
 * The same, signed by `sign` (the same key, off the event loop: node:crypto's asynchronous sign runs in libuv's
 * thread pool, so a server with several cores signs RSA and ECDSA stamps in parallel).
 */
export async function fastReplyAsync(
  t: StampTemplate,
  f: FastStampFields,
  sign: (data: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const { tstInfo, signedAttrs } = toBeSigned(t, f);
  return assemble(t, f.request.certReq, tstInfo, signedAttrs, await sign(signedAttrs));
}
