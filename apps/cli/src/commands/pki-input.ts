/**
 * Input helpers shared by the `cert`, `cms` and `ts` commands: certificates, CRLs and CMS files in DER or PEM
 * (a PEM file may hold several blocks), the `--at` time, and the rendering of verification failures.
 */
import {
  PkiError,
  parseCertificate,
  parseCrl,
  type ParsedCertificate,
  type ParsedCrl,
  type VerificationFailure,
} from '@yizheng/pki';
import { UsageError, type Io } from '../cli-error.js';
import { readInput } from '../files.js';

/** commander collector for repeatable options (`--ca A --ca B`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** The PEM blocks of a file, or the file itself as one DER value. */
function blocks(bytes: Uint8Array): (Uint8Array | string)[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!text.includes('-----BEGIN ')) return [bytes];
  return [...text.matchAll(PEM_BLOCK)].map((m) => m[0]);
}

/** A PkiError while reading an auxiliary input (trust anchor, intermediate, CRL) is an input error (exit 2). */
function asUsage<T>(path: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PkiError) throw new UsageError(`${what} ${path}: ${e.code}: ${e.message}`);
    throw e;
  }
}

/** Every certificate in a DER file or a PEM bundle; unreadable or malformed input is a usage error. */
export async function readCertificates(io: Io, path: string, what: string): Promise<ParsedCertificate[]> {
  const bytes = await readInput(io, path, what);
  const certs = asUsage(path, what, () =>
    blocks(bytes)
      .filter((b) => typeof b !== 'string' || b.startsWith('-----BEGIN CERTIFICATE-----'))
      .map((b) => parseCertificate(b)),
  );
  if (certs.length === 0) throw new UsageError(`${what} ${path}: no certificate found`);
  return certs;
}

export async function readCertificateFiles(
  io: Io,
  paths: readonly string[] | undefined,
  what: string,
): Promise<ParsedCertificate[]> {
  const out: ParsedCertificate[] = [];
  for (const path of paths ?? []) out.push(...(await readCertificates(io, path, what)));
  return out;
}

export async function readCrls(io: Io, paths: readonly string[] | undefined): Promise<ParsedCrl[]> {
  const out: ParsedCrl[] = [];
  for (const path of paths ?? []) {
    const bytes = await readInput(io, path, 'CRL');
    out.push(...asUsage(path, 'CRL', () => blocks(bytes).map((b) => parseCrl(b))));
  }
  return out;
}

/** `--at`: an ISO 8601 date-time (with a zone, or UTC), default now. */
export function parseAt(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value))
    throw new UsageError(`--at must be an ISO 8601 date-time, e.g. 2026-01-31T08:00:00Z (got ${value})`);
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(value) && value.includes('T');
  const t = Date.parse(hasZone || !value.includes('T') ? value : `${value}Z`);
  if (Number.isNaN(t)) throw new UsageError(`--at is not a valid date-time: ${value}`);
  return new Date(t);
}

/** One line per failure: `invalid: <CODE>: <message> (<where>)`. */
export function failureLines(failures: readonly VerificationFailure[]): string {
  return failures
    .map((f) => {
      const where = [
        f.signerIndex === undefined ? undefined : `signer ${f.signerIndex}`,
        f.chainIndex === undefined ? undefined : `chain[${f.chainIndex}]`,
        f.certificate,
        f.check,
      ].filter((x) => x !== undefined && x !== '');
      return `invalid: ${f.code}: ${f.message}${where.length > 0 ? ` (${where.join(', ')})` : ''}\n`;
    })
    .join('');
}

/** Converts a PkiError thrown by the subject under verification into a failure entry. */
export function failureFrom(e: unknown): VerificationFailure {
  if (e instanceof PkiError) return { ...e.context, code: e.code, message: e.message };
  throw e;
}
