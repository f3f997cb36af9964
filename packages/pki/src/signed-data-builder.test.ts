import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OID } from './algorithms.js';
import { parseCertificate } from './certificate.js';
import { oid, utf8String } from './der-writer.js';
import { isPkiError } from './errors.js';
import { addUnsignedAttribute, buildSignedData } from './signed-data-builder.js';
import { CMS_OID, parseSignedData, verifySignedData } from './signed-data.js';
import { signerFromPrivateKey } from './signer.js';
import { gmSm2Provider } from './sm2.js';
import { TestPki } from './testing/test-pki.js';

const dir = mkdtempSync(join(tmpdir(), 'pki-cms-build-'));
const p = (f: string): string => join(dir, f);
const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });
const content = new TextEncoder().encode('住院病历：患者李四，出院小结……');
writeFileSync(p('data'), content);
writeFileSync(
  p('ext.cnf'),
  '[req]\ndistinguished_name=dn\n[dn]\n[ee]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\n',
);
const KEYS: Record<string, { gen: string[]; sig: string[] }> = {
  rsa: { gen: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], sig: ['-sha256'] },
  p256: { gen: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], sig: ['-sha256'] },
  // openssl req -newkey cannot take -sigopt distid for SM2; with a generated key it can.
  sm2: {
    gen: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'],
    sig: ['-sm3', '-sigopt', 'distid:1234567812345678'],
  },
};
for (const [name, { gen, sig }] of Object.entries(KEYS)) {
  openssl('genpkey', ...gen, '-out', p(`${name}.key`));
  openssl(
    'req', '-x509', '-key', p(`${name}.key`), ...sig, '-out', p(`${name}.pem`),
    '-subj', `/C=CN/O=某某医院/CN=医生${name}`, '-utf8', '-days', '30', '-config', p('ext.cnf'),
    '-extensions', 'ee',
  ); // prettier-ignore
}
const certDer = (n: string): Uint8Array => parseCertificate(readFileSync(p(`${n}.pem`), 'utf8')).der;
const signerOf = (n: string) => signerFromPrivateKey(readFileSync(p(`${n}.key`), 'utf8'));

let counter = 0;
/** openssl cms -verify over our output; returns whether it exited 0. */
function opensslVerifies(cms: Uint8Array, name: string, detached: boolean): boolean {
  const f = p(`ours${counter++}.der`);
  writeFileSync(f, cms);
  const r = spawnSync(
    'openssl',
    [
      'cms', '-verify', '-binary', '-inform', 'DER', '-in', f, '-CAfile', p(`${name}.pem`),
      '-purpose', 'any', ...(detached ? ['-content', p('data')] : []), '-out', `${f}.out`,
    ],
    { encoding: 'utf8' },
  ); // prettier-ignore
  if (r.status !== 0) return false;
  return Buffer.from(readFileSync(`${f}.out`)).equals(Buffer.from(content));
}

const extraCa = new TestPki({ seed: 'cms-extra', kind: 'p256' }).root({ subject: { CN: 'CRL额外CA' } });
const extraCrl = extraCa.crl();

