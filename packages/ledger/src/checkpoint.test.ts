import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  formatCheckpoint,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseSignedNote,
  signCheckpoint,
  type Checkpoint,
  type NoteSigner,
  type NoteVerifier,
} from './checkpoint.js';
import { expectCode } from './testing/expect-code.js';

/**
 * Ed25519 note keys as C2SP signed-note defines them (type 0x01), built on node:crypto: an independent signature
 * scheme to exercise the note format, and the one the Go reference artefact below uses.
 */
function ed25519Verifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
    format: 'jwk',
  });
  return {
    name,
    keyId: ed25519KeyId(name, publicKey),
    verify: (message, signature) => verify(null, message, key, signature),
  };
}

function ed25519KeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return Uint8Array.from(
    createHash('sha256')
      .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([0x01]), publicKey]))
      .digest()
      .subarray(0, 4),
  );
}

/** A deterministic Ed25519 key from a one-byte seed pattern. */
function ed25519Key(name: string, seedByte: number): { signer: NoteSigner; verifier: NoteVerifier } {
  const pkcs8 = Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    Buffer.alloc(32, seedByte),
  ]);
  const privateKey: KeyObject = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = Uint8Array.from(Buffer.from(jwk.x!, 'base64url'));
  const verifier = ed25519Verifier(name, publicKey);
  return {
    verifier,
    signer: {
      name,
      keyId: verifier.keyId,
      sign: (message) => Uint8Array.from(sign(null, message, privateKey)),
    },
  };
}

const alice = ed25519Key('log.yizheng.example/alice', 1);
const bob = ed25519Key('log.yizheng.example/bob', 2);

const checkpoint: Checkpoint = {
  origin: 'yizheng.example-hospital.cn/log',
  size: 3141,
  rootHash: Uint8Array.from({ length: 32 }, (_, i) => i * 7),
};

