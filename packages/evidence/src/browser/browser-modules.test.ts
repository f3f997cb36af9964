/** The browser modules against Node's own: Buffer, node:net isIP, ECDSA DER → raw, the replay oracle. */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { isIP as nodeNetIsIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BufferPolyfill } from './buffer.js';
import { isIP } from './node-net.js';
import { ecdsaDerToRaw, ReplayOracle, runWithReplay } from './replay.js';

describe('browser Buffer', () => {
  it('encodes and decodes as Node does', () => {
    const bytes = Uint8Array.from([0, 1, 127, 128, 255, 0x2b, 0x2f]);
    for (const enc of ['hex', 'base64', 'base64url', 'latin1'] as const) {
      const s = BufferPolyfill.from(bytes).toString(enc);
      expect(s, enc).toBe(Buffer.from(bytes).toString(enc));
      expect([...BufferPolyfill.from(s, enc)], enc).toEqual([...bytes]);
    }
    expect(BufferPolyfill.from('医证', 'utf8').toString()).toBe('医证');
    expect(BufferPolyfill.from('0g', 'hex').length).toBe(0);
    expect(BufferPolyfill.concat([bytes, bytes]).length).toBe(14);
    expect(BufferPolyfill.from(bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(BufferPolyfill.compare(Uint8Array.of(1), Uint8Array.of(1, 0))).toBe(-1);
    const view = BufferPolyfill.from(bytes.buffer, 2, 3);
    expect([...view]).toEqual([127, 128, 255]);
    expect(BufferPolyfill.isBuffer(view)).toBe(true);
  });
});

describe('browser node:net', () => {
  it('isIP agrees with Node', () => {
    for (const s of [
      '10.0.0.1',
      '256.1.1.1',
      '::1',
      'fe80::1%eth0',
      '2001:db8::',
      'example.com',
      '1.2.3',
      ':::',
      '',
    ])
      expect(isIP(s), s).toBe(nodeNetIsIP(s));
  });
});

describe('replay oracle', () => {
  it('ECDSA DER → raw refuses non-minimal, negative and oversized integers', () => {
    expect(ecdsaDerToRaw(Uint8Array.of(0x30, 6, 2, 1, 1, 2, 1, 2), 32)?.subarray(30, 34)).toEqual(
      Uint8Array.of(0, 1, 0, 0),
    );
    expect(ecdsaDerToRaw(Uint8Array.of(0x30, 7, 2, 2, 0, 1, 2, 1, 2), 32)).toBeUndefined();
    expect(ecdsaDerToRaw(Uint8Array.of(0x30, 6, 2, 1, 0x80, 2, 1, 2), 32)).toBeUndefined();
    expect(ecdsaDerToRaw(Uint8Array.of(0x30, 6, 2, 1, 1, 2, 1, 2, 0), 32)).toBeUndefined();
  });

  it('answers RSA and ECDSA questions with WebCrypto; the settled pass stands on real answers', async () => {
    const data = new TextEncoder().encode('检查点');
    const cases = (['rsa', 'ec'] as const).map((type) => {
      const { publicKey, privateKey } =
        type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const signature = new Uint8Array(createSign('sha256').update(data).sign(privateKey));
      const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
      return { kind: type === 'rsa' ? ('rsa' as const) : ('ecdsa' as const), spki, signature };
    });
    const oracle = new ReplayOracle(globalThis.crypto.subtle);
    const ask = () =>
      cases.flatMap((c) => {
        const bad = c.signature.slice();
        bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
        return [
          oracle.verify({ kind: c.kind, hash: 'SHA-256', spki: c.spki, data, signature: c.signature }),
          oracle.verify({ kind: c.kind, hash: 'SHA-256', spki: c.spki, data, signature: bad }),
        ];
      });
    ask();
    expect(oracle.pending).toBe(4);
    await oracle.resolve();
    expect(ask()).toEqual([true, false, true, false]);
    expect(oracle.pending).toBe(0);
  });

  it('runWithReplay settles SHA-384 digests asked during a pass', async () => {
    const { createHash } = await import('./node-crypto.js');
    const out = await runWithReplay(globalThis.crypto.subtle, () =>
      Buffer.from(createHash('sha384').update('医证').digest()).toString('hex'),
    );
    expect(out).toBe((await import('node:crypto')).createHash('sha384').update('医证').digest('hex'));
    expect(() => createHash('sha384')).not.toThrow();
    expect(() => createHash('md5')).toThrow();
  });
});
