import { sm2, sm3, toHex, type Sm2PrivateKey, type Sm2PublicKey } from '@yizheng/gm';
import { canonicalJson, type CanonicalValue } from '../audit/canonical-json.js';
import type { ReportSeal, ReportView } from './view-model.js';

/**
 * The platform's signature over a report's content: SM2 (user ID 1234567812345678) over the UTF-8 canonical JSON
 * of the ReportView (keys sorted, no whitespace, absent optional fields omitted). The same bytes are in the
 * evidence package (`report/content.json`), so anyone with the platform's certificate can check the seal.
 */
export function reportContent(view: ReportView): Uint8Array {
  // JSON round trip drops `undefined` members; every field of a ReportView is JSON by construction.
  const plain = JSON.parse(JSON.stringify(view)) as CanonicalValue;
  return new TextEncoder().encode(canonicalJson(plain));
}

export function platformKeyId(publicKey: Sm2PublicKey): string {
  return toHex(sm3(publicKey.toSpki()));
}

export function sealReport(options: { view: ReportView; privateKey: Sm2PrivateKey }): ReportSeal {
  const content = reportContent(options.view);
  return {
    algorithm: 'SM3withSM2',
    contentSm3: toHex(sm3(content)),
    signature: Buffer.from(sm2.sign(options.privateKey, content)).toString('base64'),
    keyId: platformKeyId(options.privateKey.publicKey),
  };
}

/** True when `seal` is the platform key's signature over exactly this view. */
export function verifyReportSeal(options: {
  view: ReportView;
  seal: ReportSeal;
  publicKey: Sm2PublicKey;
}): boolean {
  const content = reportContent(options.view);
  if (toHex(sm3(content)) !== options.seal.contentSm3) return false;
  if (platformKeyId(options.publicKey) !== options.seal.keyId) return false;
  return sm2.verify(
    options.publicKey,
    content,
    new Uint8Array(Buffer.from(options.seal.signature, 'base64')),
  );
}