describe('signed note format (C2SP signed-note)', () => {
  it('opens the Go sumdb/note reference note (golang.org/x/mod/sumdb/note example)', () => {
    // Verifier key "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW": 0x01 || Ed25519 key.
    const typeAndKey = Buffer.from('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64');
    expect(typeAndKey[0]).toBe(0x01);
    const verifier = ed25519Verifier('PeterNeumann', typeAndKey.subarray(1));
    expect(Buffer.from(verifier.keyId).toString('hex')).toBe('c74f20a3');
    const text =
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const note = `${text}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
    expect(openNote(note, [verifier])).toEqual({ text, verifiedBy: ['PeterNeumann'] });
    expectCode(() => openNote(note.replace('answer', 'Answer'), [verifier]), 'LEDGER_CHECKPOINT_SIGNATURE');
  });
});

describe('checkpoints', () => {
  it('formats the tlog-checkpoint body', () => {
    expect(formatCheckpoint(checkpoint)).toBe(
      `yizheng.example-hospital.cn/log\n3141\n${Buffer.from(checkpoint.rootHash).toString('base64')}\n`,
    );
  });

  it('round-trips through sign and open, with one or several signers, as string or bytes', () => {
    const note = signCheckpoint(checkpoint, [alice.signer]);
    expect(openCheckpoint(note, [alice.verifier])).toEqual({ checkpoint, verifiedBy: [alice.signer.name] });
    const both = signCheckpoint({ ...checkpoint, extensions: ['Timestamp: 1700000000'] }, [
      alice.signer,
      bob.signer,
    ]);
    const opened = openCheckpoint(new TextEncoder().encode(both), [bob.verifier, alice.verifier]);
    expect(opened.verifiedBy).toEqual([alice.signer.name, bob.signer.name]);
    expect(opened.checkpoint.extensions).toEqual(['Timestamp: 1700000000']);
    expect(parseSignedNote(both).signatures.map((s) => s.name)).toEqual([alice.signer.name, bob.signer.name]);
    // Unknown keys are ignored as long as one trusted key verifies.
    expect(openCheckpoint(both, [bob.verifier]).verifiedBy).toEqual([bob.signer.name]);
  });

  it('checks the origin when asked to', () => {
    const note = signCheckpoint(checkpoint, [alice.signer]);
    expect(openCheckpoint(note, [alice.verifier], { origin: checkpoint.origin }).checkpoint.size).toBe(3141);
    expectCode(
      () => openCheckpoint(note, [alice.verifier], { origin: 'other.example/log' }),
      'LEDGER_CHECKPOINT_INVALID',
    );
  });

  it('rejects a signature by another key', () => {
    const forged: NoteSigner = { ...bob.signer, name: alice.signer.name, keyId: alice.signer.keyId };
    const note = signCheckpoint(checkpoint, [forged]);
    expectCode(() => openCheckpoint(note, [alice.verifier]), 'LEDGER_CHECKPOINT_SIGNATURE');
    // Signed only by a key the verifier does not know.
    expectCode(
      () => openCheckpoint(signCheckpoint(checkpoint, [bob.signer]), [alice.verifier]),
      'LEDGER_CHECKPOINT_SIGNATURE',
    );
    // Same name, other key ID: an unknown key, ignored, so nothing trusted verified.
    const otherId: NoteSigner = { ...bob.signer, name: alice.signer.name };
    expectCode(
      () => openCheckpoint(signCheckpoint(checkpoint, [otherId]), [alice.verifier]),
      'LEDGER_CHECKPOINT_SIGNATURE',
    );
    // A known key whose signature fails rejects the note even if another signature is good.
    const forgedBob: NoteSigner = { ...alice.signer, name: bob.signer.name, keyId: bob.signer.keyId };
    const mixed = signCheckpoint(checkpoint, [alice.signer, forgedBob]);
    expect(openCheckpoint(mixed, [alice.verifier]).verifiedBy).toEqual([alice.signer.name]);
    expectCode(() => openCheckpoint(mixed, [alice.verifier, bob.verifier]), 'LEDGER_CHECKPOINT_SIGNATURE');
    // Two signature lines by the same key are malformed.
    expectCode(
      () => openCheckpoint(signCheckpoint(checkpoint, [alice.signer, forged]), [alice.verifier]),
      'LEDGER_CHECKPOINT_INVALID',
    );
  });

  it('rejects a tampered size, root or origin', () => {
    const note = signCheckpoint(checkpoint, [alice.signer]);
    for (const changed of [note.replace('\n3141\n', '\n3142\n'), note.replace('yizheng.', 'yizhenG.')]) {
      expectCode(() => openCheckpoint(changed, [alice.verifier]), 'LEDGER_CHECKPOINT_SIGNATURE');
    }
    const root = Buffer.from(checkpoint.rootHash).toString('base64');
    const other = Buffer.from(checkpoint.rootHash.map((b) => b ^ 1)).toString('base64');
    expectCode(
      () => openCheckpoint(note.replace(root, other), [alice.verifier]),
      'LEDGER_CHECKPOINT_SIGNATURE',
    );
  });

  const note = signCheckpoint(checkpoint, [alice.signer]);
  const [body, sigBlock] = note.split('\n\n') as [string, string];
  const rootB64 = Buffer.from(checkpoint.rootHash).toString('base64');
  const sigB64 = sigBlock.slice(sigBlock.lastIndexOf(' ') + 1, -1);

  // Each malformed variant, and the code it must be rejected with when opened with a trusted verifier.
  it.each<[string, string | Uint8Array]>([
    ['no trailing newline', note.slice(0, -1)],
    ['no blank line', note.replace('\n\n', '\n')],
    ['no signature lines', `${body}\n\n`],
    ['empty note', ''],
    ['only a blank line', '\n\n'],
    ['hyphen instead of em dash', note.replace('—', '-')],
    ['no space after the em dash', note.replace('— ', '—')],
    ['two spaces before the signature', note.replace(` ${sigB64}`, `  ${sigB64}`)],
    ['key name with a plus', note.replace('log.yizheng', 'log+yizheng')],
    [
      'non-canonical base64 signature',
      note.replace(sigB64, sigB64.slice(0, -1) + (sigB64.endsWith('=') ? '' : '=')),
    ],
    ['signature shorter than a key ID', note.replace(sigB64, 'AAAAAA==')],
    [
      'signature with whitespace in base64',
      note.replace(sigB64, `${sigB64.slice(0, 8)}\t${sigB64.slice(8)}`),
    ],
    ['duplicate signature line', `${note}${sigBlock.slice(0, sigBlock.indexOf('\n') + 1)}`],
    ['carriage return line endings', note.replaceAll('\n', '\r\n')],
    ['a control character in the body', note.replace('3141', '31\u000741')],
    ['a lone surrogate', note.replace('yizheng', 'yi\ud800zheng')],
    ['invalid UTF-8 bytes', Uint8Array.from([...Buffer.from(note)].map((b, i) => (i === 2 ? 0xff : b)))],
    ['too large', `${'x'.repeat(300 * 1024)}\n${note}`],
    [
      'too many signatures',
      `${body}\n\n${Array.from({ length: 65 }, (_, i) => `— k${i} ${sigB64}\n`).join('')}`,
    ],
  ])('rejects a malformed note: %s', (_name, text) => {
    expectCode(() => openCheckpoint(text, [alice.verifier]), 'LEDGER_CHECKPOINT_INVALID');
  });

  // Malformed bodies, each signed correctly so that only the body check can reject them.
  it.each<[string, string]>([
    ['empty origin', `\n3141\n${rootB64}\n`],
    ['missing root line', `${checkpoint.origin}\n3141\n`],
    ['size with a leading zero', `${checkpoint.origin}\n03141\n${rootB64}\n`],
    ['size with a sign', `${checkpoint.origin}\n+3141\n${rootB64}\n`],
    ['size in hex', `${checkpoint.origin}\n0xc45\n${rootB64}\n`],
    ['size with a space', `${checkpoint.origin}\n3141 \n${rootB64}\n`],
    ['size beyond 2^53', `${checkpoint.origin}\n9007199254740993\n${rootB64}\n`],
    [
      'root hash in base64url',
      `${checkpoint.origin}\n3141\n${Buffer.from(checkpoint.rootHash).toString('base64url')}\n`,
    ],
    ['root hash without padding', `${checkpoint.origin}\n3141\n${rootB64.replace(/=+$/, '')}\n`],
    ['root hash of 31 bytes', `${checkpoint.origin}\n3141\n${Buffer.alloc(31).toString('base64')}\n`],
    ['root hash of 33 bytes', `${checkpoint.origin}\n3141\n${Buffer.alloc(33).toString('base64')}\n`],
    ['non-canonical trailing bits', `${checkpoint.origin}\n3141\n${rootB64.slice(0, -2)}B=\n`],
    ['empty extension line', `${checkpoint.origin}\n3141\n${rootB64}\n\nx\n`],
    ['too many extension lines', `${checkpoint.origin}\n3141\n${rootB64}\n${'ext\n'.repeat(65)}`],
  ])('rejects a malformed checkpoint body: %s', (_name, text) => {
    const signed = `${text}\n— ${alice.signer.name} ${Buffer.concat([alice.signer.keyId, alice.signer.sign(new TextEncoder().encode(text))]).toString('base64')}\n`;
    expectCode(() => openCheckpoint(signed, [alice.verifier]), 'LEDGER_CHECKPOINT_INVALID');
    expectCode(() => parseCheckpoint(text), 'LEDGER_CHECKPOINT_INVALID');
  });

  it('refuses to format an invalid checkpoint', () => {
    expectCode(() => formatCheckpoint({ ...checkpoint, origin: '' }), 'LEDGER_CHECKPOINT_INVALID');
    expectCode(() => formatCheckpoint({ ...checkpoint, origin: 'a\nb' }), 'LEDGER_CHECKPOINT_INVALID');
    expectCode(() => formatCheckpoint({ ...checkpoint, size: -1 }), 'LEDGER_CHECKPOINT_INVALID');
    expectCode(() => formatCheckpoint({ ...checkpoint, size: 2 ** 53 }), 'LEDGER_CHECKPOINT_INVALID');
    expectCode(
      () => formatCheckpoint({ ...checkpoint, rootHash: new Uint8Array(20) }),
      'LEDGER_CHECKPOINT_INVALID',
    );
    expectCode(() => formatCheckpoint({ ...checkpoint, extensions: [''] }), 'LEDGER_CHECKPOINT_INVALID');
  });

  it('refuses bad signers', () => {
    expectCode(() => signCheckpoint(checkpoint, []), 'LEDGER_BAD_ARGUMENT');
    expectCode(
      () => signCheckpoint(checkpoint, [{ ...alice.signer, name: 'has space' }]),
      'LEDGER_BAD_ARGUMENT',
    );
    expectCode(
      () => signCheckpoint(checkpoint, [{ ...alice.signer, keyId: new Uint8Array(3) }]),
      'LEDGER_BAD_ARGUMENT',
    );
    expectCode(
      () => signCheckpoint(checkpoint, [{ ...alice.signer, sign: () => new Uint8Array(0) }]),
      'LEDGER_BAD_ARGUMENT',
    );
  });

  it('a verifier that throws counts as a failed signature', () => {
    const throwing: NoteVerifier = {
      ...alice.verifier,
      verify: () => {
        throw new Error('malformed DER');
      },
    };
    expectCode(() => openCheckpoint(note, [throwing]), 'LEDGER_CHECKPOINT_SIGNATURE');
  });
});
