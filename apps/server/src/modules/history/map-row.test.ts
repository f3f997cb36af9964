/**
 * mapRow hands the ingest path a PEM certificate as base64 DER: the bytes the ingest path takes from it must be
 * exactly those it would have taken from the PEM, and anything that is not a decodable certificate PEM must
 * reach it unchanged (so it is refused as before).
 */
import { fromPem, toPem } from '@yizheng/pki';
import { TestPki } from '@yizheng/pki/testing';
import { describe, expect, it } from 'vitest';
import { certificateText, mapRow } from './service.js';

const pki = new TestPki({ seed: 'history-map-row', now: new Date('2026-06-01T00:00:00Z') });
const leaf = pki.root().leaf({ subject: { CN: '医生丁' } });
const m = {
  key: 'id',
  keyType: 'integer' as const,
  serialNumber: 's',
  signature: 'v',
  certificate: 'c',
  defaultFormat: 'raw' as const,
};

/** The certificate bytes as the ingest path reads a pushed text (PEM → fromPem, else base64). */
const ingestBytes = (text: string): Uint8Array =>
  text.trimStart().startsWith('-----')
    ? fromPem(text, 'CERTIFICATE')
    : new Uint8Array(Buffer.from(text, 'base64'));

describe('history certificate texts', () => {
  it('hands a PEM certificate on as base64 of the very same DER', () => {
    const variants = [
      leaf.pem,
      `${leaf.pem}\n\n`,
      leaf.pem.replace(/\n/g, '\r\n'),
      toPem(leaf.der, 'CERTIFICATE') + toPem(pki.root().der, 'CERTIFICATE'), // two blocks: the first, as before
    ];
    for (const pem of variants) {
      const body = mapRow(m, { id: 1, s: 'A', v: 'AQID', c: pem });
      const out = body.signature.certificate!;
      expect(out.startsWith('-----')).toBe(false);
      expect(ingestBytes(out)).toEqual(ingestBytes(pem.trim()));
    }
  });

  it('leaves base64 DER and anything that is not a decodable certificate PEM as it is', () => {
    const b64 = Buffer.from(leaf.der).toString('base64');
    const broken = [
      b64,
      Buffer.from('not a certificate').toString('base64'),
      leaf.pem.replace(/CERTIFICATE/g, 'PUBLIC KEY'), // another label: the ingest path refuses it
      leaf.pem.replace(/^(-----BEGIN CERTIFICATE-----\n.{10})./m, '$1*'), // body not base64
      '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----', // empty
      '-----BEGIN CERTIFICATE-----\nAQID', // no END line
    ];
    for (const text of broken) expect(certificateText(text)).toBe(text);
  });
});