describe.each(['rsa', 'p256'])('buildSignedData (%s) accepted by openssl cms -verify', (name) => {
  for (const detached of [false, true]) {
    for (const signedAttributes of [true, false]) {
      it(`${detached ? 'detached' : 'attached'}, ${signedAttributes ? 'with' : 'without'} signed attributes`, () => {
        const cms = buildSignedData({
          content,
          detached,
          signers: [
            { signer: signerOf(name), certificate: certDer(name), signedAttributes, signingTime: new Date() },
          ],
        });
        expect(opensslVerifies(cms, name, detached)).toBe(true);
        const ours = verifySignedData(cms, detached ? { content } : {});
        expect(ours.failures).toEqual([]);
        // A changed content byte fails openssl and ours.
        const tampered = Uint8Array.from(content);
        tampered[0] = (tampered[0] ?? 0) ^ 1;
        if (detached) {
          writeFileSync(p('data.bad'), tampered);
          const r = spawnSync('openssl', [
            'cms', '-verify', '-binary', '-inform', 'DER', '-in', p(`ours${counter - 1}.der`),
            '-CAfile', p(`${name}.pem`), '-purpose', 'any', '-content', p('data.bad'),
          ]); // prettier-ignore
          expect(r.status).not.toBe(0);
          expect(verifySignedData(cms, { content: tampered }).valid).toBe(false);
        }
      });
    }
  }

  it('subjectKeyIdentifier sid, two signers, extra certificates and a CRL', () => {
    const other = name === 'rsa' ? 'p256' : 'rsa';
    const spec = {
      content,
      signers: [
        { signer: signerOf(name), certificate: certDer(name), sid: 'subjectKeyIdentifier' as const },
        { signer: signerOf(other), certificate: certDer(other) },
      ],
      certificates: [extraCa.der, certDer(name)],
    };
    const cms = buildSignedData(spec);
    const parsed = parseSignedData(cms);
    expect(parsed.signers.map((s) => 'ski' in s.sid)).toEqual([true, false]);
    expect(parsed.certificates).toHaveLength(3); // the duplicate signer certificate is written once
    expect(verifySignedData(cms).failures).toEqual([]);
    // With a CRL: openssl prints it and verifies every signer (given both roots). parseSignedData cannot read
    // SignedData with crls yet (@peculiar/asn1-cms RevocationInfoChoice), so this one is openssl's alone.
    const withCrl = buildSignedData({ ...spec, crls: [extraCrl] });
    writeFileSync(p('two.der'), withCrl);
    const printed = openssl('cms', '-cmsout', '-print', '-inform', 'DER', '-in', p('two.der'));
    expect(printed).toMatch(/crls:\s+d.crl:\s+crl:\s+version: 1/);
    expect(printed).toMatch(/issuer: CN=CRL\\xE9\\xA2\\x9D\\xE5\\xA4\\x96CA|issuer: CN=CRL额外CA/);
    writeFileSync(
      p('both.pem'),
      readFileSync(p(`${name}.pem`), 'utf8') + readFileSync(p(`${other}.pem`), 'utf8'),
    );
    const r = spawnSync('openssl', [
      'cms', '-verify', '-binary', '-inform', 'DER', '-in', p('two.der'), '-CAfile', p('both.pem'),
      '-purpose', 'any', '-out', p('two.out'),
    ]); // prettier-ignore
    expect(r.status).toBe(0);
  });
});

