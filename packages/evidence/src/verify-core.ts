/**
 * Offline verification of an evidence package: nothing but the package (and, to pin trust, the platform's root
 * certificate). Every check names the part it is about — a file of the package, or `platform-root` — and has a
 * stable check name, so that any single altered file, and any failed cryptographic check, is named. Only input
 * that is not a zip at all throws (EvidenceError). The crypto comes from an {@link EvidenceCrypto} provider.
 */
import { fromHex, toHex } from '@yizheng/gm/browser';
import { createLogHasher, createSm2NoteVerifier, openCheckpoint, verifyInclusion } from '@yizheng/ledger';
import { fromPem, isSignedBy, parseCertificate, type ParsedCertificate } from '@yizheng/pki';
import { unzipSync } from 'fflate';
import { canonicalJson, type CanonicalValue } from './canonical-json.js';
import { Checks, type PackageCheck } from './checks.js';
import type { EvidenceCrypto } from './crypto.js';
import { EvidenceError } from './errors.js';
import { FILES, PACKAGE_FORMAT, type InclusionProofFile, type PackageManifest } from './format.js';
import { checkSignatureEvidence } from './signature-checks.js';
import { checkToken } from './timestamp-checks.js';

export type { PackageCheck } from './checks.js';

export interface PackageVerification {
  valid: boolean;
  /** The root certificate was given and matched the package's chain. */
  rootPinned: boolean;
  recordId: string | undefined;
  kind: string | undefined;
  /** The evidence hash (hex SM3 of record.json) the manifest declares. */
  evidenceHash: string | undefined;
  /** The checkpoint the inclusion proof is under, when it verified (for a live consistency check). */
  checkpoint: { origin: string; size: number; rootHash: string } | undefined;
  /** The public verification link in the sealed report content (when its seal verified). */
  verifyUrl: string | undefined;
  checks: PackageCheck[];
  /** The parts with a failed check, in package order. */
  failedParts: string[];
}

export interface VerifyPackageOptions {
  /** The platform's root certificate (PEM or DER); without it the chain is only checked for consistency. */
  root?: Uint8Array | string;
  /** Largest total uncompressed size accepted (default 512 MiB). */
  maxBytes?: number;
}

