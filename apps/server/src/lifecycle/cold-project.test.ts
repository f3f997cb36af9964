/** Project deletion on the cold side: an unreachable cold database is NOT_READY (503), and nothing is deleted. */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../db/connect.js';
import { isYzError } from '../errors.js';
import { tempDir } from '../testing/app.js';
import { deleteColdProjectData } from './cold-project.js';
import { attachColdDatabase } from './read-through.js';

describe('deleteColdProjectData', () => {
  const tmp = tempDir('yz-cold-project-');
  afterAll(() => tmp.remove());

  it('is a no-op without a cold database, and NOT_READY when the cold database cannot be used', async () => {
    const hot = await openDatabase({ dialect: 'sqlite', file: join(tmp.dir, 'hot.db') });
    await migrateToLatest(hot.kysely);
    expect(await deleteColdProjectData(hot.kysely, 'prj_x')).toBe(0);

    const cold = await openDatabase({ dialect: 'sqlite', file: join(tmp.dir, 'cold.db') });
    await migrateToLatest(cold.kysely);
    attachColdDatabase(hot.kysely, cold.kysely);
    expect(await deleteColdProjectData(hot.kysely, 'prj_x')).toBe(0);
    await cold.close(); // still attached: the next deletion cannot reach it
    const e: unknown = await deleteColdProjectData(hot.kysely, 'prj_x').catch((x: unknown) => x);
    expect(isYzError(e) && e.code).toBe('NOT_READY');
    expect(isYzError(e) && e.statusCode).toBe(503);
    await hot.close();
  });
});
