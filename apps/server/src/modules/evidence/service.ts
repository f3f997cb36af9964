/**
 * The evidence API's use cases (seed 000 §2.1–2.3, §5.1–5.11): push signature data, digest data and files;
 * batch; query; detail; re-verify with tamper detection. One exported function per use case, each taking one
 * options object.
 *
 * Push: the project must be active → inputs decoded (400) → an earlier record of the same evidence (same
 * application, serial number and signature / digest / file) or of the same Idempotency-Key is answered with its
 * first receipt → the evidence is verified (CPU, 422 naming the failed check, nothing stored) → the canonical
 * record is hashed → record + payload + log leaf are written in one transaction through the group-commit writer
 * → the receipt is signed with the platform key.
 */
import { randomFillSync } from 'node:crypto';
import { fromHex, sm3, toHex } from '@yizheng/gm';
import { fromPem, isPkiError, type DigestName, type ParsedSignedData } from '@yizheng/pki';
import type { Kysely } from 'kysely';
import { canonicalJson, type CanonicalValue } from '../../audit/canonical-json.js';
import { isoTime } from '../../context.js';
import type { FieldCrypto } from '../../crypto/field-crypto.js';
import type { PlatformKey } from '../../crypto/platform-key.js';
import type { Database, EvidenceKind, FileStorage, ProjectStatus } from '../../db/schema.js';
import { YzError, isYzError, type ErrorCode } from '../../errors.js';
import {
  canonicalRecord,
  dedupeKey,
  evidenceHash,
  hexOf,
  sm3Hex,
  type RecordColumns,
} from '../../evidence/canonical.js';
import type { BatchLookup } from '../../evidence/batch-lookup.js';
import {
  signReceipt,
  signReceipts,
  platformKeyId,
  type Receipt,
  type ReceiptBody,
} from '../../evidence/receipt.js';
import {
  existingFor,
  normaliseRow,
  type EvidenceWriter,
  type PreparedEvidence,
} from '../../evidence/store.js';
import { memoByBytes } from '../../evidence/bytes-memo.js';
import type { RevocationSummary } from '../../evidence/revocation.js';
import { preverifiedTrust, preverifySignatures } from '../../evidence/preverify.js';
import {
  summaryJson,
  verifySignatureEvidence,
  type SignatureCheckInput,
  type TrustConfig,
} from '../../evidence/verify-signature.js';
import { verifyLogEntry } from '../../log/index.js';
import { FileStoreError, type FileStore } from '../../storage/file-store.js';
import { checkDigestTimestamp } from '../../jobs/digest-timestamp-check.js';
import { assertProjectActive } from '../projects/service.js';
import * as repo from './repo.js';
import type { DigestPushBody, FileMetaBody, ListQueryType, SignaturePushBody } from './schema.js';
import { MAX_BATCH } from './schema.js';

export interface EvidenceDeps {
  db: Kysely<Database>;
  now(): number;
  fieldCrypto: FieldCrypto;
  platformKey: PlatformKey;
  trust: TrustConfig;
  writer: EvidenceWriter;
  /** Coalesced "an earlier record of this evidence?" reads: group = application id, key = dedupe key. */
  dedupeLookup: BatchLookup<repo.EvidenceRow>;
  fileStores: { local: FileStore; database: FileStore };
}

/** The authenticated application, as the signed-API guard found it. */
export interface Caller {
  appId: string;
  projectId: string;
  projectStatus: ProjectStatus;
  /** The application's default tags, merged into every record it pushes (before the request's own tags). */
  defaultTags?: readonly string[] | undefined;
}

/** The tags a record is stored with: the application's defaults, then the request's, each once, in that order. */
export function mergeTags(
  defaults: readonly string[] | undefined,
  own: readonly string[] | undefined,
): string[] {
  return [...new Set([...(defaults ?? []), ...(own ?? [])])];
}

export interface PushResult {
  receipt: Receipt;
  /** True when the evidence had been stored before: the receipt is the first one's. */
  duplicate: boolean;
}

