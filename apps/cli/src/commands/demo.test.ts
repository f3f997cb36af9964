/**
 * `yizheng demo --in-process` on a fresh SQLite data directory: a demo project and application, a test PKI, N
 * records (SM2 CMS + platform TSA timestamps, digests, files) through the signed API, every receipt valid, exit 0;
 * a second run creates a second demo project. Usage errors exit 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-demo-'));
const d = ['--data-dir', join(dir, 'data')];

const projectOf = (out: string): string => /demo project (DEMO-\d+)/.exec(out)?.[1] ?? '';

describe('yizheng demo', () => {
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes N records through the signed API of an in-process server; all receipts valid', async () => {
    const r = await cli('demo', '--in-process', '--records', '12', ...d);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/pushed 8 signatures .*, 3 digests, 1 files; 12\/12 receipts verify/);
    expect(r.out).toMatch(
      /evidence report: {2}GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/signatures\/\S+\/report/,
    );
    expect(r.out).toContain('yizheng verify PACKAGE.zip --root root.pem');

    const again = await cli('demo', '--in-process', '--records', '2', ...d);
    expect(again.code).toBe(0);
    expect(again.out).toContain('2/2 receipts verify');
    expect(projectOf(again.out)).not.toBe(projectOf(r.out));
    const list = await cli('project', 'list', '--json', ...d);
    const numbers = (JSON.parse(list.out) as { number: string }[]).map((p) => p.number);
    expect(numbers).toEqual(expect.arrayContaining([projectOf(r.out), projectOf(again.out)]));
  }, 120_000);

  it('usage errors exit 2: a bad --records, --url with --in-process, no server at --url', async () => {
    expect((await cli('demo', '--records', '0', ...d)).code).toBe(2);
    expect((await cli('demo', '--records', 'many', ...d)).code).toBe(2);
    expect((await cli('demo', '--in-process', '--url', 'http://127.0.0.1:1', ...d)).code).toBe(2);
    const down = await cli('demo', '--url', 'http://127.0.0.1:1', '--records', '1', ...d);
    expect(down.code).toBe(2);
    expect(down.err).toContain('no Yizheng server answers at http://127.0.0.1:1');
  });
});
