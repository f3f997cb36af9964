/**
 * Batch and asynchronous verification: on every engine the results equal those of `Sm2.verify` item by item
 * (with false where `verify` throws GM_INVALID_SIGNATURE_ENCODING), including signatures made by the openssl
 * CLI; the native engine's batch crosses into C once per chunk and its asynchronous form runs on the libuv
 * thread pool, leaving the event loop free.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { concat, utf8 } from '../bytes.js';
import { isGmError } from '../errors.js';
import { sm2 as defaultSm2 } from '../default-sm2.js';
import { sm2Instances, skipNative, nativeEngine } from '../testing/engines.js';
import { expectCode } from '../testing/expect-code.js';
import { hasOpenssl, OpensslDir } from '../testing/openssl.js';
import { seeded } from '../testing/seeded.js';
import { createSm2BatchVerify, type VerifyBatchItem } from './batch-verify.js';
import type { Sm2 } from './sm2.js';

function expected(sm2: Sm2, items: VerifyBatchItem[]): boolean[] {
  return items.map((it) => {
    try {
      return sm2.verify(it.publicKey, it.message, it.signature, { id: it.id, format: it.format });
    } catch (err) {
      if (isGmError(err, 'GM_INVALID_SIGNATURE_ENCODING')) return false;
      throw err;
    }
  });
}

/** A mixed batch: valid DER/raw, custom IDs, wrong message, wrong key, tampered and undecodable signatures. */
function mixedItems(sm2: Sm2, count: number, seed: number): VerifyBatchItem[] {
  const rnd = seeded(seed);
  const keys = Array.from({ length: 5 }, () => sm2.generateKeyPair());
  const items: VerifyBatchItem[] = [];
  for (let i = 0; i < count; i++) {
    const key = keys[i % keys.length]!;
    const message = rnd.bytes(rnd.int(80));
    const format = i % 3 === 0 ? 'raw' : 'der';
    const id = i % 4 === 0 ? '医证-ID' : undefined;
    const signature = sm2.sign(key.privateKey, message, { format, id });
    let item: VerifyBatchItem = { publicKey: key.publicKey, message, signature, format, id };
    switch (i % 9) {
      case 1:
        item = { ...item, message: concat(message, Uint8Array.of(0)) };
        break;
      case 2:
        item = { ...item, publicKey: keys[(i + 1) % keys.length]!.publicKey };
        break;
      case 3: {
        const t = signature.slice();
        t[t.length - 1]! ^= 1;
        item = { ...item, signature: t };
        break;
      }
      case 4:
        item = { ...item, signature: utf8('not a signature') };
        break;
      case 5:
        item = { ...item, id: 'other-id' };
        break;
    }
    items.push(item);
  }
  return items;
}

describe.each(sm2Instances().filter(([label]) => label !== 'js+pure-sm3'))(
  'batch verification (%s)',
  (label, sm2) => {
    const batch = createSm2BatchVerify(sm2);
    const items = mixedItems(sm2, 90, 7);
    const want = expected(sm2, items);

    it('verifyBatch equals verify item by item', () => {
      expect(want.filter(Boolean).length).toBeGreaterThan(20);
      expect(want.filter((v) => !v).length).toBeGreaterThan(20);
      expect(batch.verifyBatch(items)).toEqual(want);
      expect(batch.verifyBatch([])).toEqual([]);
    });

    it('verifyBatchAsync and verifyAsync give the same results', async () => {
      expect(await batch.verifyBatchAsync(items)).toEqual(want);
      for (let i = 0; i < 12; i++) {
        const it = items[i]!;
        if (i % 9 === 4) {
          await expect(batch.verifyAsync(it.publicKey, it.message, it.signature, it)).rejects.toMatchObject({
            code: 'GM_INVALID_SIGNATURE_ENCODING',
          });
        } else {
          expect(await batch.verifyAsync(it.publicKey, it.message, it.signature, it), `item ${i}`).toBe(
            want[i],
          );
        }
      }
    });

    it('GM_INVALID_ARGUMENT for a non-array or an item without a key', async () => {
      expectCode(() => batch.verifyBatch('x' as unknown as VerifyBatchItem[]), 'GM_INVALID_ARGUMENT');
      const broken = [{ ...items[0]!, publicKey: JSON.parse('{}') as VerifyBatchItem['publicKey'] }];
      expectCode(() => batch.verifyBatch(broken), 'GM_INVALID_ARGUMENT');
      await expect(batch.verifyBatchAsync(broken)).rejects.toMatchObject({ code: 'GM_INVALID_ARGUMENT' });
    });

    if (label === 'native') {
      it('3,000 items (several chunks, several pool threads) with 1-in-13 tampered', async () => {
        const key = sm2.generateKeyPair();
        const big: VerifyBatchItem[] = [];
        for (let i = 0; i < 3000; i++) {
          const message = utf8(`record ${i}`);
          const signature = sm2.sign(key.privateKey, message);
          big.push({ publicKey: key.publicKey, message: i % 13 === 0 ? utf8('forged') : message, signature });
        }
        const truth = big.map((_, i) => i % 13 !== 0);
        expect(batch.verifyBatch(big)).toEqual(truth);
        expect(await batch.verifyBatchAsync(big)).toEqual(truth);
      });

      it('the asynchronous batch leaves the event loop free while the pool verifies', async () => {
        const key = sm2.generateKeyPair();
        const one = Array.from({ length: 1000 }, (_, i) => {
          const message = utf8(`m${i}`);
          return { publicKey: key.publicKey, message, signature: sm2.sign(key.privateKey, message) };
        });
        let ticked = false;
        setTimeout(() => {
          ticked = true;
        }, 0);
        const r = await batch.verifyBatchAsync(one); // one chunk: no yield in TypeScript
        expect(ticked).toBe(true);
        expect(r.every(Boolean)).toBe(true);
      });
    }
  },
);