const ID_PREFIX: Readonly<Record<EvidenceKind, string>> = { signature: 'sig', digest: 'dig', file: 'fil' };
const DIGEST_LENGTH: Readonly<Record<DigestName, number>> = {
  sm3: 32,
  sha1: 20,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

/** Random bytes for ids, drawn from a pool refilled 4 KiB at a time (one CSPRNG call per ~340 records). */
const ID_POOL = Buffer.alloc(4096);
let idPoolAt = ID_POOL.length;

function newId(kind: EvidenceKind): string {
  if (idPoolAt + 12 > ID_POOL.length) {
    randomFillSync(ID_POOL);
    idPoolAt = 0;
  }
  const id = `${ID_PREFIX[kind]}_${ID_POOL.toString('hex', idPoolAt, idPoolAt + 12)}`;
  idPoolAt += 12;
  return id;
}

// ---------------------------------------------------------------------------------------------- decoding

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 text (whitespace ignored) to bytes; 400 EVIDENCE_INPUT_INVALID when it is not base64. */
export function base64(value: string, what: string): Uint8Array {
  // Most values carry no whitespace: when the value itself is base64 text there is nothing to strip.
  const clean = BASE64.test(value);
  const s = clean ? value : value.replace(/\s+/g, '');
  if (s.length === 0 || s.length % 4 !== 0 || (!clean && !BASE64.test(s)))
    throw new YzError('EVIDENCE_INPUT_INVALID', `${what} is not base64`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/**
 * PEM texts already decoded, to their DER (a hospital's signers are a few thousand doctors whose certificate comes
 * with every record). Decoding is a pure function of the text, so a hit returns (a copy of) exactly what decoding
 * would; a text that fails to decode is never remembered.
 */
const PEM_DER = new Map<string, Uint8Array>();
const MAX_PEM_DER = 4096;

/** A certificate as PEM or base64 DER. */
function certificateBytes(value: string, what: string): Uint8Array {
  if (value.trimStart().startsWith('-----')) {
    const hit = PEM_DER.get(value);
    if (hit !== undefined) return hit.slice();
    try {
      const der = fromPem(value, 'CERTIFICATE');
      if (PEM_DER.size >= MAX_PEM_DER) PEM_DER.clear();
      PEM_DER.set(value, der.slice());
      return der;
    } catch (e) {
      if (isPkiError(e)) throw new YzError('EVIDENCE_INPUT_INVALID', `${what}: ${e.message}`);
      throw e;
    }
  }
  return base64(value, what);
}

function digestBytes(algorithm: DigestName, hex: string, what: string): Uint8Array {
  if (hex.length !== DIGEST_LENGTH[algorithm] * 2)
    throw new YzError(
      'EVIDENCE_INPUT_INVALID',
      `${what}: a ${algorithm} digest is ${DIGEST_LENGTH[algorithm]} bytes`,
    );
  return fromHex(hex.toLowerCase());
}

function isoOf(value: string | undefined, what: string): string | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new YzError('EVIDENCE_INPUT_INVALID', `${what} is not a date-time`);
  return isoTime(ms);
}

function canonicalText(value: CanonicalValue, what: string): string {
  try {
    return canonicalJson(value);
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError)
      throw new YzError('EVIDENCE_INPUT_INVALID', `${what}: ${e.message}`);
    throw e;
  }
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Splits concatenated DER certificates (each a definite-length SEQUENCE). */
function splitDer(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] !== 0x30 || i + 2 > bytes.length) throw new Error('not a DER SEQUENCE');
    const first = bytes[i + 1]!;
    let len: number;
    let head: number;
    if (first < 0x80) {
      len = first;
      head = 2;
    } else {
      const n = first & 0x7f;
      if (n < 1 || n > 4 || i + 2 + n > bytes.length) throw new Error('bad DER length');
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + bytes[i + 2 + k]!;
      head = 2 + n;
    }
    const end = i + head + len;
    if (end > bytes.length) throw new Error('truncated DER');
    out.push(bytes.subarray(i, end));
    i = end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- rows

interface CommonInput {
  serialNumber: string;
  businessType?: string | undefined;
  sourceSystem?: string | undefined;
  department?: { code?: string | undefined; name?: string | undefined } | undefined;
  patient?:
    { id?: string | undefined; name?: string | undefined; visitNumber?: string | undefined } | undefined;
  signer?: string | undefined;
  tags?: readonly string[] | undefined;
  metadata?: Readonly<Record<string, string | number | boolean | null>> | undefined;
}

type Row = PreparedEvidence['row'];

/** isoTime(ms), remembering the last instant (a batch's records are received within the same millisecond or so). */
let lastMs = Number.NaN;
let lastIso = '';
function receivedAt(ms: number): string {
  if (ms !== lastMs) {
    lastIso = isoTime(ms);
    lastMs = ms;
  }
  return lastIso;
}

function emptyRow(
  deps: EvidenceDeps,
  kind: EvidenceKind,
  caller: Caller,
  c: CommonInput,
  key: string | undefined,
): Row {
  const fc = deps.fieldCrypto;
  const p = c.patient;
  return {
    id: newId(kind),
    kind,
    project_id: caller.projectId,
    app_id: caller.appId,
    serial_number: c.serialNumber,
    business_type: c.businessType ?? null,
    source_system: c.sourceSystem ?? null,
    department_code: c.department?.code ?? null,
    department_name: c.department?.name ?? null,
    patient_id_enc: p?.id === undefined ? null : fc.seal('patient_id', p.id),
    patient_id_idx: p?.id === undefined ? null : fc.blindIndex('patient_id', p.id),
    patient_name_enc: p?.name === undefined ? null : fc.seal('patient_name', p.name),
    patient_name_idx: p?.name === undefined ? null : fc.blindIndex('patient_name', p.name),
    visit_number: p?.visitNumber ?? null,
    signer: c.signer ?? null,
    category: null,
    signature_format: null,
    original_sm3: null,
    original_size: null,
    digest_algorithm: null,
    digest_value: null,
    signature_sm3: null,
    certificates_sm3: null,
    timestamp_sm3: null,
    file_sm3: null,
    file_size: null,
    file_name: null,
    content_type: null,
    file_storage: null,
    signed_at: null,
    received_at: receivedAt(deps.now()),
    tags: canonicalText(mergeTags(caller.defaultTags, c.tags), 'tags'),
    metadata: canonicalText({ ...(c.metadata ?? {}) }, 'metadata'),
    verification: '{}',
    dedupe_key: '',
    idempotency_key: key ?? null,
    evidence_hash: '',
  };
}

const num = (v: number | string | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

export function recordColumns(r: Row | repo.EvidenceRow): RecordColumns {
  return {
    id: r.id,
    kind: r.kind,
    project_id: r.project_id,
    app_id: r.app_id,
    serial_number: r.serial_number,
    business_type: r.business_type ?? null,
    source_system: r.source_system ?? null,
    department_code: r.department_code ?? null,
    department_name: r.department_name ?? null,
    patient_id_idx: r.patient_id_idx ?? null,
    patient_name_idx: r.patient_name_idx ?? null,
    visit_number: r.visit_number ?? null,
    signer: r.signer ?? null,
    category: r.category ?? null,
    signature_format: r.signature_format ?? null,
    original_sm3: r.original_sm3 ?? null,
    original_size: num(r.original_size),
    digest_algorithm: r.digest_algorithm ?? null,
    digest_value: r.digest_value ?? null,
    signature_sm3: r.signature_sm3 ?? null,
    certificates_sm3: r.certificates_sm3 ?? null,
    timestamp_sm3: r.timestamp_sm3 ?? null,
    file_sm3: r.file_sm3 ?? null,
    file_size: num(r.file_size),
    file_name: r.file_name ?? null,
    content_type: r.content_type ?? null,
    signed_at: r.signed_at ?? null,
    received_at: r.received_at,
    tags: r.tags,
    metadata: r.metadata,
    verification: r.verification,
  };
}

/** Fills the record's hash and returns the item for the writer. */
function seal(row: Row, payload: Omit<repo.PayloadRow, 'evidence_id'>): PreparedEvidence {
  const entry = evidenceHash(recordColumns(row));
  row.evidence_hash = hexOf(entry);
  return { row, payload: { evidence_id: row.id, ...payload }, entry };
}

/**
 * The signed receipt of a stored record. `canonicalVerification`: the record's `verification` text when it is
 * known to be canonical JSON (a record this process just prepared: every ingest path stores canonicalJson of its
 * summary), so that the signed text reuses it; a stored record read back is re-serialised.
 */
function receiptOf(deps: EvidenceDeps, row: repo.EvidenceRow, canonicalVerification?: string): Receipt {
  return signReceipt(deps.platformKey, receiptBodyOf(row), canonicalVerification);
}

function receiptBodyOf(row: repo.EvidenceRow): ReceiptBody {
  return {
    type: 'yizheng-receipt/1',
    id: row.id,
    kind: row.kind,
    projectId: row.project_id,
    appId: row.app_id,
    serialNumber: row.serial_number,
    evidenceHash: row.evidence_hash,
    logIndex: Number(row.log_index),
    receivedAt: row.received_at,
    verification: (parseJson(row.verification) ?? null) as CanonicalValue,
  };
}

/** The first record of this evidence or of this Idempotency-Key, if any (409 when the key names other evidence). */
async function earlier(
  deps: EvidenceDeps,
  caller: Caller,
  dedupe: string,
  key: string | undefined,
): Promise<PushResult | undefined> {
  const found =
    key === undefined
      ? await deps.dedupeLookup.get(caller.appId, dedupe)
      : await existingFor(deps.db, { app_id: caller.appId, dedupe_key: dedupe, idempotency_key: key });
  return found === undefined ? undefined : { receipt: receiptOf(deps, normaliseRow(found)), duplicate: true };
}

async function commit(deps: EvidenceDeps, item: PreparedEvidence): Promise<PushResult> {
  const stored = await deps.writer.submit(item);
  return {
    receipt: receiptOf(deps, stored.row, canonicalVerificationOf(item, stored)),
    duplicate: stored.duplicate,
  };
}

/**
 * The stored record's summary text when it is known canonical: a fresh record is the item itself, whose summary
 * text is canonical JSON (emptyRow, summaryJson, canonicalJson); an earlier one read back is re-serialised.
 */
function canonicalVerificationOf(
  item: PreparedEvidence,
  stored: { readonly duplicate: boolean; readonly row: repo.EvidenceRow },
): string | undefined {
  return !stored.duplicate && stored.row.verification === item.row.verification
    ? item.row.verification
    : undefined;
}

/**
 * {@link commit} of many items (a batch): each is written by the group-commit writer, and the receipts of those
 * written are signed together (signReceipts: off the event loop with the native engine). One outcome per item, in
 * order; an item whose write failed rejects alone.
 */
async function commitMany(
  deps: EvidenceDeps,
  items: readonly PreparedEvidence[],
): Promise<PromiseSettledResult<PushResult>[]> {
  const stored = await Promise.allSettled(items.map((item) => deps.writer.submit(item)));
  const written: { body: ReceiptBody; verificationJson: string | undefined }[] = [];
  stored.forEach((s, index) => {
    if (s.status === 'fulfilled')
      written.push({
        body: receiptBodyOf(s.value.row),
        verificationJson: canonicalVerificationOf(items[index]!, s.value),
      });
  });
  const receipts = await signReceipts(deps.platformKey, written);
  let k = 0; // the written items are the fulfilled ones, in order
  return stored.map((s) =>
    s.status === 'rejected'
      ? s
      : { status: 'fulfilled', value: { receipt: receipts[k++]!, duplicate: s.value.duplicate } },
  );
}

// ---------------------------------------------------------------------------------------------- signatures

interface DecodedSignature {
  body: SignaturePushBody;
  signature: Uint8Array;
  certificates: Uint8Array[];
  original: Uint8Array | undefined;
  digest: { algorithm: DigestName; value: Uint8Array } | undefined;
  token: Uint8Array | undefined;
  signedAt: string | null;
  /** Hex SM3 of the signature bytes (the record's signature_sm3; part of the dedupe key). */
  signatureSm3: string;
  dedupe: string;
  /** The CMS as the pre-verification parsed it, for the check to reuse. */
  parsedCms?: ParsedSignedData | undefined;
}

function decodeSignature(body: SignaturePushBody): DecodedSignature {
  const s = body.signature;
  const certificates = [
    ...(s.certificate !== undefined ? [certificateBytes(s.certificate, 'signature.certificate')] : []),
    ...(s.certificates ?? []).map((c, i) => certificateBytes(c, `signature.certificates[${i}]`)),
  ];
  const signature = base64(s.value, 'signature.value');
  const signatureSm3 = sm3Hex(signature);
  return {
    body,
    signature,
    certificates,
    original: body.original === undefined ? undefined : base64(body.original, 'original'),
    digest:
      body.originalDigest === undefined
        ? undefined
        : {
            algorithm: body.originalDigest.algorithm,
            value: digestBytes(body.originalDigest.algorithm, body.originalDigest.value, 'originalDigest'),
          },
    token: body.timestampToken === undefined ? undefined : base64(body.timestampToken, 'timestampToken'),
    signedAt: isoOf(body.signedAt, 'signedAt'),
    signatureSm3,
    dedupe: dedupeKey('signature', body.serialNumber, signatureSm3),
  };
}

function checkInputOf(
  d: Pick<DecodedSignature, 'signature' | 'certificates' | 'original' | 'digest' | 'token'> & {
    format: 'cms' | 'raw';
    algorithm: string | undefined;
    signedAt: string | null;
    receivedAt: string;
    parsedCms?: ParsedSignedData | undefined;
  },
): SignatureCheckInput {
  if (d.original === undefined && d.digest === undefined && d.format === 'raw')
    throw new YzError('EVIDENCE_ORIGINAL_REQUIRED', 'a raw signature is verified against the original');
  return {
    format: d.format,
    signature: d.signature,
    certificates: d.certificates,
    original: d.original,
    originalDigest: d.digest,
    timestampToken: d.token,
    algorithm: d.algorithm,
    declaredSigningTime: d.signedAt === null ? undefined : new Date(d.signedAt),
    receivedAt: new Date(d.receivedAt),
    ...(d.parsedCms !== undefined && d.format === 'cms' ? { parsedCms: d.parsedCms } : {}),
  };
}

/** SM3s of certificate sets hashed before, by their exact bytes (a signer's certificate comes with every record). */
const certificatesSm3 = memoByBytes(4096, (certs) => sm3Hex(certs));

function prepareSignature(
  deps: EvidenceDeps,
  caller: Caller,
  d: DecodedSignature,
  key: string | undefined,
): PreparedEvidence {
  const row = emptyRow(deps, 'signature', caller, d.body, key);
  const checked = verifySignatureEvidence(
    checkInputOf({
      signature: d.signature,
      certificates: d.certificates,
      original: d.original,
      digest: d.digest,
      token: d.token,
      signedAt: d.signedAt,
      format: d.body.signature.format,
      algorithm: d.body.signature.algorithm,
      receivedAt: row.received_at,
      parsedCms: d.parsedCms,
    }),
    deps.trust,
  );
  const certs = checked.certificates.length > 0 ? concat(checked.certificates) : null;
  row.signature_format = d.body.signature.format;
  row.signer = d.body.signer ?? checked.summary.signer;
  row.signed_at = d.signedAt;
  row.original_sm3 =
    checked.content === undefined
      ? null
      : checked.contentSm3 !== undefined
        ? hexOf(checked.contentSm3)
        : sm3Hex(checked.content);
  row.original_size = checked.content !== undefined ? checked.content.length : null;
  if (d.digest !== undefined) {
    row.digest_algorithm = d.digest.algorithm;
    row.digest_value = toHex(d.digest.value);
  }
  row.signature_sm3 = d.signatureSm3;
  row.certificates_sm3 = certs === null ? null : certificatesSm3(certs);
  row.timestamp_sm3 = checked.timestampToken !== undefined ? sm3Hex(checked.timestampToken) : null;
  row.verification = summaryJson(checked.summary);
  row.dedupe_key = d.dedupe;
  return seal(row, {
    original: d.original ?? null,
    signature: d.signature,
    certificates: certs,
    timestamp_token: checked.timestampToken ?? null,
  });
}

export async function pushSignature(options: {
  deps: EvidenceDeps;
  caller: Caller;
  body: SignaturePushBody;
  idempotencyKey?: string | undefined;
}): Promise<PushResult> {
  const { deps, caller } = options;
  assertProjectActive({ id: caller.projectId, status: caller.projectStatus });
  const d = decodeSignature(options.body);
  const before = await earlier(deps, caller, d.dedupe, options.idempotencyKey);
  if (before) return before;
  return commit(deps, prepareSignature(deps, caller, d, options.idempotencyKey));
}

export interface BatchItemResult {
  index: number;
  status: number;
  receipt?: Receipt;
  /** With `receipts: false`: the stored record's verification summary (canonical JSON) instead of a receipt. */
  verification?: string;
  error?: { code: ErrorCode; status: number; detail: string | undefined };
}

/**
 * Up to 1,000 signature items, each verified and stored on its own (all through the group-commit writer, so they
 * share transactions). With an Idempotency-Key K, item i is stored under `K#i`: replaying the batch returns the
 * same receipts. `receipts: false` (internal callers such as history migration, which discard receipts): nothing
 * is signed; each stored or earlier record answers with its `verification` summary instead (default true).
 */
export async function pushSignatureBatch(options: {
  deps: EvidenceDeps;
  caller: Caller;
  items: readonly SignaturePushBody[];
  idempotencyKey?: string | undefined;
  receipts?: boolean;
}): Promise<BatchItemResult[]> {
  const { deps, caller, items } = options;
  if (items.length > MAX_BATCH) throw new YzError('EVIDENCE_BATCH_TOO_LARGE', `${items.length} items`);
  assertProjectActive({ id: caller.projectId, status: caller.projectStatus });
  const keyOf = (i: number): string | undefined =>
    options.idempotencyKey === undefined ? undefined : `${options.idempotencyKey}#${i}`;
  const results: BatchItemResult[] = new Array<BatchItemResult>(items.length);
  const fail = (index: number, e: unknown): void => {
    if (!isYzError(e)) throw e;
    results[index] = {
      index,
      status: e.statusCode,
      error: { code: e.code, status: e.statusCode, detail: e.detail },
    };
  };
  // 1. Decode every item (a malformed one fails alone).
  const live: { d: DecodedSignature; index: number }[] = [];
  items.forEach((body, index) => {
    try {
      live.push({ d: decodeSignature(body), index });
    } catch (e) {
      fail(index, e);
    }
  });
  // 2. Earlier records of these items, in two queries rather than one per item.
  const byDedupe = await repo.findByDedupeKeys(
    deps.db,
    caller.appId,
    live.map((x) => x.d.dedupe),
  );
  const byKey =
    options.idempotencyKey === undefined
      ? new Map<string, repo.EvidenceRow>()
      : await repo.findByIdempotencyKeys(
          deps.db,
          caller.appId,
          live.map((x) => keyOf(x.index)!),
        );
  // 3. The SM2 curve work of the items to be stored, on the thread pool (preverify.ts): the checks below then find
  // their signatures verified and do the rest (parsing, certificates, digests) on this thread.
  const fresh = live.filter(({ d, index }) => {
    const key = keyOf(index);
    return !(key !== undefined && byKey.has(key)) && !byDedupe.has(d.dedupe);
  });
  const pre = preverifiedTrust(deps.trust);
  const { keys: preverified, parsed } = await preverifySignatures(
    fresh.map(({ d }) => ({
      format: d.body.signature.format,
      signature: d.signature,
      certificates: d.certificates,
      original: d.original,
      originalDigest: d.digest,
      algorithm: d.body.signature.algorithm,
    })),
    pre.verified,
  );
  fresh.forEach(({ d }, i) => {
    d.parsedCms = parsed[i];
  });
  const checking: EvidenceDeps = { ...deps, trust: pre.trust };
  // 4. Verify (CPU, yielding now and then so other requests progress), then hand them all to the group-commit
  // writer at once, so that they share one transaction rather than one per slice between two yields (with a
  // synchronous database, SQLite, every yield would otherwise commit the few items verified since the last).
  // The database works while this thread verifies through the callers' pipelining instead: concurrent requests,
  // and history migration's next batch verified while this one commits.
  const prepared: { index: number; item: PreparedEvidence }[] = [];
  try {
    for (const [k, { d, index }] of live.entries()) {
      if (k % 16 === 15) await new Promise((r) => setImmediate(r));
      try {
        const key = keyOf(index);
        const prior = key === undefined ? undefined : byKey.get(key);
        if (prior !== undefined && prior.dedupe_key !== d.dedupe)
          throw new YzError(
            'EVIDENCE_IDEMPOTENCY_CONFLICT',
            `Idempotency-Key ${key ?? ''} belongs to record ${prior.id}`,
          );
        const found = prior ?? byDedupe.get(d.dedupe);
        if (found !== undefined) {
          results[index] =
            options.receipts === false
              ? { index, status: 200, verification: found.verification }
              : { index, status: 200, receipt: receiptOf(deps, normaliseRow(found)) };
          continue;
        }
        prepared.push({ index, item: prepareSignature(checking, caller, d, key) });
      } catch (e) {
        fail(index, e);
      }
    }
  } finally {
    pre.verified.delete(preverified);
  }
  if (options.receipts === false) {
    await Promise.all(
      prepared.map(({ index, item }) =>
        deps.writer.submit(item).then(
          (s) => {
            results[index] = { index, status: s.duplicate ? 200 : 201, verification: s.row.verification };
          },
          (e: unknown) => {
            fail(index, e);
          },
        ),
      ),
    );
    return results;
  }
  const outcomes = await commitMany(
    deps,
    prepared.map((p) => p.item),
  );
  outcomes.forEach((o, k) => {
    const { index } = prepared[k]!;
    if (o.status === 'fulfilled')
      results[index] = { index, status: o.value.duplicate ? 200 : 201, receipt: o.value.receipt };
    else fail(index, o.reason);
  });
  return results;
}

// ---------------------------------------------------------------------------------------------- digests

export async function pushDigest(options: {
  deps: EvidenceDeps;
  caller: Caller;
  body: DigestPushBody;
  idempotencyKey?: string | undefined;
}): Promise<PushResult> {
  const { deps, caller, body } = options;
  assertProjectActive({ id: caller.projectId, status: caller.projectStatus });
  const value = toHex(digestBytes(body.algorithm, body.value, 'value'));
  const dedupe = dedupeKey('digest', body.serialNumber, `${body.algorithm}:${value}`);
  const before = await earlier(deps, caller, dedupe, options.idempotencyKey);
  if (before) return before;
  const row = emptyRow(deps, 'digest', caller, body, options.idempotencyKey);
  row.category = body.category ?? null;
  row.digest_algorithm = body.algorithm;
  row.digest_value = value;
  row.verification = canonicalJson({ digest: 'format-checked', algorithm: body.algorithm });
  row.dedupe_key = dedupe;
  return commit(
    deps,
    seal(row, { original: null, signature: null, certificates: null, timestamp_token: null }),
  );
}

// ---------------------------------------------------------------------------------------------- files

export interface FileInput {
  content: Uint8Array;
  name: string | undefined;
  contentType: string | undefined;
}

export async function pushFile(options: {
  deps: EvidenceDeps;
  caller: Caller;
  file: FileInput;
  meta: FileMetaBody;
  /** The project's file storage choice. */
  storage: FileStorage;
  idempotencyKey?: string | undefined;
}): Promise<PushResult> {
  const { deps, caller, file, meta } = options;
  assertProjectActive({ id: caller.projectId, status: caller.projectStatus });
  const fileSm3 = sm3Hex(file.content);
  const signature = meta.signature === undefined ? undefined : base64(meta.signature, 'signature');
  const dedupe = dedupeKey(
    'file',
    meta.serialNumber,
    `${fileSm3}:${signature === undefined ? '' : sm3Hex(signature)}`,
  );
  const before = await earlier(deps, caller, dedupe, options.idempotencyKey);
  if (before) return before;
  const row = emptyRow(deps, 'file', caller, meta, options.idempotencyKey);
  const certificates = (meta.certificates ?? []).map((c, i) => certificateBytes(c, `certificates[${i}]`));
  const token = meta.timestampToken === undefined ? undefined : base64(meta.timestampToken, 'timestampToken');
  row.signed_at = isoOf(meta.signedAt, 'signedAt');
  let verification: CanonicalValue = { signature: null };
  if (signature !== undefined) {
    const checked = verifySignatureEvidence(
      checkInputOf({
        format: 'cms',
        algorithm: undefined,
        signature,
        certificates,
        original: file.content,
        digest: undefined,
        token,
        signedAt: row.signed_at,
        receivedAt: row.received_at,
      }),
      deps.trust,
    );
    verification = checked.summary as unknown as CanonicalValue;
    row.signature_format = 'cms';
    row.signer = meta.signer ?? checked.summary.signer;
    row.signature_sm3 = sm3Hex(signature);
    row.timestamp_sm3 = checked.timestampToken !== undefined ? sm3Hex(checked.timestampToken) : null;
  } else if (token !== undefined) {
    throw new YzError('EVIDENCE_INPUT_INVALID', 'a timestamp token needs the signature it covers');
  }
  const certs = certificates.length > 0 ? concat(certificates) : null;
  row.certificates_sm3 = certs === null ? null : sm3Hex(certs);
  row.original_sm3 = fileSm3;
  row.original_size = file.content.length;
  row.file_sm3 = fileSm3;
  row.file_size = file.content.length;
  row.file_name = file.name ?? null;
  row.content_type = file.contentType ?? null;
  row.file_storage = options.storage;
  row.verification = canonicalJson(verification);
  row.dedupe_key = dedupe;
  // Content-addressed and idempotent: written (durably) before the record; an orphan after a failed commit is
  // harmless and reused by the next push of the same bytes.
  await deps.fileStores[options.storage].put(file.content);
  return commit(
    deps,
    seal(row, {
      original: null,
      signature: signature ?? null,
      certificates: certs,
      timestamp_token: token ?? null,
    }),
  );
}

// ---------------------------------------------------------------------------------------------- queries

export interface EvidenceView {
  id: string;
  kind: EvidenceKind;
  projectId: string;
  appId: string;
  serialNumber: string;
  businessType: string | null;
  sourceSystem: string | null;
  department: { code: string | null; name: string | null };
  patient: { id: string | null; name: string | null; visitNumber: string | null };
  signer: string | null;
  category: string | null;
  signatureFormat: string | null;
  original: { sm3: string; size: number | null } | null;
  digest: { algorithm: string; value: string } | null;
  file: { sm3: string; size: number; name: string | null; contentType: string | null } | null;
  signedAt: string | null;
  receivedAt: string;
  tags: string[];
  metadata: Record<string, unknown>;
  verification: unknown;
  evidenceHash: string;
  logIndex: number;
}

function openField(fc: FieldCrypto, field: string, sealed: string | null): string | null {
  if (sealed === null) return null;
  try {
    return fc.open(field, sealed);
  } catch {
    return null; // altered: `verify` reports it
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function viewOf(deps: EvidenceDeps, r: repo.EvidenceRow): EvidenceView {
  const tags = parseJson(r.tags);
  const metadata = parseJson(r.metadata);
  return {
    id: r.id,
    kind: r.kind,
    projectId: r.project_id,
    appId: r.app_id,
    serialNumber: r.serial_number,
    businessType: r.business_type,
    sourceSystem: r.source_system,
    department: { code: r.department_code, name: r.department_name },
    patient: {
      id: openField(deps.fieldCrypto, 'patient_id', r.patient_id_enc),
      name: openField(deps.fieldCrypto, 'patient_name', r.patient_name_enc),
      visitNumber: r.visit_number,
    },
    signer: r.signer,
    category: r.category,
    signatureFormat: r.signature_format,
    original: r.original_sm3 === null ? null : { sm3: r.original_sm3, size: num(r.original_size) },
    digest:
      r.digest_algorithm === null || r.digest_value === null
        ? null
        : { algorithm: r.digest_algorithm, value: r.digest_value },
    file:
      r.file_sm3 === null
        ? null
        : { sm3: r.file_sm3, size: num(r.file_size) ?? 0, name: r.file_name, contentType: r.content_type },
    signedAt: r.signed_at,
    receivedAt: r.received_at,
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
    metadata:
      typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)
        ? (metadata as Record<string, unknown>)
        : {},
    verification: parseJson(r.verification),
    evidenceHash: r.evidence_hash,
    logIndex: Number(r.log_index),
  };
}

function encodeCursor(r: repo.EvidenceRow): string {
  return Buffer.from(JSON.stringify([r.received_at, r.id])).toString('base64url');
}

function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string')
      return { receivedAt: v[0], id: v[1] };
  } catch {
    /* fall through */
  }
  throw new YzError('EVIDENCE_CURSOR_INVALID');
}

export async function listEvidence(options: {
  deps: EvidenceDeps;
  caller: Caller;
  kind: EvidenceKind;
  query: ListQueryType;
}): Promise<{ items: EvidenceView[]; nextCursor: string | null }> {
  const { deps, caller, query } = options;
  const limit = query.limit ?? 50;
  const rows = await repo.listEvidence(deps.db, {
    kind: options.kind,
    projectId: caller.projectId,
    id: query.id,
    appId: query.appId,
    serialNumber: query.serialNumber,
    patientIdIndex:
      query.patientId === undefined ? undefined : deps.fieldCrypto.blindIndex('patient_id', query.patientId),
    patientNameIndex:
      query.patientName === undefined
        ? undefined
        : deps.fieldCrypto.blindIndex('patient_name', query.patientName),
    from: isoOf(query.from, 'from') ?? undefined,
    to: isoOf(query.to, 'to') ?? undefined,
    after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit).map((r) => viewOf(deps, normaliseRow(r)));
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return { items: page, nextCursor: last === undefined ? null : encodeCursor(last) };
}

async function findOwn(
  deps: EvidenceDeps,
  caller: Caller,
  kind: EvidenceKind,
  id: string,
): Promise<repo.EvidenceRow> {
  const row = await repo.findEvidence(deps.db, { id, kind, projectId: caller.projectId });
  if (row === undefined) throw new YzError('EVIDENCE_NOT_FOUND', id);
  return normaliseRow(row);
}

const b64 = (b: Uint8Array | null | undefined): string | null =>
  b === null || b === undefined ? null : Buffer.from(b).toString('base64');

export async function getEvidence(options: {
  deps: EvidenceDeps;
  caller: Caller;
  kind: EvidenceKind;
  id: string;
}): Promise<
  EvidenceView & {
    payload: {
      original: string | null;
      signature: string | null;
      certificates: string[];
      timestampToken: string | null;
    };
  }
> {
  const { deps } = options;
  const row = await findOwn(deps, options.caller, options.kind, options.id);
  const p = await repo.findPayload(deps.db, row.id);
  let certificates: string[] = [];
  if (p?.certificates) {
    try {
      certificates = splitDer(new Uint8Array(p.certificates)).map((c) => Buffer.from(c).toString('base64'));
    } catch {
      certificates = [];
    }
  }
  return {
    ...viewOf(deps, row),
    payload: {
      original: b64(p?.original),
      signature: b64(p?.signature),
      certificates,
      timestampToken: b64(p?.timestamp_token),
    },
  };
}

/** The stored file of a file record (re-hashed on read: a changed byte is refused, not served). */
export async function getFileContent(options: {
  deps: EvidenceDeps;
  caller: Caller;
  id: string;
}): Promise<{ content: Uint8Array; name: string | null; contentType: string | null }> {
  const { deps } = options;
  const row = await findOwn(deps, options.caller, 'file', options.id);
  const store = deps.fileStores[row.file_storage ?? 'local'];
  try {
    return {
      content: await store.get(row.file_sm3 ?? ''),
      name: row.file_name,
      contentType: row.content_type,
    };
  } catch (e) {
    if (e instanceof FileStoreError)
      throw new YzError('EVIDENCE_TAMPERED', `${e.code}: ${row.file_sm3 ?? ''}`);
    throw e;
  }
}

export function receiptKey(deps: Pick<EvidenceDeps, 'platformKey'>): {
  algorithm: 'SM2';
  keyId: string;
  publicKeyPem: string;
} {
  return {
    algorithm: 'SM2',
    keyId: platformKeyId(deps.platformKey),
    publicKeyPem: deps.platformKey.publicKey.toPem(),
  };
}

// ---------------------------------------------------------------------------------------------- verify

export type EvidencePart =
  | 'record'
  | 'patient'
  | 'original'
  | 'signature'
  | 'certificates'
  | 'timestamp'
  | 'file'
  | 'log'
  | 'revocation'
  | 'reinforcement';

export interface VerifyCheck {
  part: EvidencePart;
  ok: boolean;
  detail: string;
  code?: string;
}

export interface VerifyReport {
  id: string;
  kind: EvidenceKind;
  intact: boolean;
  tampered: EvidencePart[];
  checks: VerifyCheck[];
  log: { status: string; index: number; treeSize?: number; checkpoint?: string; proof?: string[] };
  verifiedAt: string;
}

/** "revocation: good / revoked at T / unknown", with what said so. */
function revocationText(r: RevocationSummary): string {
  const head = r.status === 'revoked' ? `revoked at ${r.revokedAt ?? '?'}` : r.status;
  return `revocation: ${head} (${r.detail})`;
}

const bytesOf = (v: Uint8Array | null | undefined): Uint8Array | undefined =>
  v === null || v === undefined ? undefined : new Uint8Array(v);

/**
 * Re-verifies a stored record: the canonical record against its stored hash; each stored blob (original,
 * signature, certificates, timestamp token, file) against the SM3 the record names; the sealed patient fields
 * against their blind indexes; the hash against the log leaf, the leaf under the latest signed checkpoint (an
 * inclusion proof from the stored tree); and the signature, certificate and timestamp checks run again. Every
 * altered part is named.
 */
export async function verifyEvidence(options: {
  deps: EvidenceDeps;
  caller: Caller;
  kind: EvidenceKind;
  id: string;
}): Promise<VerifyReport> {
  const { deps } = options;
  const row = await findOwn(deps, options.caller, options.kind, options.id);
  const payload = await repo.findPayload(deps.db, row.id);
  const checks: VerifyCheck[] = [];
  const check = (part: EvidencePart, ok: boolean, detail: string, code?: string): void => {
    checks.push({ part, ok, detail, ...(code !== undefined ? { code } : {}) });
  };

  // 1. The record against its hash.
  const recomputed = sm3(new TextEncoder().encode(canonicalRecord(recordColumns(row))));
  const recordOk = toHex(recomputed) === row.evidence_hash;
  check(
    'record',
    recordOk,
    recordOk
      ? 'the canonical record hashes to the stored evidence hash'
      : 'the stored record no longer hashes to its evidence hash',
  );

  // 2. Patient fields against their blind indexes.
  for (const [field, enc, idx] of [
    ['patient_id', row.patient_id_enc, row.patient_id_idx],
    ['patient_name', row.patient_name_enc, row.patient_name_idx],
  ] as const) {
    if (enc === null && idx === null) continue;
    const clear = openField(deps.fieldCrypto, field, enc);
    const ok = clear !== null && idx !== null && deps.fieldCrypto.blindIndex(field, clear) === idx;
    check(
      'patient',
      ok,
      ok ? `${field} opens and matches its index` : `${field} does not open or does not match its index`,
    );
  }

  // 3. Stored blobs against the SM3 the record names.
  const blob = (part: EvidencePart, bytes: Uint8Array | undefined, expected: string | null): void => {
    if (expected === null) return;
    if (bytes === undefined) check(part, false, `the stored ${part} is missing`);
    else {
      const ok = sm3Hex(bytes) === expected;
      check(
        part,
        ok,
        ok ? `the stored ${part} matches its SM3` : `the stored ${part} differs from the SM3 in the record`,
      );
    }
  };
  const original = bytesOf(payload?.original);
  const signature = bytesOf(payload?.signature);
  const certificates = bytesOf(payload?.certificates);
  const token = bytesOf(payload?.timestamp_token);
  if (row.kind === 'signature') {
    blob('signature', signature, row.signature_sm3);
    if (original !== undefined) blob('original', original, row.original_sm3);
  }
  if (row.kind === 'file' && row.signature_sm3 !== null) blob('signature', signature, row.signature_sm3);
  blob('certificates', certificates, row.certificates_sm3);
  blob('timestamp', token, row.timestamp_sm3);

  let fileContent: Uint8Array | undefined;
  if (row.kind === 'file') {
    try {
      fileContent = await deps.fileStores[row.file_storage ?? 'local'].get(row.file_sm3 ?? '');
      check('file', true, 'the stored file matches its SM3');
    } catch (e) {
      if (!(e instanceof FileStoreError)) throw e;
      check('file', false, `${e.code}: the stored file is missing or altered`, e.code);
    }
  }

  // 4. The log: the (recomputed) hash is the leaf at log_index, included under the latest signed checkpoint.
  // When the record was altered, check the log against the stored hash: is the log itself intact?
  const entry =
    recordOk || !/^[0-9a-f]{64}$/.test(row.evidence_hash) ? recomputed : fromHex(row.evidence_hash);
  const verdict = await verifyLogEntry({
    db: deps.db,
    index: Number(row.log_index),
    entry,
    publicKey: deps.platformKey.publicKey,
  });
  const log: VerifyReport['log'] = { status: verdict.status, index: Number(row.log_index) };
  if (verdict.status === 'included') {
    log.treeSize = verdict.checkpoint.size;
    log.checkpoint = verdict.checkpoint.note;
    log.proof = verdict.proof.map((h) => toHex(h));
    check('log', true, `included under the signed checkpoint of size ${verdict.checkpoint.size}`);
  } else if (verdict.status === 'pending') {
    check('log', true, 'sequenced; not yet under a signed checkpoint');
  } else {
    check('log', false, `${verdict.failure}: ${verdict.detail}`, verdict.failure);
  }

  // 5. The signature, certificate and timestamp checks, again (only on bytes that are intact).
  const signatureIntact = !checks.some(
    (c) => !c.ok && ['signature', 'original', 'certificates', 'timestamp', 'file'].includes(c.part),
  );
  if (row.signature_format !== null && signature !== undefined && signatureIntact) {
    const summary = parseJson(row.verification) as { signatureAlgorithm?: unknown } | null;
    let content = row.kind === 'file' ? fileContent : original;
    try {
      const res = verifySignatureEvidence(
        checkInputOf({
          format: row.signature_format === 'raw' ? 'raw' : 'cms',
          algorithm:
            row.signature_format === 'raw' && typeof summary?.signatureAlgorithm === 'string'
              ? summary.signatureAlgorithm
              : undefined,
          signature,
          certificates: certificates === undefined ? [] : splitDer(certificates),
          original: content,
          digest:
            row.digest_algorithm !== null && row.digest_value !== null && content === undefined
              ? { algorithm: row.digest_algorithm as DigestName, value: fromHex(row.digest_value) }
              : undefined,
          token,
          signedAt: row.signed_at,
          receivedAt: row.received_at,
        }),
        deps.trust,
      );
      content ??= res.content;
      const contentOk =
        row.original_sm3 === null || (content !== undefined && sm3Hex(content) === row.original_sm3);
      if (!contentOk) check('original', false, 'the signed content differs from the SM3 in the record');
      check('signature', true, `the ${row.signature_format} signature verifies again (${res.summary.chain})`);
      check('revocation', true, revocationText(res.summary.revocation));
    } catch (e) {
      if (isYzError(e) && e.code === 'EVIDENCE_CERT_REVOKED')
        check('revocation', false, `revocation: revoked (${e.detail ?? ''})`, e.code);
      else if (isYzError(e)) check('signature', false, `${e.code}: ${e.detail ?? ''}`, e.code);
      // Altered columns (say a digest that is no longer hex) can make the re-verification itself fail.
      else if (!recordOk) check('signature', false, 'cannot be re-verified: the record was altered');
      else throw e;
    }
  }

  // 6. A digest record's reinforcement timestamp (the digest-timestamp job's token over the evidence hash).
  if (row.kind === 'digest') {
    const reinforced = await checkDigestTimestamp(deps.db, row.id, entry);
    if (reinforced !== undefined) check('reinforcement', reinforced.ok, reinforced.detail);
  }

  const tampered = [...new Set(checks.filter((c) => !c.ok).map((c) => c.part))];
  return {
    id: row.id,
    kind: row.kind,
    intact: tampered.length === 0,
    tampered,
    checks,
    log,
    verifiedAt: isoTime(deps.now()),
  };
}
