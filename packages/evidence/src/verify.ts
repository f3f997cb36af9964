import { fromHex, sm2, sm3, toHex, Sm2PublicKey } from '@yizheng/gm';
import { createLogHasher, createSm2NoteVerifier, openCheckpoint, verifyInclusion } from '@yizheng/ledger';
import {
  fromPem,
  gmSm2Provider,
  isSignedBy,
  parseCertificate,
  verifySignedData,
  type ParsedCertificate,
} from '@yizheng/pki';
import { unzipSync } from 'fflate';
import { canonicalJson, type CanonicalValue } from './canonical-json.js';
import { EvidenceError } from './errors.js';
import { FILES, PACKAGE_FORMAT, type InclusionProofFile, type PackageManifest } from './format.js';

/**
 * Offline verification of an evidence package: nothing but the package (and, to pin trust, the platform's root
 * certificate). Every check names the part it is about — a file of the package, or `platform-root` — so that
 * any single altered file is named. Only input that is not a zip at all throws (EvidenceError).
 */
export interface PackageCheck {
  /** A file name of the package (format.ts FILES), or `platform-root`. */
  part: string;
  /** Stable check name: `listed`, `sm3`, `signature`, `chain`, `root-pinned`, `record-hash`, `inclusion`, … */
  check: string;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
}

export interface PackageVerification {
  valid: boolean;
  /** The root certificate was given and matched the package's chain. */
  rootPinned: boolean;
  recordId: string | undefined;
  kind: string | undefined;
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

const MAX_ENTRIES = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const sm2Policy = { sm2: gmSm2Provider };

function splitPem(text: string): Uint8Array[] {
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

export function verifyEvidencePackage(
  zip: Uint8Array,
  options: VerifyPackageOptions = {},
): PackageVerification {
  const files = unzip(zip, options.maxBytes ?? 512 * 1024 * 1024);
  const checks: PackageCheck[] = [];
  const add = (part: string, check: string, ok: boolean | 'skip', detail: string): boolean => {
    checks.push({ part, check, status: ok === 'skip' ? 'skip' : ok ? 'pass' : 'fail', detail });
    return ok === true;
  };
  const done = (manifest?: PackageManifest, rootPinned = false): PackageVerification => {
    const failedParts = [...new Set(checks.filter((c) => c.status === 'fail').map((c) => c.part))];
    return {
      valid: failedParts.length === 0,
      rootPinned,
      recordId: manifest?.recordId,
      kind: manifest?.kind,
      checks,
      failedParts,
    };
  };

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
      typeof m.evidenceHash !== 'string'
    )
      throw new Error(`not a ${PACKAGE_FORMAT} manifest`);
    manifest = m as unknown as PackageManifest;
  } catch (e) {
    add(FILES.manifest, 'format', false, `unreadable manifest: ${(e as Error).message}`);
    return done();
  }

  // 2. The platform's certificate chain, and the root it is pinned to.
  let platformKey: Sm2PublicKey | undefined;
  let rootPinned = false;
  const chainBytes = files.get(FILES.platformChain);
  try {
    if (chainBytes === undefined) throw new Error('missing');
    const certs = splitPem(utf8.decode(chainBytes)).map((d) => parseCertificate(d));
    const [platform, root] = [certs[0], certs[certs.length - 1]];
    if (platform === undefined || root === undefined || certs.length < 2)
      throw new Error('needs the platform certificate and the root');
    const linked = certs.every((c, i) => isSignedBy(c, certs[Math.min(i + 1, certs.length - 1)]!, sm2Policy));
    if (
      add(
        FILES.platformChain,
        'chain',
        linked,
        linked ? `${platform.subject} ← ${root.subject}` : 'a certificate is not signed by the next',
      )
    ) {
      platformKey = Sm2PublicKey.fromSpki(platform.spki);
    }
    if (options.root !== undefined) {
      const given: ParsedCertificate = parseCertificate(options.root);
      rootPinned = toHex(given.der) === toHex(root.der);
      add(
        'platform-root',
        'root-pinned',
        rootPinned,
        rootPinned ? 'the chain ends at the given root' : 'the chain does not end at the given root',
      );
    } else {
      add(
        'platform-root',
        'root-pinned',
        'skip',
        'no root given (--root): the chain is consistent but not pinned',
      );
    }
  } catch (e) {
    add(FILES.platformChain, 'chain', false, `unreadable platform chain: ${(e as Error).message}`);
  }

