/** `yizheng migrate-history status` over a data directory holding a task (written through the server's tables). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { progressBar } from './migrate-history.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-hist-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await run(argv, {
    out: (s) => (out += s),
    err: () => undefined,
    stdin: () => Promise.resolve(new Uint8Array()),
  });
  return { code, out };
}

describe('yizheng migrate-history status', () => {
  it('draws a bar', () => {
    expect(progressBar(0, 10, 10)).toBe('[----------]   0%');
    expect(progressBar(5, 10, 10)).toBe('[#####-----]  50%');
    expect(progressBar(10, 10, 10)).toBe('[##########] 100%');
    expect(progressBar(3, null, 4)).toBe('[----]    ?');
  });

  it('says when there is nothing, then shows a task with its progress', async () => {
    expect(await cli('migrate-history', 'status', '--data-dir', dataDir)).toEqual({
      code: 0,
      out: 'no history migration tasks\n',
    });
    const db = new Database(join(dataDir, 'yizheng.db'));
    db.prepare(
      `INSERT INTO history_tasks (id, source_id, app_id, level, window_start, window_end, rows_per_second, batch_size, status, cursor, total, migrated, duplicates, failed, last_error, created_at, updated_at)
       VALUES ('htask_1', 'hsrc_1', 'app_1', 'signature', '01:00', '05:00', 500, 200, 'running', '750', 1000, 700, 0, 50, NULL, '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z')`,
    ).run();
    db.close();
    const r = await cli('migrate-history', 'status', '--data-dir', dataDir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      `htask_1  running   [${'#'.repeat(23)}${'-'.repeat(7)}]  75%  750/1000  migrated 700`,
    );
    expect(r.out).toContain('failed 50  level signature  window 01:00–05:00');
  });
});
