import { readFile, writeFile } from 'node:fs/promises';
import { UsageError, type Io } from './cli-error.js';

/** Reads a file (or stdin for '-'); a missing or unreadable file is a usage error (exit 2). */
export async function readInput(io: Io, path: string, what: string): Promise<Uint8Array> {
  if (path === '-') return io.stdin();
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Key files may be PEM (text) or DER (binary); hex text is accepted too. */
export async function readKeyFile(io: Io, path: string, what: string): Promise<Uint8Array | string> {
  const bytes = await readInput(io, path, what);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.includes('-----BEGIN ') || /^\s*[0-9a-fA-F]+\s*$/.test(text)) return text.trim();
  return bytes;
}

export async function writeOutput(path: string, data: Uint8Array | string, mode?: number): Promise<void> {
  try {
    await writeFile(path, data, mode === undefined ? undefined : { mode });
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

export function parseHexOption(value: string, what: string, bytes?: number): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(value)) throw new UsageError(`${what} must be hex`);
  const b = Uint8Array.from(Buffer.from(value, 'hex'));
  if (bytes !== undefined && b.length !== bytes)
    throw new UsageError(`${what} must be ${bytes} bytes (${bytes * 2} hex digits)`);
  return b;
}
