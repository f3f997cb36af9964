import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isStartupError } from '../startup-error.js';
import { tempDir } from '../testing/app.js';
import { loadOrCreateKek } from './kek.js';

const tmp = tempDir('yz-kek-');
afterAll(() => {
  tmp.remove();
});

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isStartupError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('key-encryption key file', () => {
  it('is generated once with mode 0600 (directories created), then read back unchanged', () => {
    const file = join(tmp.dir, 'sub', 'kek.key');
    const a = loadOrCreateKek(file);
    expect(a.created).toBe(true);
    expect(a.kek).toHaveLength(16);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^[0-9a-f]{32}\n$/);
    const b = loadOrCreateKek(file);
    expect(b.created).toBe(false);
    expect(b.kek).toEqual(a.kek);
  });

  it('KEK_INVALID: readable by others, malformed, or missing when generation is off', () => {
    const open = join(tmp.dir, 'open.key');
    writeFileSync(open, `${'ab'.repeat(16)}\n`, { mode: 0o644 });
    chmodSync(open, 0o644);
    expect(codeOf(() => loadOrCreateKek(open))).toBe('KEK_INVALID');
    const bad = join(tmp.dir, 'bad.key');
    writeFileSync(bad, 'not hex', { mode: 0o600 });
    expect(codeOf(() => loadOrCreateKek(bad))).toBe('KEK_INVALID');
    expect(codeOf(() => loadOrCreateKek(join(tmp.dir, 'absent.key'), { generate: false }))).toBe(
      'KEK_INVALID',
    );
  });
});
