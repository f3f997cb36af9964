/**
 * Test packages built as the server builds them (apps/server/src/modules/reports/service.ts), from a test
 * platform (SM2 root, platform key, platform TSA) and a hospital PKI (SM2, RSA or P-256 signer). A corruption
 * builds the package honestly around one bad part — the manifest lists the bad bytes — so that only the
 * cryptographic check of that part can catch it.
 */
import { sm2, sm3, toHex, type Sm2PrivateKey } from '@yizheng/gm';
import {
  createLogHasher,
  createSm2NoteSigner,
  inclusionProof,
  InMemoryNodeStore,
  integrate,
  signCheckpoint,
} from '@yizheng/ledger';
import {
  buildCertificate,
  buildSignedData,
  buildTimeStampReq,
  buildTimeStampResp,
  buildTstInfo,
  gmSm2Provider,
  parseCertificate,
  parseSignedData,
  parseTimeStampResp,
  replyTimeStamp,
  toPem,
  type TsaIdentity,
} from '@yizheng/pki';
import { TestPki, type TestCertificate } from '@yizheng/pki/testing';
import { buildEvidencePackage } from './build.js';
import { canonicalJson } from './canonical-json.js';
import { FILES } from './format.js';

export type Corruption =
  | 'signature'
  | 'signer-validity'
  | 'signer-chain'
  | 'timestamp-imprint'
  | 'timestamp-signature'
  | 'timestamp-ess-cert-id'
  | 'timestamp-tsa-eku'
  | 'timestamp-tsa-validity'
  | 'checkpoint-signature'
  | 'checkpoint-timestamp-imprint'
  | 'checkpoint-timestamp-chain'
  | 'evidence-timestamp-imprint'
  | 'evidence-timestamp-chain'
  | 'inclusion'
  | 'seal'
  | 'manifest-signature';

export interface FixtureOptions {
  signerKind?: 'sm2' | 'rsa' | 'p256';
  format?: 'cms' | 'raw';
  corrupt?: Corruption;
  /** The package holds only the original's digest (a detached CMS pushed with its digest). */
  digestOnly?: boolean | 'wrong';
}

