/**
 * The download-link purge job: rows of used one-time links expired longer than the grace period are deleted,
 * younger ones (and links not yet expired) are kept; the job is declared in the app's job manager.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustDb } from '../../ca/tables.js';
import { isoTime } from '../../context.js';
import { T0, tempDir, testApp, testConfig } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { purgeExpiredDownloadTokens } from './purge.js';

const HOUR = 3600_000;
const GRACE = 24 * HOUR;

describe.each(testDialects())('download-link purge on %s', (dialect) => {
  const tmp = tempDir('yz-dlp-');
  let tdb: TestDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    app = await testApp(testConfig(tdb.config, tmp.dir));
  });
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  const seed = async (rows: [string, number][]): Promise<void> => {
    const db = trustDb(app.db);
    await db.deleteFrom('download_tokens').execute();
    for (let i = 0; i < rows.length; i += 200) {
      await db
        .insertInto('download_tokens')
        .values(
          rows.slice(i, i + 200).map(([id, expires]) => ({
            token_id: id.padEnd(64, '-'),
            used_at: isoTime(expires - 10 * 60_000),
            expires_at: isoTime(expires),
          })),
        )
        .execute();
    }
  };
  const remaining = async (): Promise<string[]> =>
    (
      await trustDb(app.db).selectFrom('download_tokens').select('token_id').orderBy('token_id').execute()
    ).map((r) => r.token_id.slice(0, 2));

  it('deletes only links expired longer than the grace period', async () => {
    await seed([
      ['a1', T0 - GRACE - 2 * HOUR], // long expired: gone
      ['a2', T0 - GRACE - 1], // just past the grace period: gone
      ['b1', T0 - GRACE + HOUR], // expired, still within the grace period: kept
      ['b2', T0 + HOUR], // not yet expired: kept
    ]);
    const r = await purgeExpiredDownloadTokens({ db: app.db, now: T0, graceMs: GRACE });
    expect(r.deleted).toBe(2);
    expect(await remaining()).toEqual(['b1', 'b2']);
    // Idempotent: nothing left to delete.
    expect((await purgeExpiredDownloadTokens({ db: app.db, now: T0, graceMs: GRACE })).deleted).toBe(0);
  });

  it('deletes a backlog larger than one batch', async () => {
    await seed(
      Array.from(
        { length: 2500 },
        (_, i) => [`c${String(i).padStart(5, '0')}`, T0 - GRACE - HOUR - i] as [string, number],
      ),
    );
    const r = await purgeExpiredDownloadTokens({ db: app.db, now: T0, graceMs: GRACE });
    expect(r.deleted).toBe(2500);
    expect(await remaining()).toEqual([]);
  });

  it('is a job of the job manager that runs on request and records its count', async () => {
    expect(app.jobs.ids()).toContain('download-link-purge');
    await seed([
      ['d1', T0 - GRACE - HOUR],
      ['e1', T0],
    ]);
    const start = await app.jobs.runNow('download-link-purge');
    expect(start.status).toBe('started');
    if (start.status !== 'started') return;
    const run = await start.done;
    expect(run.outcome).toBe('succeeded');
    expect(run.counts).toEqual({ deleted: 1 });
    expect(await remaining()).toEqual(['e1']);
  });
});
