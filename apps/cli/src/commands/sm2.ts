import type { Command } from 'commander';
import { GmError, sm2 } from '@yizheng/gm';
import { EXIT, UsageError, type Io } from '../cli-error.js';
import { readInput, readKeyFile, writeOutput } from '../files.js';

type SigFormat = 'der' | 'raw';
type CtFormat = 'c1c3c2' | 'c1c2c3' | 'asn1';

function sigFormat(v: string): SigFormat {
  if (v !== 'der' && v !== 'raw') throw new UsageError('--format must be der or raw');
  return v;
}

function ctFormat(v: string): CtFormat {
  if (v !== 'c1c3c2' && v !== 'c1c2c3' && v !== 'asn1')
    throw new UsageError('--format must be c1c3c2, c1c2c3 or asn1');
  return v;
}

/** Key import failures are input errors (exit 2), reported with the library's code. */
async function loadKey<T>(
  io: Io,
  path: string,
  what: string,
  parse: (k: Uint8Array | string) => T,
): Promise<T> {
  const raw = await readKeyFile(io, path, what);
  try {
    return parse(raw);
  } catch (e) {
    if (e instanceof GmError) throw new UsageError(`${what} ${path}: ${e.code}: ${e.message}`);
    throw e;
  }
}

export function registerSm2(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program.command('sm2').description('SM2 keys, signatures and encryption (GB/T 32918)');

  cmd
    .command('keygen')
    .description('generate an SM2 key pair (PKCS#8 PEM, as `openssl genpkey -algorithm SM2` writes)')
    .requiredOption('--out <file>', 'private key output (PEM, mode 0600)')
    .option('--pubout <file>', 'public key output (SPKI PEM)')
    .action(async (o: { out: string; pubout?: string }) => {
      const { privateKey, publicKey } = sm2.generateKeyPair();
      await writeOutput(o.out, privateKey.toPem(), 0o600);
      if (o.pubout) await writeOutput(o.pubout, publicKey.toPem());
      io.err(`wrote ${o.out}${o.pubout ? ` and ${o.pubout}` : ''}\n`);
    });

  cmd
    .command('sign')
    .description('sign a file with SM3withSM2 (Z computed with the user ID)')
    .requiredOption('--key <file>', 'private key (PKCS#8 or SEC1, PEM or DER, or hex)')
    .requiredOption('--in <file>', 'message file, - for stdin')
    .requiredOption('--out <file>', 'signature output')
    .option('--id <string>', 'signer ID', '1234567812345678')
    .option('--format <der|raw>', 'signature encoding', 'der')
    .action(async (o: { key: string; in: string; out: string; id: string; format: string }) => {
      const format = sigFormat(o.format);
      const key = await loadKey(io, o.key, 'private key', (k) => sm2.importPrivateKey(k));
      const msg = await readInput(io, o.in, 'input');
      await writeOutput(o.out, sm2.sign(key, msg, { id: o.id, format }));
    });

  cmd
    .command('verify')
    .description('verify an SM2 signature: prints "valid" (exit 0) or "invalid: <reason>" (exit 1)')
    .requiredOption('--pubkey <file>', 'public key (SPKI PEM or DER, or hex point)')
    .requiredOption('--in <file>', 'message file, - for stdin')
    .requiredOption('--sig <file>', 'signature file')
    .option('--id <string>', 'signer ID', '1234567812345678')
    .option('--format <der|raw>', 'signature encoding', 'der')
    .action(async (o: { pubkey: string; in: string; sig: string; id: string; format: string }) => {
      const format = sigFormat(o.format);
      const key = await loadKey(io, o.pubkey, 'public key', (k) => sm2.importPublicKey(k));
      const msg = await readInput(io, o.in, 'input');
      const sig = await readInput(io, o.sig, 'signature');
      let ok: boolean;
      try {
        ok = sm2.verify(key, msg, sig, { id: o.id, format });
      } catch (e) {
        if (e instanceof GmError) {
          io.out(`invalid: ${e.code}: ${e.message}\n`);
          setExit(EXIT.INVALID);
          return;
        }
        throw e;
      }
      if (ok) io.out('valid\n');
      else {
        io.out('invalid: GM_SIGNATURE_MISMATCH: the signature does not match the message, key and ID\n');
        setExit(EXIT.INVALID);
      }
    });

  cmd
    .command('encrypt')
    .description('SM2 public-key encryption (GB/T 32918.4)')
    .requiredOption('--pubkey <file>', 'recipient public key')
    .requiredOption('--in <file>', 'plaintext, - for stdin')
    .requiredOption('--out <file>', 'ciphertext output')
    .option(
      '--format <c1c3c2|c1c2c3|asn1>',
      'ciphertext layout (asn1 = GM/T 0009, as OpenSSL writes)',
      'c1c3c2',
    )
    .action(async (o: { pubkey: string; in: string; out: string; format: string }) => {
      const format = ctFormat(o.format);
      const key = await loadKey(io, o.pubkey, 'public key', (k) => sm2.importPublicKey(k));
      const pt = await readInput(io, o.in, 'input');
      if (pt.length === 0) throw new UsageError('SM2 cannot encrypt an empty input');
      await writeOutput(o.out, sm2.encrypt(key, pt, { format }));
    });

  cmd
    .command('decrypt')
    .description('SM2 decryption; exit 1 if the ciphertext is invalid or does not authenticate')
    .requiredOption('--key <file>', 'private key')
    .requiredOption('--in <file>', 'ciphertext, - for stdin')
    .requiredOption('--out <file>', 'plaintext output')
    .option('--format <c1c3c2|c1c2c3|asn1>', 'ciphertext layout', 'c1c3c2')
    .action(async (o: { key: string; in: string; out: string; format: string }) => {
      const format = ctFormat(o.format);
      const key = await loadKey(io, o.key, 'private key', (k) => sm2.importPrivateKey(k));
      const ct = await readInput(io, o.in, 'input');
      let pt: Uint8Array;
      try {
        pt = sm2.decrypt(key, ct, { format });
      } catch (e) {
        if (e instanceof GmError) {
          io.out(`invalid: ${e.code}: ${e.message}\n`);
          setExit(EXIT.INVALID);
          return;
        }
        throw e;
      }
      await writeOutput(o.out, pt, 0o600);
    });
}
