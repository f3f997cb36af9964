/** `yizheng stats rebuild` on a fresh SQLite data directory: the aggregates recomputed (none yet), and usage errors. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-stats-'));
const d = ['--data-dir', join(dir, 'data')];

describe('yizheng stats', () => {
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('rebuild recomputes the daily counts', async () => {
    const r = await cli('stats', 'rebuild', '--json', ...d);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ rows: 0, events: 0 });
    expect((await cli('stats', 'rebuild', ...d)).out).toBe(
      'statistics rebuilt: 0 records and API calls in 0 daily counts\n',
    );
  });

  it('an unknown option is a usage error', async () => {
    expect((await cli('stats', 'rebuild', '--nope', ...d)).code).not.toBe(0);
  });
});
