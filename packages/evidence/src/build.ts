import { sm3, toHex } from '@yizheng/gm';
import { zipSync, type Zippable } from 'fflate';
import { canonicalJson, type CanonicalValue } from './canonical-json.js';
import { FILES, PACKAGE_FORMAT, PACKAGE_VERSION, type PackageManifest } from './format.js';

export interface BuildPackageOptions {
  recordId: string;
  kind: PackageManifest['kind'];
  evidenceHash: string;
  logHash: PackageManifest['logHash'];
  logOrigin: string;
  createdAt: string;
  /** Package files by name (see format.ts); manifest.json and manifest.sig are made here. */
  files: Readonly<Record<string, Uint8Array>>;
  /** The platform's SM2 signature (DER) over the given bytes. */
  sign: (data: Uint8Array) => Uint8Array;
}

/** Builds the zip: the files, a manifest listing each one's SM3, and the platform's signature over the manifest. */
export function buildEvidencePackage(options: BuildPackageOptions): Uint8Array {
  const names = Object.keys(options.files).sort();
  const manifest: PackageManifest = {
    format: PACKAGE_FORMAT,
    version: PACKAGE_VERSION,
    recordId: options.recordId,
    kind: options.kind,
    evidenceHash: options.evidenceHash,
    logHash: options.logHash,
    logOrigin: options.logOrigin,
    createdAt: options.createdAt,
    files: Object.fromEntries(names.map((n) => [n, toHex(sm3(options.files[n]!))])),
  };
  const manifestBytes = new TextEncoder().encode(canonicalJson(manifest as unknown as CanonicalValue));
  const mtime = new Date(Date.parse(options.createdAt) || 0);
  const zip: Zippable = {
    [FILES.manifest]: [manifestBytes, { mtime }],
    [FILES.manifestSignature]: [options.sign(manifestBytes), { mtime }],
  };
  for (const n of names) {
    // PDFs and DER are already dense; store them, deflate the text.
    const level = n.endsWith('.pdf') || n.endsWith('.bin') || n.endsWith('.tsr') ? 0 : 6;
    zip[n] = [options.files[n]!, { mtime, level }];
  }
  return zipSync(zip);
}