describe('SM2 CMS', () => {
  const policy = { sm2: gmSm2Provider };
  for (const oids of ['rfc5652', 'gmt0010'] as const) {
    it(`round-trips through the ${oids} OIDs (attached and detached, with and without attributes)`, () => {
      for (const detached of [false, true]) {
        for (const signedAttributes of [true, false]) {
          const cms = buildSignedData({
            content,
            detached,
            oids,
            signers: [{ signer: signerOf('sm2'), certificate: certDer('sm2'), signedAttributes }],
          });
          const parsed = parseSignedData(cms);
          expect(parsed.contentType).toBe(oids === 'gmt0010' ? CMS_OID.gmSignedData : CMS_OID.signedData);
          expect(parsed.eContentType).toBe(oids === 'gmt0010' ? CMS_OID.gmData : CMS_OID.data);
          expect(parsed.signers[0]?.signatureAlgorithm).toBe(
            oids === 'gmt0010' ? OID.sm2Sign : OID.sm3WithSm2,
          );
          const r = verifySignedData(cms, { policy, ...(detached ? { content } : {}) });
          expect(r.failures).toEqual([]);
          const bad = verifySignedData(cms, { policy, content: content.subarray(1) });
          if (detached) expect(bad.valid).toBe(false);
        }
      }
    });
  }

  it('openssl cms -verify accepts our SM2 CMS structure when signed with the ID OpenSSL 3.0 uses (empty)', () => {
    // OpenSSL 3.0's cms has no way to set the SM2 ID and verifies with an empty one, so a GM/T 0009 signature
    // (ID 1234567812345678) cannot pass it. Signed with the empty ID, the same structure does: the SignedData,
    // signed attributes and SM2Signature encoding interoperate; ours verifies both with the matching ID.
    const emptyId = signerFromPrivateKey(readFileSync(p('sm2.key'), 'utf8'), { sm2Id: new Uint8Array(0) });
    const cms = buildSignedData({ content, signers: [{ signer: emptyId, certificate: certDer('sm2') }] });
    writeFileSync(p('sm2-empty-id.der'), cms);
    const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p('sm2-empty-id.der'), '-noverify', '-out', p('sm2-empty-id.out')], { encoding: 'utf8' }); // prettier-ignore
    expect(r.stderr).toContain('Verification successful');
    expect(Buffer.from(readFileSync(p('sm2-empty-id.out'))).equals(Buffer.from(content))).toBe(true);
    expect(verifySignedData(cms, { policy: { ...policy, sm2Id: new Uint8Array(0) } }).failures).toEqual([]);
    expect(verifySignedData(cms, { policy }).failures.map((f) => f.code)).toEqual([
      'PKI_CMS_SIGNATURE_INVALID',
    ]);
    // The GM/T 0009 signature: ours accepts it, openssl 3.0 cannot (wrong ID).
    const gm = buildSignedData({
      content,
      signers: [{ signer: signerOf('sm2'), certificate: certDer('sm2') }],
    });
    writeFileSync(p('sm2-gm-id.der'), gm);
    expect(verifySignedData(gm, { policy }).failures).toEqual([]);
    const o = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p('sm2-gm-id.der'), '-noverify'], { encoding: 'utf8' }); // prettier-ignore
    expect(o.status).not.toBe(0);
  });

  it('GM/T 0010 structure, field by field as openssl asn1parse sees it', () => {
    const cms = buildSignedData({
      content,
      oids: 'gmt0010',
      signers: [
        {
          signer: signerOf('sm2'),
          certificate: certDer('sm2'),
          signingTime: new Date('2026-03-01T08:00:00Z'),
        },
      ],
    });
    writeFileSync(p('gm.der'), cms);
    const nodes = openssl('asn1parse', '-inform', 'DER', '-in', p('gm.der'))
      .split('\n')
      .map((l) => /^\s*(\d+):d=(\d+)\s+hl=\d+\s+l=\s*\d+\s+(?:prim|cons):\s*(.*?)\s*(?::(.*))?$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => ({
        depth: Number(m[2]),
        kind: (m[3] ?? '').replace(/\s*\[HEX DUMP\]$/, ''),
        value: m[4] ?? '',
      }));
    const at = (depth: number, from = 0) => nodes.slice(from).filter((n) => n.depth === depth);
    // ContentInfo { GM/T 0010 signedData, [0] SignedData }
    expect(at(1)).toEqual([
      { depth: 1, kind: 'OBJECT', value: '1.2.156.10197.6.1.4.2.2' },
      { depth: 1, kind: 'cont [ 0 ]', value: '' },
    ]);
    // SignedData { version 1, digestAlgorithms, encapContentInfo, certificates [0], signerInfos }
    expect(at(3).map((n) => `${n.kind}${n.value}`)).toEqual([
      'INTEGER01',
      'SET',
      'SEQUENCE',
      'cont [ 0 ]',
      'SET',
    ]);
    const sm3 = execFileSync('openssl', ['dgst', '-sm3', '-binary', p('data')])
      .toString('hex')
      .toUpperCase();
    const encap = nodes.findIndex((n) => n.value === '1.2.156.10197.6.1.4.2.1');
    expect(nodes[encap - 2]).toMatchObject({ depth: 5, kind: 'OBJECT', value: 'sm3' });
    expect(nodes[encap]?.depth).toBe(4);
    expect(nodes[encap + 2]).toMatchObject({
      depth: 5,
      kind: 'OCTET STRING',
      value: Buffer.from(content).toString('hex').toUpperCase(),
    });
    // SignerInfo { version 1, issuerAndSerialNumber, SM3, [0] signedAttrs, sm2sign, signature }
    const infos = nodes.findLastIndex((n) => n.depth === 3 && n.kind === 'SET');
    const si = at(5, infos);
    expect(si.map((n) => `${n.kind}${n.value}`)).toEqual([
      'INTEGER01',
      'SEQUENCE',
      'SEQUENCE',
      'cont [ 0 ]',
      'SEQUENCE',
      `OCTET STRING${si[5]?.value ?? ''}`,
    ]);
    const tail = nodes.slice(infos);
    expect(tail.filter((n) => n.depth === 6 && n.kind === 'OBJECT').map((n) => n.value)).toEqual([
      'sm3',
      '1.2.156.10197.1.301.1',
    ]);
    // Signed attributes in DER (SET OF) order, each with its value.
    expect(tail.filter((n) => n.depth === 7 && n.kind === 'OBJECT').map((n) => n.value)).toEqual([
      'contentType',
      'signingTime',
      'messageDigest',
      'id-smime-aa-signingCertificateV2',
    ]);
    const attrsAt = tail.findIndex((n) => n.depth === 5 && n.kind === 'cont [ 0 ]');
    const values = tail.slice(attrsAt).filter((n) => n.depth === 8);
    expect(values[0]).toMatchObject({ kind: 'OBJECT', value: '1.2.156.10197.6.1.4.2.1' });
    expect(values[1]).toMatchObject({ kind: 'UTCTIME', value: '260301080000Z' });
    expect(values[2]).toMatchObject({ kind: 'OCTET STRING', value: sm3 });
    // The signature is an SM2Signature SEQUENCE { r INTEGER, s INTEGER }.
    const sig = Buffer.from(si[5]?.value ?? '', 'hex');
    writeFileSync(p('gm.sig'), sig);
    const sigNodes = openssl('asn1parse', '-inform', 'DER', '-in', p('gm.sig'));
    expect(sigNodes.match(/prim: INTEGER/g)).toHaveLength(2);
    expect(verifySignedData(cms, { policy }).failures).toEqual([]);
  });
});