  // 3. The manifest signature.
  const sig = files.get(FILES.manifestSignature);
  if (platformKey === undefined)
    add(FILES.manifestSignature, 'signature', false, 'no platform key to check it with');
  else {
    const ok = sig !== undefined && sm2.verify(platformKey, manifestBytes, sig);
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
      const ok = toHex(sm3(bytes)) === hash;
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
    const ok = toHex(sm3(recordBytes)) === manifest.evidenceHash;
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
      const ok = toHex(sm3(bytes)) === expected;
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
  try {
    certDers = certPem === undefined ? [] : splitPem(utf8.decode(certPem));
  } catch {
    add(FILES.certificates, 'format', false, 'not PEM');
  }
  namedBy(FILES.original, 'originalSm3', files.get(FILES.original));
  namedBy(FILES.signature, 'signatureSm3', files.get(FILES.signature));
  namedBy(FILES.certificates, 'certificatesSm3', certPem === undefined ? undefined : concat(certDers));
  namedBy(FILES.timestamp, 'timestampSm3', files.get(FILES.timestamp));
  namedBy(FILES.file, 'fileSm3', files.get(FILES.file));

  // 6. The signature, again, over the original (or file).
  const signature = files.get(FILES.signature);
  if (signature !== undefined && record.signatureFormat === 'cms') {
    try {
      const content = files.get(FILES.file) ?? files.get(FILES.original);
      const r = verifySignedData(signature, {
        ...(content !== undefined ? { content } : {}),
        certificates: certDers.map((d) => parseCertificate(d)),
        policy: sm2Policy,
      });
      add(
        FILES.signature,
        'cms',
        r.valid,
        r.valid ? 'the CMS signature verifies' : r.failures.map((f) => f.code).join(', '),
      );
    } catch (e) {
      add(FILES.signature, 'cms', false, `unreadable CMS: ${(e as Error).message}`);
    }
  } else if (signature !== undefined) {
    add(
      FILES.signature,
      'cms',
      'skip',
      `a ${String(record.signatureFormat)} signature: checked by its SM3 against the record`,
    );
  }

  // 7. The log: the evidence hash is a leaf under the platform-signed checkpoint.
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
        [createSm2NoteVerifier({ sm2, sm3 }, { name: manifest.logOrigin, publicKey: platformKey })],
        { origin: manifest.logOrigin },
      );
      checkpoint = { size: opened.checkpoint.size, rootHash: opened.checkpoint.rootHash };
      add(FILES.checkpoint, 'signature', true, `signed checkpoint of size ${checkpoint.size}`);
    } catch (e) {
      add(
        FILES.checkpoint,
        'signature',
        false,
        `not a checkpoint signed by the platform: ${(e as Error).message}`,
      );
    }
    if (checkpoint !== undefined) {
      try {
        const p = JSON.parse(utf8.decode(proofBytes)) as InclusionProofFile;
        if (p.treeSize !== checkpoint.size)
          throw new Error(`proof for size ${p.treeSize}, checkpoint of size ${checkpoint.size}`);
        const hasher = createLogHasher(p.hash, (d) => (p.hash === 'sm3' ? sm3(d) : sha256(d)));
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
        toHex(sm3(bytes)) === c.seal.contentSm3 &&
        sm2.verify(platformKey, bytes, base64(c.seal.signature)) &&
        isRecord(c.view) &&
        c.view.recordId === manifest.recordId;
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
  return done(manifest, rootPinned);
}

function base64(s: string): Uint8Array {
  const bin = atob(s);
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

/** SHA-256 for SHA-256 logs, without node:crypto (browser-safe): Web Crypto is async, so a small pure one. */
function sha256(data: Uint8Array): Uint8Array {
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const H = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const len = data.length;
  const padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[len] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(len / 0x20000000));
  view.setUint32(padded.length - 4, (len << 3) >>> 0);
  const W = new Uint32Array(64);
  const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const w15 = W[i - 15]!;
      const w2 = W[i - 2]!;
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = [H[0]!, H[1]!, H[2]!, H[3]!, H[4]!, H[5]!, H[6]!, H[7]!];
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    H[0] = (H[0]! + a) >>> 0;
    H[1] = (H[1]! + b) >>> 0;
    H[2] = (H[2]! + c) >>> 0;
    H[3] = (H[3]! + d) >>> 0;
    H[4] = (H[4]! + e) >>> 0;
    H[5] = (H[5]! + f) >>> 0;
    H[6] = (H[6]! + g) >>> 0;
    H[7] = (H[7]! + h) >>> 0;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  H.forEach((v, i) => ov.setUint32(i * 4, v));
  return out;
}
