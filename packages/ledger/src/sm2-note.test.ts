/**
 * SM2 checkpoint signatures. The note signer/verifier is exercised with two SM2 implementations: the independent
 * `sm-crypto` library (always), and `@yizheng/gm` (the platform's own), crossing them so each verifies the other's
 * signatures.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { openCheckpoint, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { sm3LogHasher } from './node.js';
import {
  createSm2NoteSigner,
  createSm2NoteVerifier,
  SM2_NOTE_SIGNATURE_TYPE,
  sm2NoteKeyId,
  type Sm2NoteDeps,
  type SpkiKey,
} from './sm2-note.js';
import { expectCode } from './testing/expect-code.js';

interface SmCryptoSm2 {
  generateKeyPairHex(a?: string): { privateKey: string; publicKey: string };
  doSignature(msg: number[], privateKey: string, options: { hash: boolean; der: boolean }): string;
  doVerifySignature(
    msg: number[],
    sig: string,
    publicKey: string,
    options: { hash: boolean; der: boolean },
  ): boolean;
}
const smCrypto = createRequire(import.meta.url)('sm-crypto') as { sm2: SmCryptoSm2 };

/** SubjectPublicKeyInfo prefix for an uncompressed SM2 point (id-ecPublicKey, curve 1.2.156.10197.1.301). */
const SM2_SPKI_PREFIX = '3059301306072a8648ce3d020106082a811ccf5501822d034200';

class HexPublicKey implements SpkiKey {
  constructor(readonly hex: string) {}
  toSpki(): Uint8Array {
    return Uint8Array.from(Buffer.from(SM2_SPKI_PREFIX + this.hex, 'hex'));
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sm3 = (data: Uint8Array): Uint8Array => sm3LogHasher.hash(data);

/** `sm-crypto` behind the injected SM2 API (default user ID 1234567812345678, DER signatures). */
const smCryptoDeps: Sm2NoteDeps<string, HexPublicKey> = {
  sm3,
  sm2: {
    sign: (privateKey, message) =>
      Uint8Array.from(
        Buffer.from(smCrypto.sm2.doSignature([...message], privateKey, { hash: true, der: true }), 'hex'),
      ),
    verify: (publicKey, message, signature) =>
      smCrypto.sm2.doVerifySignature([...message], hex(signature), publicKey.hex, { hash: true, der: true }),
  },
};

const checkpoint: Checkpoint = {
  origin: 'yizheng.example-hospital.cn/log',
  size: 42,
  rootHash: sm3(new TextEncoder().encode('root')),
};

function smCryptoKey(name: string): {
  privateKey: string;
  publicKey: HexPublicKey;
  name: string;
} {
  const pair = smCrypto.sm2.generateKeyPairHex();
  return { name, privateKey: pair.privateKey, publicKey: new HexPublicKey(pair.publicKey) };
}

describe('SM2 note keys', () => {
  it('derive the key ID as SM3(name || 0x0A || 0xff || "yizheng-sm2" || SPKI)[:4]', () => {
    const spki = new HexPublicKey('04' + '11'.repeat(64)).toSpki();
    const expected = sm3(
      Uint8Array.from([...Buffer.from('log.example/key\n'), 0xff, ...Buffer.from('yizheng-sm2'), ...spki]),
    ).subarray(0, 4);
    expect(hex(sm2NoteKeyId(sm3, 'log.example/key', spki))).toBe(hex(expected));
    expect(SM2_NOTE_SIGNATURE_TYPE[0]).toBe(0xff);
    expectCode(() => sm2NoteKeyId(sm3, '', spki), 'LEDGER_BAD_ARGUMENT');
  });

  it('sign and verify checkpoints (sm-crypto as the SM2 engine)', () => {
    const key = smCryptoKey('log.yizheng.example/sm2');
    const note = signCheckpoint(checkpoint, [createSm2NoteSigner(smCryptoDeps, key)]);
    const verifier = createSm2NoteVerifier(smCryptoDeps, key);
    expect(openCheckpoint(note, [verifier]).checkpoint).toEqual(checkpoint);
    const other = smCryptoKey('log.yizheng.example/sm2');
    const forged = signCheckpoint(checkpoint, [
      { ...createSm2NoteSigner(smCryptoDeps, other), keyId: verifier.keyId },
    ]);
    expectCode(() => openCheckpoint(forged, [verifier]), 'LEDGER_CHECKPOINT_SIGNATURE');
    expectCode(
      () => openCheckpoint(note.replace('\n42\n', '\n43\n'), [verifier]),
      'LEDGER_CHECKPOINT_SIGNATURE',
    );
  });
});

// @yizheng/gm is written in parallel; when its Node entry does not load yet, this block reports itself skipped.
const gm = await import('@yizheng/gm').then(
  (m) => m,
  (e: unknown) => {
    console.warn(`@yizheng/gm did not load, skipping its SM2 note tests: ${String(e)}`);
    return undefined;
  },
);

describe.skipIf(gm === undefined)('SM2 note keys with @yizheng/gm', () => {
  it('gm signs, gm and sm-crypto verify; sm-crypto signs, gm verifies', () => {
    const { sm2 } = gm!;
    const deps = { sm2, sm3 };
    const pair = sm2.generateKeyPair();
    const name = 'log.yizheng.example/platform';
    const signer = createSm2NoteSigner(deps, { name, ...pair });
    const note = signCheckpoint(checkpoint, [signer]);
    expect(
      openCheckpoint(note, [createSm2NoteVerifier(deps, { name, publicKey: pair.publicKey })]).verifiedBy,
    ).toEqual([name]);

    // The same key seen by sm-crypto: the SPKI is the standard one, so the key IDs agree.
    const spkiHex = hex(pair.publicKey.toSpki());
    expect(spkiHex.startsWith(SM2_SPKI_PREFIX)).toBe(true);
    const asSmCrypto = new HexPublicKey(spkiHex.slice(SM2_SPKI_PREFIX.length));
    const smVerifier = createSm2NoteVerifier(smCryptoDeps, { name, publicKey: asSmCrypto });
    expect(hex(smVerifier.keyId)).toBe(hex(signer.keyId));
    expect(openCheckpoint(note, [smVerifier]).verifiedBy).toEqual([name]);

    const smKey = smCryptoKey(name);
    const smNote = signCheckpoint(checkpoint, [createSm2NoteSigner(smCryptoDeps, smKey)]);
    const gmPublic = sm2.importPublicKey(smKey.publicKey.toSpki());
    expect(
      openCheckpoint(smNote, [createSm2NoteVerifier(deps, { name, publicKey: gmPublic })]).verifiedBy,
    ).toEqual([name]);

    // Another gm key under the same name and key ID is rejected.
    const other = sm2.generateKeyPair();
    const forged = signCheckpoint(checkpoint, [
      { ...createSm2NoteSigner(deps, { name, ...other }), keyId: signer.keyId },
    ]);
    expectCode(
      () => openCheckpoint(forged, [createSm2NoteVerifier(deps, { name, publicKey: pair.publicKey })]),
      'LEDGER_CHECKPOINT_SIGNATURE',
    );
  });
});
