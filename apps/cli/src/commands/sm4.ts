import type { Command } from 'commander';
import { GmError, sm4Decrypt, sm4Encrypt, sm4Open, sm4Seal } from '@yizheng/gm';
import { EXIT, UsageError, type Io } from '../cli-error.js';
import { parseHexOption, readInput, writeOutput } from '../files.js';

type Mode = 'ecb' | 'cbc' | 'ctr' | 'gcm';

function mode(v: string): Mode {
  if (v !== 'ecb' && v !== 'cbc' && v !== 'ctr' && v !== 'gcm')
    throw new UsageError('--mode must be ecb, cbc, ctr or gcm');
  return v;
}

interface Sm4Options {
  key: string;
  in: string;
  out: string;
  mode: string;
  iv?: string;
  padding: boolean;
}

export function registerSm4(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program
    .command('sm4')
    .description(
      'SM4 (GB/T 32907). ecb/cbc/ctr match `openssl enc -sm4-*` (PKCS#7 padding, explicit --iv); ' +
        'gcm writes a sealed envelope (version ‖ random nonce ‖ ciphertext ‖ tag) for data at rest',
    );
  const common = (c: Command): Command =>
    c
      .requiredOption('--key <hex>', '128-bit key as 32 hex digits')
      .requiredOption('--in <file>', 'input, - for stdin')
      .requiredOption('--out <file>', 'output')
      .option('--mode <ecb|cbc|ctr|gcm>', 'mode', 'cbc')
      .option('--iv <hex>', 'IV for cbc/ctr (16 bytes)')
      .option('--no-padding', 'disable PKCS#7 padding (ecb/cbc)');

  common(cmd.command('encrypt').description('encrypt')).action(async (o: Sm4Options) => {
    const m = mode(o.mode);
    const key = parseHexOption(o.key, '--key', 16);
    const data = await readInput(io, o.in, 'input');
    const out = m === 'gcm' ? sm4Seal(key, data) : sm4Encrypt(m, key, data, options(m, o));
    await writeOutput(o.out, out);
  });

  common(cmd.command('decrypt').description('decrypt; exit 1 if padding or authentication fails')).action(
    async (o: Sm4Options) => {
      const m = mode(o.mode);
      const key = parseHexOption(o.key, '--key', 16);
      const data = await readInput(io, o.in, 'input');
      let out: Uint8Array;
      try {
        out = m === 'gcm' ? sm4Open(key, data) : sm4Decrypt(m, key, data, options(m, o));
      } catch (e) {
        if (e instanceof GmError && e.code !== 'GM_INVALID_ARGUMENT') {
          io.out(`invalid: ${e.code}: ${e.message}\n`);
          setExit(EXIT.INVALID);
          return;
        }
        throw e;
      }
      await writeOutput(o.out, out);
    },
  );
}

function options(m: Exclude<Mode, 'gcm'>, o: Sm4Options): { iv?: Uint8Array; padding?: boolean } {
  if (m === 'ecb') {
    if (o.iv !== undefined) throw new UsageError('ecb takes no --iv');
    return { padding: o.padding };
  }
  if (o.iv === undefined) throw new UsageError(`${m} needs --iv (32 hex digits)`);
  const iv = parseHexOption(o.iv, '--iv', 16);
  return m === 'ctr' ? { iv } : { iv, padding: o.padding };
}