describe.skipIf(skipNative)('native engine batch entry points', () => {
  const eng = nativeEngine();

  it('length mismatches → GM_INVALID_ARGUMENT (sync and async)', async () => {
    const e = new Uint8Array(64);
    const rs = new Uint8Array(128);
    const pub = new Uint8Array(130);
    expect(eng.verifyBatch!(e, rs, pub)).toEqual(new Uint8Array(2));
    for (const [a, b, c] of [
      [e.subarray(1), rs, pub],
      [e, rs.subarray(64), pub],
      [e, rs, pub.subarray(1)],
      [e, rs, new Uint16Array(65) as unknown as Uint8Array],
    ] as const) {
      expectCode(() => eng.verifyBatch!(a, b, c), 'GM_INVALID_ARGUMENT');
      await expect(eng.verifyBatchAsync!(a, b, c)).rejects.toMatchObject({ code: 'GM_INVALID_ARGUMENT' });
    }
  });

  it('the package default `sm2` exposes verifyBatch, verifyBatchAsync and verifyAsync', async () => {
    const { privateKey, publicKey } = defaultSm2.generateKeyPair();
    const signature = defaultSm2.sign(privateKey, '出院小结');
    expect(defaultSm2.verifyBatch([{ publicKey, message: '出院小结', signature }])).toEqual([true]);
    expect(await defaultSm2.verifyBatchAsync([{ publicKey, message: '出院记录', signature }])).toEqual([
      false,
    ]);
    expect(await defaultSm2.verifyAsync(publicKey, '出院小结', signature)).toBe(true);
  });
});

describe.skipIf(skipNative || !hasOpenssl())('batch verification of openssl CLI signatures', () => {
  const dir = new OpensslDir();
  afterAll(() => dir.cleanup());

  it('verifyBatch(Async) accepts what `openssl pkeyutl -sign` made and rejects swapped messages', async () => {
    const sm2 = sm2Instances()[0]![1];
    const batch = createSm2BatchVerify(sm2);
    const items: VerifyBatchItem[] = [];
    for (let i = 0; i < 4; i++) {
      dir.run('genpkey', '-algorithm', 'SM2', '-out', `k${i}.pem`);
      dir.run('pkey', '-in', `k${i}.pem`, '-pubout', '-out', `p${i}.pem`);
      const message = utf8(`检验报告 ${i}`);
      dir.write(`m${i}`, message);
      dir.run(
        'pkeyutl',
        '-sign',
        '-rawin',
        '-digest',
        'sm3',
        '-pkeyopt',
        'distid:1234567812345678',
        '-inkey',
        `k${i}.pem`,
        '-in',
        `m${i}`,
        '-out',
        `s${i}`,
      );
      const publicKey = sm2.importPublicKey(dir.readText(`p${i}.pem`));
      items.push({ publicKey, message, signature: dir.read(`s${i}`) });
    }
    const swapped = items.map((it, i) => ({ ...it, message: items[(i + 1) % items.length]!.message }));
    expect(batch.verifyBatch([...items, ...swapped])).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(await batch.verifyBatchAsync(items)).toEqual([true, true, true, true]);
  });
});
