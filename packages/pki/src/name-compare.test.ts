/**
 * RFC 5280 §7.1 / RFC 4518 name matching on Names made by the openssl CLI in different string types
 * (PrintableString under string_mask=default, UTF8String under utf8only), cases and spacings; the chaining
 * cases of NIST PKITS §4.3 run in pkits.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from './certificate.js';
import { tlv } from './der-writer.js';
import { childrenOf, scanDer, tlvBytes } from './der.js';
import { namesMatch, prepareString } from './name-compare.js';
import { opensslWorkdir } from './testing/openssl.js';

const w = opensslWorkdir('pki-names');
for (const mask of ['default', 'utf8only'])
  writeFileSync(w.path(`${mask}.cnf`), `[req]\ndistinguished_name=dn\nstring_mask=${mask}\n[dn]\n`);
w.run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'k.pem');

let n = 0;
/** The subject DER of a self-signed certificate made by openssl with `subj` under `mask`. */
function subject(subj: string, mask: 'default' | 'utf8only', ...extra: string[]): Uint8Array {
  const out = `c${n++}.der`;
  w.run('req', '-x509', '-new', '-key', 'k.pem', '-config', `${mask}.cnf`, '-subj', subj, '-days', '1',
    '-outform', 'DER', '-out', out, ...extra); // prettier-ignore
  return parseCertificate(w.read(out)).subjectDer;
}

const printable = subject('/C=CN/O=Example  Hospital/CN=Root CA', 'default');

describe('namesMatch', () => {
  it('openssl wrote the reference name as PrintableString', () => {
    expect(Buffer.from(printable).includes(Buffer.from([0x13, 17]))).toBe(true);
  });

  it('PrintableString matches the same text as UTF8String, ignoring case and insignificant spaces', () => {
    const utf8 = subject('/C=CN/O= example hospital /CN=ROOT CA', 'utf8only');
    expect(Buffer.from(utf8).includes(Buffer.from([0x0c, 18]))).toBe(true);
    expect(Buffer.compare(utf8, printable)).not.toBe(0);
    expect(namesMatch(printable, utf8)).toBe(true);
    expect(namesMatch(utf8, printable)).toBe(true);
  });

  it('Chinese UTF-8 names: equal text matches, one different character does not', () => {
    const a = subject('/C=CN/O=某某医院/CN=医生张三', 'utf8only', '-utf8');
    const b = subject('/C=CN/O=某某医院 /CN=医生张三', 'utf8only', '-utf8');
    const c = subject('/C=CN/O=某某医院/CN=医生张四', 'utf8only', '-utf8');
    expect(namesMatch(a, b)).toBe(true);
    expect(namesMatch(a, c)).toBe(false);
  });

  it('multi-valued RDNs match as sets; RDN order, values, types and counts still matter', () => {
    const ab = subject('/O=Example Hospital/OU=IT+CN=Root CA', 'utf8only', '-multivalue-rdn');
    // openssl sorts the SET (DER); the same RDN with its two values the other way round (BER order):
    const [o, rdn] = childrenOf(ab, scanDer(ab));
    const [x, y] = rdn ? childrenOf(ab, rdn) : [];
    if (!o || !x || !y) throw new Error('unexpected openssl name');
    const ba = tlv(0x30, tlvBytes(ab, o), tlv(0x31, tlvBytes(ab, y), tlvBytes(ab, x)));
    expect(Buffer.compare(ab, ba)).not.toBe(0);
    expect(namesMatch(ab, ba)).toBe(true);
    expect(
      namesMatch(ab, subject('/O=example hospital/CN=ROOT CA+OU=it', 'default', '-multivalue-rdn')),
    ).toBe(true);
    const differs = [
      subject('/CN=Root CA/O=Example Hospital/C=CN', 'default'), // RDNs reversed
      subject('/C=CN/O=Example Hospita/CN=Root CA', 'default'), // another value
      subject('/C=CN/OU=Example Hospital/CN=Root CA', 'default'), // another attribute type
      subject('/C=CN/O=Example Hospital/CN=Root CA/CN=x', 'default'), // one RDN more
      subject('/C=CN/O=ExampleHospital/CN=Root CA', 'default'), // an inner space is significant
    ];
    for (const d of differs) expect(namesMatch(printable, d)).toBe(false);
  });

  it('values that are not strings compare byte for byte; malformed names match only themselves', () => {
    const octets = (v: number): Uint8Array =>
      new Uint8Array([0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x04, 0x01, v]);
    expect(namesMatch(octets(0x41), octets(0x61))).toBe(false); // OCTET STRING 'A' vs 'a'
    expect(namesMatch(octets(0x41), octets(0x41))).toBe(true);
    const broken = new Uint8Array([0x30, 0x05, 0x31, 0x03, 0x30, 0x01]);
    expect(namesMatch(broken, new Uint8Array(broken))).toBe(true);
    expect(namesMatch(broken, printable)).toBe(false);
  });
});

describe('prepareString (RFC 4518)', () => {
  it('maps, normalises, folds case and handles insignificant space', () => {
    expect(prepareString('  Root\t\u00a0CA  ')).toBe('root ca');
    expect(prepareString('Ｒｏｏｔ')).toBe('root'); // NFKC: fullwidth forms
    expect(prepareString('so\u00adft\u200bhy')).toBe('softhy'); // mapped to nothing
    expect(prepareString('ÉCOLE')).toBe(prepareString('e\u0301cole'));
    expect(prepareString('医生 张三')).toBe('医生 张三');
  });
});
