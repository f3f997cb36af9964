/** `yizheng strategy` on a SQLite data directory: create, list, show, update, delete, and the refusals. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-strategy-'));
const d = ['--data-dir', join(dir, 'data')];

describe('yizheng strategy', () => {
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, lists, shows, updates and deletes a strategy', async () => {
    expect((await cli('strategy', 'list', ...d)).out).toBe('no migration strategies\n');
    const c = await cli(
      'strategy',
      'create',
      '--name',
      '签名三年归档',
      '--kinds',
      'signature,file',
      '--age-days',
      '1095',
      '--retention-days',
      '30',
      '--window',
      '01:00-05:00',
      '--json',
      ...d,
    );
    expect(c.code, c.err).toBe(0);
    const s = JSON.parse(c.out) as { id: string; window: unknown; kinds: string[] };
    expect(s).toMatchObject({ kinds: ['signature', 'file'], window: { start: '01:00', end: '05:00' } });
    expect((await cli('strategy', 'list', ...d)).out).toContain('签名三年归档');
    expect((await cli('strategy', 'show', '签名三年归档', ...d)).out).toContain('older than 1095 d');
    const u = await cli(
      'strategy',
      'update',
      s.id,
      '--window',
      'none',
      '--disable',
      '--batch-size',
      '50',
      ...d,
    );
    expect(u.code, u.err).toBe(0);
    expect(u.out).toContain('disabled');
    expect(u.out).toContain('batch 50');
    expect(u.out).toContain('window any time');
    const del = await cli('strategy', 'delete', '签名三年归档', ...d);
    expect(del.out).toBe(`deleted ${s.id} 签名三年归档\n`);
  });

  it('refuses bad input with exit 2 and the error code', async () => {
    const base = ['strategy', 'create', '--name', 'x', '--kinds', 'digest'];
    expect((await cli(...base, ...d)).code).toBe(2);
    const kinds = await cli('strategy', 'create', '--name', 'x', '--kinds', 'nope', '--age-days', '1', ...d);
    expect(kinds.code).toBe(2);
    const big = await cli(...base, '--age-days', '1', '--batch-size', '99999', ...d);
    expect(big.code).toBe(2);
    expect(big.err).toContain('STRATEGY_INVALID');
    const tz = await cli(...base, '--age-days', '1', '--timezone', 'Nowhere/City', ...d);
    expect(tz.err).toContain('STRATEGY_INVALID');
    expect((await cli(...base, '--age-days', '1', '--window', '1-5', ...d)).code).toBe(2);
    const missing = await cli('strategy', 'show', 'none', ...d);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('STRATEGY_NOT_FOUND');
    expect((await cli('strategy', 'update', 'none', ...d)).code).toBe(2);
    expect((await cli('strategy', 'list', ...d)).out).toBe('no migration strategies\n');
  });
});
