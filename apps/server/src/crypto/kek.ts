/**
 * The key-encryption key (KEK): 16 bytes (an SM4 key) kept outside the database, in a file given by
 * YIZHENG_KEK_FILE (default `<dataDir>/kek.key`) as 32 hex digits. If the file does not exist it is generated
 * on first start with mode 0600, fsynced with its directory. An existing file readable by group or others is
 * refused, like ssh refuses a private key with open permissions.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StartupError } from '../startup-error.js';

export const KEK_BYTES = 16;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function loadOrCreateKek(
  file: string,
  options: { generate?: boolean } = {},
): { kek: Uint8Array; created: boolean } {
  let created = false;
  try {
    statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StartupError(
        'KEK_INVALID',
        `cannot read KEK file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
    if (options.generate === false) throw new StartupError('KEK_INVALID', `KEK file ${file} does not exist`);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, `${randomBytes(KEK_BYTES).toString('hex')}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      fsyncDir(dirname(file));
      created = true;
    } catch (e2) {
      // Another process created it first: read theirs.
      if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StartupError(
          'KEK_INVALID',
          `cannot create KEK file ${file}: ${(e2 as NodeJS.ErrnoException).code ?? String(e2)}`,
        );
      }
    }
  }
  const st = statSync(file);
  if ((st.mode & 0o077) !== 0) {
    throw new StartupError(
      'KEK_INVALID',
      `KEK file ${file} has mode ${(st.mode & 0o777).toString(8)}: it must not be readable by group or others (chmod 600)`,
    );
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-fA-F]{32}$/.test(text))
    throw new StartupError('KEK_INVALID', `KEK file ${file} must hold 32 hex digits`);
  return { kek: new Uint8Array(Buffer.from(text, 'hex')), created };
}