export interface Fixture {
  zip: Uint8Array;
  rootPem: string;
  recordId: string;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ORIGIN = 'test.yizheng/log';
const NOW = new Date('2026-01-01T00:00:00Z');
const GEN_TIME = new Date(NOW.getTime() + 3_600_000);
const YEAR = 365 * 86_400_000;
const POLICY = '1.2.156.112233.1';

const platformPki = new TestPki({ seed: 'evidence-platform', kind: 'sm2', now: NOW });
const platformRoot = platformPki.root({ subject: { C: 'CN', O: '医证', CN: '医证平台根CA' } });
const platformCert = platformRoot.leaf({ subject: { C: 'CN', O: '医证', CN: '医证平台' } });
const platformKey: Sm2PrivateKey = sm2.importPrivateKey(platformCert.privateKeyPem);
const platformTsa = platformRoot.tsa();
const otherPki = new TestPki({ seed: 'evidence-other', kind: 'sm2', now: NOW });
const otherRoot = otherPki.root();
const otherKey = sm2.importPrivateKey(otherRoot.leaf().privateKeyPem);

const hospitals = new Map<string, ReturnType<TestPki['root']>>();
function hospitalRoot(kind: 'sm2' | 'rsa' | 'p256'): ReturnType<TestPki['root']> {
  let r = hospitals.get(kind);
  if (r === undefined) {
    r = new TestPki({ seed: `evidence-hospital-${kind}`, kind, now: NOW }).root();
    hospitals.set(kind, r);
  }
  return r;
}

function identity(c: TestCertificate, chain: readonly TestCertificate[] = []): TsaIdentity {
  return { signer: c.signer, certificate: c.cert, chain: chain.map((x) => x.cert) };
}

function stamp(data: Uint8Array, tsa: TsaIdentity, genTime = GEN_TIME): Uint8Array {
  const hash = tsa.signer.keyKind === 'sm2' ? 'sm3' : 'sha256';
  const req = buildTimeStampReq({ data, hash, algorithmPolicy: { sm2: gmSm2Provider } });
  const resp = parseTimeStampResp(
    replyTimeStamp({ request: req.der, tsa, serialNumber: 7n, genTime, policy: POLICY }),
  );
  if (resp.token === undefined) throw new Error(`the test TSA refused: ${resp.statusStrings.join(' ')}`);
  return resp.token;
}

/** A token over a digest given as is (the reinforcement stamp over the evidence hash). */
function stampDigest(digest: Uint8Array, tsa: TsaIdentity): Uint8Array {
  const req = buildTimeStampReq({ digest, hash: 'sm3' });
  const resp = parseTimeStampResp(
    replyTimeStamp({ request: req.der, tsa, serialNumber: 8n, genTime: GEN_TIME, policy: POLICY }),
  );
  if (resp.token === undefined) throw new Error(`the test TSA refused: ${resp.statusStrings.join(' ')}`);
  return resp.token;
}

/** A token whose ESSCertIDv2 names another certificate of the same TSA key. */
function stampWithForeignEssCertId(data: Uint8Array): Uint8Array {
  const twin = parseCertificate(
    buildCertificate({
      subject: { CN: '医证测试时间戳服务器（另一张证书）' },
      issuer: platformRoot.cert,
      subjectPublicKeyInfo: platformTsa.signer.publicKeyInfo,
      serial: 0x4242n,
      notBefore: new Date(NOW.getTime() - 86_400_000),
      notAfter: new Date(NOW.getTime() + YEAR),
      signer: platformRoot.signer,
      extensions: {
        keyUsage: { usages: ['digitalSignature'] },
        extKeyUsage: { purposes: ['timeStamping'], critical: true },
      },
    }),
  );
  const tst = buildTstInfo({
    policy: POLICY,
    hash: 'sm3',
    hashedMessage: sm3(data),
    serialNumber: 8n,
    genTime: GEN_TIME,
  });
  const token = buildSignedData({
    content: tst,
    eContentType: '1.2.840.113549.1.9.16.1.4',
    signers: [{ signer: platformTsa.signer, certificate: twin, sid: 'subjectKeyIdentifier' }],
    includeSignerCertificates: false,
    certificates: [platformTsa.cert],
  });
  return parseTimeStampResp(buildTimeStampResp({ status: 'granted', token })).token!;
}

export async function makePackage(options: FixtureOptions = {}): Promise<Fixture> {
  const kind = options.signerKind ?? 'sm2';
  const format = options.format ?? 'cms';
  const corrupt = options.corrupt;
  const root = hospitalRoot(kind);
  const signer =
    corrupt === 'signer-validity'
      ? root.leaf({ notBefore: new Date(NOW.getTime() - 2 * YEAR), notAfter: new Date(NOW.getTime() - YEAR) })
      : root.leaf();
  const recordId = `sig_${kind}_${format}_${corrupt ?? 'ok'}`;
  const original = enc(`住院病历首页 ${recordId}`);
  const signed = corrupt === 'signature' ? enc('另一份原文') : original;
  let signature: Uint8Array;
  let signatureValue: Uint8Array;
  if (format === 'cms') {
    signature = buildSignedData({
      content: signed,
      detached: true,
      signers: [{ signer: signer.signer, certificate: signer.cert, signingTime: NOW }],
    });
    signatureValue = parseSignedData(signature).signers[0]!.signature;
  } else {
    signature = signer.signer.sign(signed);
    signatureValue = signature;
  }
  const includedRoot = corrupt === 'signer-chain' ? otherRoot : root;
  const certificates = [signer.der, includedRoot.der];

  let token: Uint8Array;
  if (corrupt === 'timestamp-imprint') token = stamp(enc('别的数据'), identity(platformTsa));
  else if (corrupt === 'timestamp-tsa-eku') token = stamp(signatureValue, identity(platformRoot.leaf()));
  else if (corrupt === 'timestamp-tsa-validity')
    token = stamp(signatureValue, identity(platformTsa), new Date(NOW.getTime() + 10 * YEAR));
  else if (corrupt === 'timestamp-ess-cert-id') token = stampWithForeignEssCertId(signatureValue);
  else token = stamp(signatureValue, identity(platformTsa));
  if (corrupt === 'timestamp-signature') {
    // Flip one byte of the TSA's signature value (the last bytes of the SignerInfo).
    const t = parseSignedData(token);
    const sig = t.signers[0]!.signature;
    const at = findLast(token, sig);
    token = token.slice();
    token[at + sig.length - 2] = token[at + sig.length - 2]! ^ 0x01;
  }

  const verification = canonicalJson({
    format,
    signatureAlgorithm: signer.signer.signatureAlgorithm,
    signingTime: GEN_TIME.toISOString(),
    timestamp: { covers: 'signature', genTime: GEN_TIME.toISOString(), source: 'pushed', tsa: null },
  });
  const certBytes = concat(certificates);
  const record = enc(
    canonicalJson({
      type: 'yizheng-evidence/1',
      id: recordId,
      kind: 'signature',
      signatureFormat: format,
      ...(options.digestOnly
        ? {
            digestAlgorithm: 'sm3',
            digestValue: toHex(sm3(options.digestOnly === 'wrong' ? enc('别的原文') : original)),
          }
        : { originalSm3: toHex(sm3(original)) }),
      signatureSm3: toHex(sm3(signature)),
      certificatesSm3: toHex(sm3(certBytes)),
      timestampSm3: toHex(sm3(token)),
      signedAt: NOW.toISOString(),
      receivedAt: GEN_TIME.toISOString(),
      verification,
    }),
  );
  const evidenceHash = sm3(record);

  // The log: five leaves, ours at index 3, under a checkpoint signed by the platform and stamped by its TSA.
  const hasher = createLogHasher('sm3', (d) => sm3(d));
  const store = new InMemoryNodeStore();
  const entries = [enc('a'), enc('b'), enc('c'), evidenceHash, enc('e')];
  const integrated = await integrate(
    hasher,
    store,
    0,
    entries.map((e) => hasher.hashLeaf(e)),
  );
  store.putNodes(integrated.nodes);
  const proof = await inclusionProof(hasher, store, corrupt === 'inclusion' ? 2 : 3, 5);
  const noteKey = corrupt === 'checkpoint-signature' ? otherKey : platformKey;
  const note = signCheckpoint({ origin: ORIGIN, size: 5, rootHash: integrated.root }, [
    createSm2NoteSigner({ sm2, sm3 }, { name: ORIGIN, privateKey: noteKey, publicKey: noteKey.publicKey }),
  ]);
  const noteBytes = enc(note);
  const checkpointToken =
    corrupt === 'checkpoint-timestamp-imprint'
      ? stamp(enc(`${note}x`), identity(platformTsa))
      : corrupt === 'checkpoint-timestamp-chain'
        ? stamp(noteBytes, identity(otherRoot.tsa()))
        : stamp(noteBytes, identity(platformTsa));

  // The platform TSA's reinforcement stamp over the evidence hash.
  const evidenceToken =
    corrupt === 'evidence-timestamp-imprint'
      ? stampDigest(sm3(enc('另一条记录')), identity(platformTsa))
      : stampDigest(
          evidenceHash,
          identity(corrupt === 'evidence-timestamp-chain' ? otherRoot.tsa() : platformTsa),
        );

  const view = { recordId, version: 1, evidenceHash: toHex(evidenceHash) };
  const viewBytes = enc(canonicalJson(view));
  const sealKey = corrupt === 'seal' ? otherKey : platformKey;
  const files: Record<string, Uint8Array> = {
    [FILES.record]: record,
    ...(options.digestOnly ? {} : { [FILES.original]: original }),
    [FILES.signature]: signature,
    [FILES.certificates]: enc(certificates.map((d) => toPem(d, 'CERTIFICATE')).join('')),
    [FILES.timestamp]: token,
    [FILES.evidenceTimestamp]: evidenceToken,
    [FILES.inclusionProof]: enc(
      JSON.stringify({ hash: 'sm3', index: 3, treeSize: 5, proof: proof.map((h) => toHex(h)) }),
    ),
    [FILES.checkpoint]: noteBytes,
    [FILES.checkpointTimestamp]: checkpointToken,
    [FILES.platformChain]: enc(platformCert.pem + platformRoot.pem),
    [FILES.reportContent]: enc(
      JSON.stringify({
        view,
        seal: {
          contentSm3: toHex(sm3(viewBytes)),
          signature: Buffer.from(sm2.sign(sealKey, viewBytes)).toString('base64'),
        },
      }),
    ),
    [FILES.reportPdf]: enc('%PDF-1.7 …'),
    [FILES.verification]: enc('{"intact":true}'),
  };
  const manifestKey = corrupt === 'manifest-signature' ? otherKey : platformKey;
  const zip = buildEvidencePackage({
    recordId,
    kind: 'signature',
    evidenceHash: toHex(evidenceHash),
    logHash: 'sm3',
    logOrigin: ORIGIN,
    createdAt: GEN_TIME.toISOString(),
    files,
    sign: (d) => sm2.sign(manifestKey, d),
  });
  return { zip, rootPem: platformRoot.pem, recordId };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function findLast(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = hay.length - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}
