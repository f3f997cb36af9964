/**
 * The pre-encoded token path (fast-req.ts, fast-reply.ts) against the reference (`parseTimeStampReq`,
 * `replyTimeStamp` of @yizheng/pki): the direct DER reader parses what the reference parses (and declines
 * the unusual), and a pre-encoded response equals the reference builder's byte for byte — RSA PKCS#1 v1.5 is
 * deterministic; SM2 and ECDSA signatures are randomised, so both builders sign through one signer that
 * answers the same bytes with the same signature, which makes any difference in what is signed visible.
 */
import {
  buildTimeStampReq,
  parseTimeStampReq,
  replyTimeStamp,
  type ParsedTimeStampReq,
  type Signer,
  type TspHash,
} from '@yizheng/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInternalCa, type InternalCa, type TsaAlgorithm } from '../../ca/internal-ca.js';
import { loadPlatformKey } from '../../crypto/platform-key.js';
import type { Db } from '../../db/connect.js';
import { openMigrated, T0 } from '../../testing/app.js';
import { createTestDatabase, type TestDatabase } from '../../testing/databases.js';
import { fastReply, fastReplyAsync, stampTemplate, takes } from './fast-reply.js';
import { readTimeStampReq } from './fast-req.js';

const KEK = new Uint8Array(16).fill(7);
const POLICY = '2.999.1.1';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Signs each distinct input once: the same bytes always get the same signature. */
function repeatable(signer: Signer): Signer {
  const seen = new Map<string, Uint8Array>();
  return {
    ...signer,
    sign: (data) => {
      const k = hex(data);
      let s = seen.get(k);
      if (s === undefined) {
        s = signer.sign(data);
        seen.set(k, s);
      }
      return s;
    },
  };
}

const requests: [string, Uint8Array][] = [
  ['sha256, nonce, certReq', buildTimeStampReq({ data: Buffer.from('a'), hash: 'sha256', nonce: true }).der],
  ['sm3, no nonce, certReq', buildTimeStampReq({ data: Buffer.from('b'), hash: 'sm3' }).der],
  [
    'sha512, policy, no certReq',
    buildTimeStampReq({ data: Buffer.from('c'), hash: 'sha512', policy: `${POLICY}.2`, certReq: false }).der,
  ],
  [
    'sha384, negative-looking nonce',
    buildTimeStampReq({ data: Buffer.from('d'), hash: 'sha384', nonce: 0x80n }).der,
  ],
  [
    'a 20-byte nonce',
    buildTimeStampReq({ data: Buffer.from('e'), hash: 'sha256', nonce: (1n << 159n) + 12345n }).der,
  ],
];

describe('pre-encoded TimeStampResp', () => {
  let tdb: TestDatabase;
  let db: Db;
  let ca: InternalCa;
  beforeAll(async () => {
    tdb = await createTestDatabase('sqlite');
    db = await openMigrated(tdb.config);
    const platformKey = await loadPlatformKey({ db: db.kysely, kek: KEK, now: T0 });
    ca = await loadInternalCa({
      db: db.kysely,
      kek: KEK,
      now: T0,
      platformKey,
      config: { unitName: '示例医院', tsaAlgorithms: ['sm2', 'rsa', 'p256'] },
    });
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it.each(requests)('the direct reader parses %s as the reference does', (_name, der) => {
    const ours = readTimeStampReq(der);
    expect(ours).toBeDefined();
    expect(ours).toEqual(parseTimeStampReq(der));
  });

  it('leaves unusual requests to the reference parser', () => {
    const base = buildTimeStampReq({ data: Buffer.from('x'), hash: 'sha256', nonce: 5n }).der;
    const trailing = Buffer.concat([base, Buffer.from([0])]);
    const longLength = Buffer.concat([Buffer.from([0x30, 0x81, base[1]!]), base.subarray(2)]); // not minimal
    const version2 = Buffer.from(base);
    version2[4] = 2;
    const falseCertReq = Buffer.from(base);
    falseCertReq[falseCertReq.length - 1] = 0x00; // certReq FALSE encoded: DER forbids a DEFAULT value
    for (const der of [
      trailing,
      longLength,
      version2,
      falseCertReq,
      Buffer.from([0x30, 0x00]),
      Buffer.alloc(0),
    ])
      expect(readTimeStampReq(der)).toBeUndefined();
  });

  it('refuses to take what the reference would reject', () => {
    const parsed = (h: TspHash, policy?: string): ParsedTimeStampReq =>
      parseTimeStampReq(
        buildTimeStampReq({ data: Buffer.from('y'), hash: h, ...(policy ? { policy } : {}) }).der,
      );
    expect(takes(parsed('sha256'), [POLICY])).toBe(true);
    expect(takes(parsed('sha1'), [POLICY])).toBe(false);
    expect(takes(parsed('sha256', '1.2.3.4'), [POLICY])).toBe(false);
    expect(takes({ ...parsed('sha256'), extensions: [{ oid: '1.2.3', critical: false }] }, [POLICY])).toBe(
      false,
    );
    expect(takes({ ...parsed('sha256'), hashedMessage: new Uint8Array(31) }, [POLICY])).toBe(false);
  });

  it.each(['rsa', 'sm2', 'p256'] as TsaAlgorithm[])(
    'equals the reference builder byte for byte (%s key)',
    (algorithm) => {
      const id = ca.tsa.get(algorithm)!;
      const signer = algorithm === 'rsa' ? id.signer : repeatable(id.signer);
      const identity = { signer, certificate: id.certificate, chain: id.chain };
      const template = stampTemplate(identity);
      let serial = 1000n;
      for (const [, der] of requests) {
        for (const genTime of [
          new Date(T0 + 123),
          new Date(T0),
          new Date(Date.UTC(2051, 0, 2, 3, 4, 5, 60)),
        ]) {
          serial += 1n;
          const request = readTimeStampReq(der)!;
          const accepted = [POLICY, `${POLICY}.2`];
          expect(takes(request, accepted)).toBe(true);
          const common = {
            serialNumber: serial,
            genTime,
            policy: POLICY,
            accuracy: { seconds: 1, millis: 500 },
          };
          const ours = fastReply(template, { request, ...common });
          const reference = replyTimeStamp({
            request: der,
            tsa: identity,
            acceptedPolicies: accepted,
            ...common,
          });
          expect(hex(ours)).toBe(hex(reference));
        }
      }
    },
  );

  it('signs off the event loop with the same bytes (RSA, deterministic)', async () => {
    const id = ca.tsa.get('rsa')!;
    expect(id.signAsync).toBeDefined();
    expect(ca.tsa.get('sm2')!.signAsync).toBeUndefined();
    const identity = { signer: id.signer, certificate: id.certificate, chain: id.chain };
    const template = stampTemplate(identity);
    const [, der] = requests[0]!;
    const request = readTimeStampReq(der)!;
    const common = { serialNumber: 77n, genTime: new Date(T0), policy: POLICY };
    const ours = await fastReplyAsync(template, { request, ...common }, id.signAsync!);
    expect(hex(ours)).toBe(hex(fastReply(template, { request, ...common })));
    expect(hex(ours)).toBe(hex(replyTimeStamp({ request: der, tsa: identity, ...common })));
  });
});