/** At most this many zip entries. */
export const MAX_ENTRIES = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function splitPem(text: string): Uint8Array[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => fromPem(b, 'CERTIFICATE'));
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function base64(s: string): Uint8Array {
  const bin = atob(s);
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

function unzip(zip: Uint8Array, maxBytes: number): Map<string, Uint8Array> {
  let total = 0;
  let entries = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        entries++;
        total += f.originalSize;
        if (entries > MAX_ENTRIES || total > maxBytes) throw new Error('package too large');
        return !f.name.endsWith('/');
      },
    });
  } catch (e) {
    throw new EvidenceError('PACKAGE_UNREADABLE', `not a readable zip: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return new Map(Object.entries(files));
}

export interface Platform {
  key: ReturnType<EvidenceCrypto['sm2']['importPublicKey']> | undefined;
  anchors: ParsedCertificate[];
  intermediates: ParsedCertificate[];
  pinned: boolean;
}

/** 2. The platform's certificate chain (checks under FILES.platformChain), and the root it is pinned to. */
export function checkPlatform(
  checks: Checks,
  chainBytes: Uint8Array | undefined,
  root: VerifyPackageOptions['root'],
  crypto: EvidenceCrypto,
): Platform {
  const out: Platform = { key: undefined, anchors: [], intermediates: [], pinned: false };
  let certs: ParsedCertificate[];
  try {
    if (chainBytes === undefined) throw new Error('missing');
    certs = splitPem(utf8.decode(chainBytes)).map((d) => parseCertificate(d));
    if (certs.length < 2) throw new Error('needs the platform certificate and the root');
  } catch (e) {
    checks.add(FILES.platformChain, 'chain', false, `unreadable platform chain: ${(e as Error).message}`);
    return out;
  }
  const platform = certs[0]!;
  const top = certs[certs.length - 1]!;
  const linked = certs.every((c, i) => isSignedBy(c, certs[Math.min(i + 1, certs.length - 1)]!, crypto.pki));
  if (
    checks.add(
      FILES.platformChain,
      'chain',
      linked,
      linked ? `${platform.subject} ← ${top.subject}` : 'a certificate is not signed by the next',
    )
  ) {
    out.key = crypto.sm2.importPublicKey(platform.spki);
    out.intermediates = certs.slice(0, -1);
    out.anchors = [top];
  }
  if (root !== undefined) {
    const given = parseCertificate(root);
    out.pinned = toHex(given.der) === toHex(top.der);
    checks.add(
      'platform-root',
      'root-pinned',
      out.pinned,
      out.pinned ? 'the chain ends at the given root' : 'the chain does not end at the given root',
    );
    out.anchors = out.pinned && linked ? [given] : [];
  } else {
    checks.add(
      'platform-root',
      'root-pinned',
      'skip',
      'no root given (--root): the chain is consistent but not pinned',
    );
  }
  return out;
}

export function verifyPackageWith(
  zip: Uint8Array,
  options: VerifyPackageOptions,
  crypto: EvidenceCrypto,
): PackageVerification {
  const files = unzip(zip, options.maxBytes ?? 512 * 1024 * 1024);
  const checks = new Checks();
  const add = checks.add.bind(checks);
  let checkpointOut: PackageVerification['checkpoint'];
  let verifyUrl: string | undefined;
  const done = (manifest?: PackageManifest, rootPinned = false): PackageVerification => {
    const failedParts = checks.failedParts();
    return {
      valid: failedParts.length === 0,
      rootPinned,
      recordId: manifest?.recordId,
      kind: manifest?.kind,
      evidenceHash: manifest?.evidenceHash,
      checkpoint: checkpointOut,
      verifyUrl,
      checks: checks.list,
      failedParts,
    };
  };
  const sm3hex = (b: Uint8Array): string => toHex(crypto.sm3(b));

  // 1. The manifest.
  const manifestBytes = files.get(FILES.manifest);
  if (manifestBytes === undefined)
    throw new EvidenceError('PACKAGE_FORMAT', 'no manifest.json: not an evidence package');
  let manifest: PackageManifest;
  try {
    const m: unknown = JSON.parse(utf8.decode(manifestBytes));
    if (
      !isRecord(m) ||
      m.format !== PACKAGE_FORMAT ||
      !isRecord(m.files) ||
      typeof m.evidenceHash !== 'string' ||
      typeof m.recordId !== 'string' ||
      typeof m.logOrigin !== 'string'
    )
      throw new Error(`not a ${PACKAGE_FORMAT} manifest`);
    manifest = m as unknown as PackageManifest;
  } catch (e) {
    add(FILES.manifest, 'format', false, `unreadable manifest: ${(e as Error).message}`);
    return done();
  }

  const platform = checkPlatform(checks, files.get(FILES.platformChain), options.root, crypto);
  const platformKey = platform.key;

  // 3. The manifest signature.
  const sig = files.get(FILES.manifestSignature);
  if (platformKey === undefined)
    add(FILES.manifestSignature, 'signature', false, 'no platform key to check it with');
  else {
    const ok = sig !== undefined && crypto.sm2.verify(platformKey, manifestBytes, sig);
    add(
      FILES.manifestSignature,
      'signature',
      ok,
      ok ? 'the platform signed this manifest' : 'the manifest or its signature was altered',
    );
    if (!ok) add(FILES.manifest, 'signature', false, 'manifest not signed by the platform');
  }

  // 4. Every file listed, present, and with its SM3; nothing unlisted.
  for (const [name, hash] of Object.entries(manifest.files)) {
    const bytes = files.get(name);
    if (bytes === undefined) add(name, 'listed', false, 'listed in the manifest but missing');
    else {
      const ok = sm3hex(bytes) === hash;
      add(name, 'sm3', ok, ok ? 'matches the manifest' : 'altered: its SM3 differs from the manifest');
    }
  }
  for (const name of files.keys()) {
    if (name !== FILES.manifest && name !== FILES.manifestSignature && !(name in manifest.files))
      add(name, 'listed', false, 'not listed in the manifest');
  }

  // 5. The canonical record: its SM3 is the evidence hash; it names the other parts by SM3.
  const recordBytes = files.get(FILES.record);
  let record: Record<string, unknown> = {};
  if (recordBytes === undefined) add(FILES.record, 'listed', false, 'missing');
  else {
    const ok = sm3hex(recordBytes) === manifest.evidenceHash;
    add(
      FILES.record,
      'record-hash',
      ok,
      ok ? `SM3 = evidence hash ${manifest.evidenceHash}` : 'does not hash to the evidence hash',
    );
    try {
      const r: unknown = JSON.parse(utf8.decode(recordBytes));
      if (isRecord(r)) record = r;
      add(FILES.record, 'record-id', record.id === manifest.recordId, `record id ${String(record.id)}`);
    } catch {
      add(FILES.record, 'record-id', false, 'not JSON');
    }
  }
  const namedBy = (file: string, field: string, bytes: Uint8Array | undefined): void => {
    const expected = record[field];
    if (typeof expected !== 'string') return;
    if (bytes === undefined)
      add(file, 'listed', false, `the record names its ${field} but the file is missing`);
    else {
      const ok = sm3hex(bytes) === expected;
      add(
        file,
        'record-sm3',
        ok,
        ok ? `matches the record's ${field}` : `differs from the record's ${field}`,
      );
    }
  };
  const certPem = files.get(FILES.certificates);
  let certDers: Uint8Array[] = [];
  let certs: ParsedCertificate[] = [];
  try {
    certDers = certPem === undefined ? [] : splitPem(utf8.decode(certPem));
    certs = certDers.map((d) => parseCertificate(d));
  } catch (e) {
    add(FILES.certificates, 'format', false, `unreadable certificates: ${(e as Error).message}`);
  }
  namedBy(FILES.original, 'originalSm3', files.get(FILES.original));
  namedBy(FILES.signature, 'signatureSm3', files.get(FILES.signature));
  namedBy(FILES.certificates, 'certificatesSm3', certPem === undefined ? undefined : concat(certDers));
  namedBy(FILES.timestamp, 'timestampSm3', files.get(FILES.timestamp));
  namedBy(FILES.file, 'fileSm3', files.get(FILES.file));

  // 6. The signature (CMS or raw) with the included certificates, the signer at signing time, the tokens.
  checkSignatureEvidence(checks, {
    record,
    signature: files.get(FILES.signature),
    content: files.get(FILES.file) ?? files.get(FILES.original),
    certificates: certs,
    token: files.get(FILES.timestamp),
    platformAnchors: platform.anchors,
    platformIntermediates: platform.intermediates,
    crypto,
  });

  // 6b. The platform TSA's reinforcement stamp over the evidence hash (摘要数据加固时间戳), when the package has one:
  //     its imprint is the evidence hash itself (SM3 of record.json), and the TSA must chain to the platform root.
  const reinforcement = files.get(FILES.evidenceTimestamp);
  if (reinforcement !== undefined)
    checkToken(checks, {
      part: FILES.evidenceTimestamp,
      token: reinforcement,
      targets: [{ digest: fromHex(manifest.evidenceHash) }],
      anchors: platform.anchors,
      intermediates: platform.intermediates,
      requireChain: true,
      crypto,
    });

  // 7. The log: the evidence hash is a leaf under the platform-signed checkpoint, itself timestamped.
  const proofBytes = files.get(FILES.inclusionProof);
  const noteBytes = files.get(FILES.checkpoint);
  if (proofBytes === undefined || noteBytes === undefined) {
    add(
      FILES.inclusionProof,
      'inclusion',
      'skip',
      'the record was not yet under a checkpoint when the package was made',
    );
  } else if (platformKey !== undefined) {
    let checkpoint: { size: number; rootHash: Uint8Array } | undefined;
    try {
      const opened = openCheckpoint(
        utf8.decode(noteBytes),
        [
          createSm2NoteVerifier(
            { sm2: crypto.sm2 as never, sm3: crypto.sm3 },
            { name: manifest.logOrigin, publicKey: platformKey },
          ),
        ],
        { origin: manifest.logOrigin },
      );
      checkpoint = { size: opened.checkpoint.size, rootHash: opened.checkpoint.rootHash };
      add(
        FILES.checkpoint,
        'signature',
        true,
        `checkpoint of size ${checkpoint.size} signed by the platform (SM2)`,
      );
    } catch (e) {
      add(
        FILES.checkpoint,
        'signature',
        false,
        `not a checkpoint signed by the platform: ${(e as Error).message}`,
      );
    }
    const stamp = files.get(FILES.checkpointTimestamp);
    if (stamp === undefined)
      add(
        FILES.checkpoint,
        'checkpoint-timestamp',
        'skip',
        'the checkpoint was not yet timestamped when the package was made',
      );
    else
      checkToken(checks, {
        part: FILES.checkpointTimestamp,
        token: stamp,
        targets: [{ data: noteBytes }],
        anchors: platform.anchors,
        intermediates: platform.intermediates,
        requireChain: true,
        crypto,
      });
    if (checkpoint !== undefined) {
      try {
        const p = JSON.parse(utf8.decode(proofBytes)) as InclusionProofFile;
        if (p.treeSize !== checkpoint.size)
          throw new Error(`proof for size ${p.treeSize}, checkpoint of size ${checkpoint.size}`);
        if (!Array.isArray(p.proof) || p.proof.length > 64) throw new Error('malformed proof');
        const hasher = createLogHasher(p.hash, (d) => (p.hash === 'sm3' ? crypto.sm3(d) : crypto.sha256(d)));
        const leaf = hasher.hashLeaf(fromHex(manifest.evidenceHash));
        verifyInclusion(
          hasher,
          p.index,
          p.treeSize,
          leaf,
          p.proof.map((h) => fromHex(h)),
          checkpoint.rootHash,
        );
        add(
          FILES.inclusionProof,
          'inclusion',
          true,
          `leaf ${p.index} of ${p.treeSize} under the checkpoint root`,
        );
        checkpointOut = {
          origin: manifest.logOrigin,
          size: checkpoint.size,
          rootHash: toHex(checkpoint.rootHash),
        };
      } catch (e) {
        add(
          FILES.inclusionProof,
          'inclusion',
          false,
          `the record is not proven in the log: ${(e as Error).message}`,
        );
      }
    }
  }

  // 8. The report's seal: the platform signed exactly this content.
  const content = files.get(FILES.reportContent);
  if (content !== undefined && platformKey !== undefined) {
    try {
      const c = JSON.parse(utf8.decode(content)) as {
        view: CanonicalValue;
        seal: { signature: string; contentSm3: string };
      };
      const bytes = new TextEncoder().encode(canonicalJson(c.view));
      const ok =
        sm3hex(bytes) === c.seal.contentSm3 &&
        crypto.sm2.verify(platformKey, bytes, base64(c.seal.signature)) &&
        isRecord(c.view) &&
        c.view.recordId === manifest.recordId;
      if (ok && isRecord(c.view) && typeof c.view.verifyUrl === 'string') verifyUrl = c.view.verifyUrl;
      add(
        FILES.reportContent,
        'seal',
        ok,
        ok
          ? "the platform's seal over the report content verifies"
          : 'the report content or its seal was altered',
      );
    } catch (e) {
      add(FILES.reportContent, 'seal', false, `unreadable report content: ${(e as Error).message}`);
    }
  }
  return done(manifest, platform.pinned);
}
