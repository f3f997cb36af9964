import type { Command } from 'commander';
import { createHmacSm3, createSm3, toHex } from '@yizheng/gm';
import type { Io } from '../cli-error.js';
import { parseHexOption } from '../files.js';
import { createReadStream } from 'node:fs';
import { UsageError } from '../cli-error.js';

export function registerSm3(program: Command, io: Io): void {
  program
    .command('sm3')
    .description('SM3 digest (GB/T 32905) or HMAC-SM3 of a file, printed as hex')
    .argument('<file>', 'input file, - for stdin')
    .option('--hmac-key <hex>', 'compute HMAC-SM3 with this key')
    .action(async (file: string, o: { hmacKey?: string }) => {
      const h =
        o.hmacKey !== undefined ? createHmacSm3(parseHexOption(o.hmacKey, '--hmac-key')) : createSm3();
      if (file === '-') h.update(await io.stdin());
      else {
        try {
          for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
        } catch (e) {
          throw new UsageError(
            `cannot read input ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
          );
        }
      }
      io.out(`${toHex(h.digest())}\n`);
    });
}
