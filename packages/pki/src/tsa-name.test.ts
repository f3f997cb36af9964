import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childrenOf, scanDer, tlvBytes } from './der.js';
import { explicit, sequence } from './der-writer.js';
import { encodeGeneralName, type GeneralNameInput } from './extensions.js';
import { encodeName } from './name.js';
import { addUnsignedAttribute, buildSignedData } from './signed-data-builder.js';
import { CMS_OID, parseSignedData, verifySignedData } from './signed-data.js';
import { TestPki, type TestCertificate } from './testing/index.js';
import { TSP_OID, buildTstInfo } from './tst-info.js';
import { verifyTimeStampToken } from './tsp-verify.js';

/**
 * RFC 3161 §2.4.2: a TSTInfo tsa name that is not a directoryName is matched against the TSA certificate's
 * subjectAltName; `openssl ts -verify` (which checks the tsa name against subject and SAN) agrees.
 */
const dir = mkdtempSync(join(tmpdir(), 'pki-tsa-name-'));
const p = (f: string): string => join(dir, f);
const pki = new TestPki({ seed: 'tsa-name', kind: 'p256' });
const root = pki.root({ subject: { CN: '时间戳根CA' } });
const altDn = { O: '医证测试', CN: '时间戳服务别名' };
const tsa = root.tsa({
  extensions: {
    subjectAltName: [
      { dns: 'tsa.yizheng.example' },
      { email: 'tsa@yizheng.example' },
      { directoryName: altDn },
    ],
  },
});
const bare = root.tsa({ subject: { CN: '无SAN时间戳' } });
const data = new TextEncoder().encode('检验报告');
writeFileSync(p('data'), data);
writeFileSync(p('root.pem'), root.pem);

/** A token by `signer` whose TSTInfo names the TSA as `name` (a GeneralName DER), or not at all. */
function token(signer: TestCertificate, name: Uint8Array | undefined, over: Uint8Array = data): Uint8Array {
  const tst = buildTstInfo({
    policy: '1.2.156.112233.1',
    hash: 'sha256',
    hashedMessage: new Uint8Array(createHash('sha256').update(over).digest()),
    serialNumber: 7n,
    genTime: new Date(pki.now.getTime() + 3_600_000),
  });
  const fields = childrenOf(tst, scanDer(tst)).map((t) => tlvBytes(tst, t));
  const content = name === undefined ? tst : sequence(...fields, explicit(0, name));
  return buildSignedData({
    content,
    eContentType: TSP_OID.tstInfo,
    signers: [{ signer: signer.signer, certificate: signer.der, signingTime: pki.now }],
  });
}
const gn = (g: GeneralNameInput): Uint8Array => encodeGeneralName(g);
const ours = (t: Uint8Array) => verifyTimeStampToken({ token: t, data, trustAnchors: [root.cert] });
let n = 0;
const opensslAccepts = (t: Uint8Array): boolean => {
  const f = p(`t${n++}.der`);
  writeFileSync(f, t);
  const r = spawnSync('openssl', ['ts', '-verify', '-token_in', '-in', f, '-data', p('data'), '-CAfile', p('root.pem')]); // prettier-ignore
  return r.status === 0;
};
const tsaFailures = (t: Uint8Array) => ours(t).failures.filter((f) => f.check === 'tsaName');

describe('TSTInfo tsa name against the TSA certificate', () => {
  const cases: [string, TestCertificate, Uint8Array | undefined, boolean][] = [
    ['no tsa name', tsa, undefined, true],
    ['directoryName = subject', tsa, explicit(4, tsa.cert.subjectDer), true],
    ['directoryName = a SAN directoryName', tsa, explicit(4, encodeName(altDn)), true],
    ['dNSName in the SAN', tsa, gn({ dns: 'tsa.yizheng.example' }), true],
    ['rfc822Name in the SAN', tsa, gn({ email: 'tsa@yizheng.example' }), true],
    ['dNSName not in the SAN', tsa, gn({ dns: 'other.yizheng.example' }), false],
    ['URI (no URI in the SAN)', tsa, gn({ uri: 'https://tsa.yizheng.example/' }), false],
    ['directoryName of someone else', tsa, explicit(4, root.cert.subjectDer), false],
    ['dNSName, TSA certificate without SAN', bare, gn({ dns: 'tsa.yizheng.example' }), false],
  ];
  for (const [label, signer, name, ok] of cases) {
    it(`${label}: ${ok ? 'accepted' : 'PKI_TSP_CERT_BINDING'}, as openssl ts -verify says`, () => {
      const t = token(signer, name);
      const f = tsaFailures(t);
      expect(f.map((x) => x.code)).toEqual(ok ? [] : ['PKI_TSP_CERT_BINDING']);
      expect(ours(t).valid).toBe(ok);
      expect(opensslAccepts(t)).toBe(ok);
    });
  }

  it('dNSName and the mail domain compare case-insensitively (RFC 5280 §7.2, §7.5); the local part does not', () => {
    expect(tsaFailures(token(tsa, gn({ dns: 'TSA.Yizheng.EXAMPLE' })))).toEqual([]);
    expect(tsaFailures(token(tsa, gn({ email: 'tsa@YIZHENG.example' })))).toEqual([]);
    expect(tsaFailures(token(tsa, gn({ email: 'TSA@yizheng.example' }))).map((f) => f.code)).toEqual([
      'PKI_TSP_CERT_BINDING',
    ]);
  });
});

describe('CAdES-T: tsaExtKeyUsage through verifySignedData', () => {
  it("a signature timestamp whose TSA EKU is not critical fails 'strict' (default), passes 'lenient'", () => {
    const loose = root.tsa({
      subject: { CN: '非关键EKU时间戳' },
      extensions: { extKeyUsage: { purposes: ['timeStamping'], critical: false } },
    });
    const leaf = root.leaf();
    const cms = buildSignedData({ content: data, signers: [{ signer: leaf.signer, certificate: leaf.der }] });
    const signature = parseSignedData(cms).signers[0]!.signature;
    const stamped = addUnsignedAttribute(cms, 0, {
      oid: CMS_OID.timeStampToken,
      values: [token(loose, undefined, signature)],
    });
    const at = { trustAnchors: [root.cert] };
    const strict = verifySignedData(stamped, at);
    expect(strict.failures.map((f) => [f.code, f.check])).toEqual([['PKI_EKU', 'timeStamp[0].extKeyUsage']]);
    expect(verifySignedData(stamped, { ...at, tsaExtKeyUsage: 'strict' }).valid).toBe(false);
    const lenient = verifySignedData(stamped, { ...at, tsaExtKeyUsage: 'lenient' });
    expect(lenient.failures).toEqual([]);
    expect(lenient.signers[0]?.timeStamps[0]?.valid).toBe(true);
  });
});