describe('signed attribute control and addUnsignedAttribute', () => {
  it('extra attributes replace the defaults of the same type; omitted ones are absent', () => {
    const custom = { oid: CMS_OID.signingCertificateV2, values: [Uint8Array.of(0x30, 0x02, 0x30, 0x00)] };
    const cms = buildSignedData({
      content,
      eContentType: '1.2.840.113549.1.9.16.1.4',
      signers: [
        {
          signer: signerOf('p256'),
          certificate: certDer('p256'),
          extraSignedAttributes: [custom],
          omitSignedAttributes: [CMS_OID.signingTime],
        },
      ],
    });
    const s = parseSignedData(cms);
    expect(s.eContentType).toBe('1.2.840.113549.1.9.16.1.4');
    const attrs = s.signers[0]!.attributes;
    expect(attrs.has(CMS_OID.signingTime)).toBe(false);
    expect(Buffer.from(attrs.get(CMS_OID.signingCertificateV2)![0]!).toString('hex')).toBe('30023000');
    expect(verifySignedData(cms, { at: new Date() }).failures).toEqual([]);
    expect(() =>
      buildSignedData({
        content,
        signers: [
          {
            signer: signerOf('p256'),
            certificate: certDer('p256'),
            omitSignedAttributes: [CMS_OID.messageDigest],
          },
        ],
      }),
    ).toThrow(expect.objectContaining({ code: 'PKI_INVALID_ARGUMENT' }));
  });

  it('adds an unsigned attribute without disturbing the signature; openssl still verifies', () => {
    const cms = buildSignedData({
      content,
      signers: [{ signer: signerOf('rsa'), certificate: certDer('rsa') }],
    });
    // A private attribute type: timeStampToken values are checked as RFC 3161 tokens by verifySignedData.
    const UNSIGNED = '1.3.6.1.4.1.99999.1';
    const value = utf8String('未签名属性');
    const once = addUnsignedAttribute(cms, 0, { oid: UNSIGNED, values: [value] });
    const twice = addUnsignedAttribute(once, 0, { oid: UNSIGNED, values: [oid('1.2.3')] });
    const parsed = parseSignedData(twice);
    const vals = parsed.signers[0]!.unsignedAttributes.get(UNSIGNED);
    expect(vals).toHaveLength(2);
    expect(verifySignedData(twice).failures).toEqual([]);
    expect(opensslVerifies(twice, 'rsa', false)).toBe(true);
    try {
      addUnsignedAttribute(cms, 1, { oid: UNSIGNED, values: [value] });
      expect.unreachable();
    } catch (e) {
      expect(isPkiError(e, 'PKI_INVALID_ARGUMENT')).toBe(true);
    }
    expect(() =>
      addUnsignedAttribute(Uint8Array.of(0x30, 0x00), 0, { oid: '1.2.3', values: [value] }),
    ).toThrow(expect.objectContaining({ code: 'PKI_ASN1_INVALID' }));
  });

  it("rejects a signer whose key is not the certificate's", () => {
    expect(() =>
      buildSignedData({ content, signers: [{ signer: signerOf('rsa'), certificate: certDer('p256') }] }),
    ).toThrow(expect.objectContaining({ code: 'PKI_INVALID_ARGUMENT' }));
  });
});
