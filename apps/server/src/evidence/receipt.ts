/**
 * Receipts (存证回执): what the platform attests about a stored record, signed with the platform's SM2 key.
 *
 *   body      = { type: "yizheng-receipt/1", id, kind, projectId, appId, serialNumber, evidenceHash, logIndex,
 *                 receivedAt, verification }
 *   signed    = UTF-8 of canonicalJson(body)   (sorted keys, no whitespace: src/audit/canonical-json.ts)
 *   signature = SM2 (GB/T 32918.2, SM3, user ID 1234567812345678) over `signed`, DER, base64
 *
 * To verify one offline: write `canonicalJson(body)` to body.json (exactly: the receipt without its `signature`
 * member, keys sorted, no whitespace), the base64 `signature.value` decoded to sig.der, the platform key from
 * `GET /api/v1/receipts/key` to platform.pem, then
 *
 *   openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678 \
 *     -pubin -inkey platform.pem -in body.json -sigfile sig.der
 *
 * SM2 signatures are randomised: a receipt fetched twice for the same record has the same body and a different,
 * equally valid signature value.
 */
import { sm2, sm3, toHex } from '@yizheng/gm';
import { canonicalJson, type CanonicalValue } from '../audit/canonical-json.js';
import { SIGNATURE_USER_ID } from '../auth/signing.js';
import type { PlatformKey } from '../crypto/platform-key.js';
import type { EvidenceKind } from '../db/schema.js';

export const RECEIPT_TYPE = 'yizheng-receipt/1';

export interface ReceiptBody {
  type: typeof RECEIPT_TYPE;
  /** 数据编号 */
  id: string;
  kind: EvidenceKind;
  projectId: string;
  appId: string;
  serialNumber: string;
  /** Hex SM3 of the canonical record (the log leaf entry). */
  evidenceHash: string;
  logIndex: number;
  receivedAt: string;
  /** The verification summary, as stored with the record. */
  verification: CanonicalValue;
}

export interface Receipt extends ReceiptBody {
  signature: {
    algorithm: 'SM3withSM2';
    userId: string;
    /** Hex SM3 of the platform key's SubjectPublicKeyInfo DER. */
    keyId: string;
    /** base64 DER SM2Signature. */
    value: string;
  };
}

export function receiptBytes(body: ReceiptBody): Uint8Array {
  return new TextEncoder().encode(canonicalJson(body as unknown as CanonicalValue));
}

/**
 * `canonicalJson(body)`, the text that is signed, given `verificationJson` = `canonicalJson(body.verification)`
 * (the record stores exactly that text, so a fresh record's receipt need not serialise its summary again).
 * `verification` sorts last among the members, so the text is the other members, which are flat, written by
 * ONE `JSON.stringify` of an object literal in sorted key order (as canonicalRecord does: JSON.stringify keeps
 * the insertion order of non-index keys and escapes strings as canonical JSON does), then the summary. Members
 * of another type than declared go through the generic serialiser, which refuses what canonical JSON refuses.
 */
export function receiptText(body: ReceiptBody, verificationJson: string): string {
  if (
    typeof body.appId !== 'string' ||
    typeof body.evidenceHash !== 'string' ||
    typeof body.id !== 'string' ||
    typeof body.kind !== 'string' ||
    !Number.isSafeInteger(body.logIndex) ||
    typeof body.projectId !== 'string' ||
    typeof body.receivedAt !== 'string' ||
    typeof body.serialNumber !== 'string' ||
    typeof body.type !== 'string'
  )
    return canonicalJson(body as unknown as CanonicalValue);
  const head = JSON.stringify({
    appId: body.appId,
    evidenceHash: body.evidenceHash,
    id: body.id,
    kind: body.kind,
    logIndex: body.logIndex,
    projectId: body.projectId,
    receivedAt: body.receivedAt,
    serialNumber: body.serialNumber,
    type: body.type,
  });
  return `${head.slice(0, -1)},"verification":${verificationJson}}`;
}

const KEY_IDS = new WeakMap<PlatformKey['publicKey'], string>();

/** Hex SM3 of the key's SPKI, computed once per key (every receipt names it). */
export function platformKeyId(key: Pick<PlatformKey, 'publicKey'>): string {
  let id = KEY_IDS.get(key.publicKey);
  if (id === undefined) {
    id = toHex(sm3(key.publicKey.toSpki()));
    KEY_IDS.set(key.publicKey, id);
  }
  return id;
}

/**
 * Signs a receipt. `verificationJson`, when given, must be `canonicalJson(body.verification)` (a fresh record's
 * stored summary text); without it the summary is serialised here.
 */
export function signReceipt(key: PlatformKey, body: ReceiptBody, verificationJson?: string): Receipt {
  // sm2.sign hashes a string as its UTF-8 bytes, as receiptBytes encodes it.
  return signed(
    key,
    body,
    sm2.sign(key.privateKey, signedText(body, verificationJson), { id: SIGNATURE_USER_ID }),
  );
}

/**
 * {@link signReceipt} of many receipts at once (a batch push): the signatures are made by `sm2.signMany`, off the
 * event loop with the native engine. Same receipts, in order.
 */
export async function signReceipts(
  key: PlatformKey,
  items: readonly { readonly body: ReceiptBody; readonly verificationJson?: string | undefined }[],
): Promise<Receipt[]> {
  const texts = items.map((x) => signedText(x.body, x.verificationJson));
  const values = await sm2.signMany(key.privateKey, texts, { id: SIGNATURE_USER_ID });
  return items.map((x, i) => signed(key, x.body, values[i]!));
}

/** The text a receipt's signature covers (`verificationJson`: as for {@link signReceipt}). */
function signedText(body: ReceiptBody, verificationJson: string | undefined): string {
  return receiptText(body, verificationJson ?? canonicalJson(body.verification));
}

function signed(key: PlatformKey, body: ReceiptBody, value: Uint8Array): Receipt {
  return {
    ...body,
    signature: {
      algorithm: 'SM3withSM2',
      userId: SIGNATURE_USER_ID,
      keyId: platformKeyId(key),
      value: Buffer.from(value).toString('base64'),
    },
  };
}

/** Checks a receipt against the platform public key (tests, the SDK, `yizheng verify`). */
export function verifyReceipt(key: Pick<PlatformKey, 'publicKey'>, receipt: Receipt): boolean {
  const { signature, ...body } = receipt;
  try {
    return sm2.verify(
      key.publicKey,
      receiptBytes(body),
      new Uint8Array(Buffer.from(signature.value, 'base64')),
      {
        id: signature.userId,
      },
    );
  } catch {
    return false;
  }
}
