/**
 * The server's Merkle log on every available database: sequencing inside the caller's transaction, integration,
 * signed checkpoints, proofs checked with `@yizheng/ledger`'s verifier, and the entry check used by `verify`.
 */
import { createHash } from 'node:crypto';
import { sm2 } from '@yizheng/gm';
import { openCheckpoint, verifyConsistency, verifyInclusion } from '@yizheng/ledger';
import { sha256LogHasher, sm3LogHasher } from '@yizheng/ledger/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCount, type Db } from '../db/connect.js';
import type { PlatformKey } from '../crypto/platform-key.js';
import { isYzError, type ErrorCode } from '../errors.js';
import { isStartupError } from '../startup-error.js';
import { openMigrated, T0 } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import {
  appendLeaves,
  checkpointAt,
  checkpointVerifier,
  initLog,
  integrateAll,
  integrateBatch,
  latestCheckpoint,
  proveConsistency,
  proveInclusion,
  publishCheckpoint,
  verifyLogEntry,
} from './index.js';
import { seeded } from '../testing/seeded.js';

const ORIGIN = 'test.yizheng/log';
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const entryOf = (i: number): Uint8Array => utf8(`entry-${i}-${'x'.repeat(i % 7)}`);

/** RFC 9162 §2.1.1 written out directly (independent of the ledger's tree code). */
function referenceRoot(entries: readonly Uint8Array[], alg: 'sm3' | 'sha256'): Uint8Array {
  const h = (d: Uint8Array): Uint8Array => Uint8Array.from(createHash(alg).update(d).digest());
  const mth = (leaves: readonly Uint8Array[]): Uint8Array => {
    if (leaves.length === 1) return h(Uint8Array.from([0, ...leaves[0]!]));
    let k = 1;
    while (k * 2 < leaves.length) k *= 2;
    return h(Uint8Array.from([1, ...mth(leaves.slice(0, k)), ...mth(leaves.slice(k))]));
  };
  return entries.length === 0 ? h(new Uint8Array(0)) : mth(entries);
}

async function expectYz(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(isYzError(err) ? err.code : err).toBe(code);
}

/** Appends `entries` in transactions of the given sizes; returns the first index of each. */
async function appendInBatches(db: Db, entries: readonly Uint8Array[], sizes: readonly number[]) {
  const firsts: number[] = [];
  let at = 0;
  for (const size of sizes) {
    const batch = entries.slice(at, at + size);
    firsts.push(await db.kysely.transaction().execute((trx) => appendLeaves(trx, batch)));
    at += size;
  }
  return firsts;
}

function randomSplit(total: number, rnd: () => number, max: number): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const s = Math.min(left, 1 + Math.floor(rnd() * max));
    sizes.push(s);
    left -= s;
  }
  return sizes;
}

describe.each(testDialects())('Merkle log on %s', (dialect) => {
  const dbs: TestDatabase[] = [];
  const opened: Db[] = [];
  const key: PlatformKey = (() => {
    const pair = sm2.generateKeyPair();
    return { privateKey: pair.privateKey, publicKey: pair.publicKey };
  })();
  const verifier = checkpointVerifier(key.publicKey, ORIGIN);

  async function freshLog(hash: 'sm3' | 'sha256' = 'sm3'): Promise<{ tdb: TestDatabase; db: Db }> {
    const tdb = await createTestDatabase(dialect);
    dbs.push(tdb);
    const db = await openMigrated(tdb.config);
    opened.push(db);
    await initLog(db.kysely, { hash, origin: ORIGIN });
    return { tdb, db };
  }
  /**
   * A second connection pool on the same database: another server process, as far as locking goes. Not for
   * SQLite: better-sqlite3 waits for a lock synchronously, so two connections in ONE process would block each
   * other's event loop; there the one connection serialises the concurrent transactions.
   */
  async function secondProcess(tdb: TestDatabase, first: Db): Promise<Db> {
    if (dialect === 'sqlite') return first;
    const db = await openMigrated(tdb.config);
    opened.push(db);
    return db;
  }
  afterAll(async () => {
    for (const db of opened) await db.close();
    for (const tdb of dbs) await tdb.drop();
  });

  describe('sequencing, integration, checkpoints and proofs', () => {
    let db: Db;
    const entries = Array.from({ length: 300 }, (_, i) => entryOf(i));
    beforeAll(async () => {
      ({ db } = await freshLog('sm3'));
    });

    it('before anything is logged: no checkpoint, proofs refused with stable codes', async () => {
      expect(await latestCheckpoint(db.kysely)).toBeUndefined();
      await expectYz(proveInclusion({ db: db.kysely, index: 0 }), 'LOG_NOT_READY');
      await expectYz(proveInclusion({ db: db.kysely, index: 0, treeSize: 1 }), 'LOG_SIZE_OUT_OF_RANGE');
      expect(await publishCheckpoint({ db: db.kysely, key, now: T0, minIntervalMs: 0 })).toBeUndefined();
      expect(await db.kysely.transaction().execute((trx) => appendLeaves(trx, []))).toBe(0);
    });

    it('assigns contiguous indices per transaction and stores entry and leaf hash', async () => {
      const firsts = await appendInBatches(db, entries.slice(0, 100), [1, 2, 3, 94]);
      expect(firsts).toEqual([0, 1, 3, 6]);
      const rows = await db.kysely.selectFrom('log_leaves').selectAll().orderBy('idx').execute();
      expect(rows.map((r) => Number(r.idx))).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(Buffer.from(rows[42]!.entry).equals(Buffer.from(entries[42]!))).toBe(true);
      expect(Buffer.from(rows[42]!.leaf_hash)).toEqual(Buffer.from(sm3LogHasher.hashLeaf(entries[42]!)));
    });

    it('a rolled-back transaction leaves no gap and no leaf', async () => {
      await expect(
        db.kysely.transaction().execute(async (trx) => {
          await appendLeaves(trx, [utf8('rolled back')]);
          throw new Error('the record insert failed');
        }),
      ).rejects.toThrow('the record insert failed');
      expect(await db.kysely.transaction().execute((trx) => appendLeaves(trx, [entries[100]!]))).toBe(100);
      const n = await db.kysely
        .selectFrom('log_leaves')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      expect(toCount(n.n)).toBe(101);
    });

    it('integrates in batches; publishes a signed checkpoint that opens with the platform key', async () => {
      expect(await integrateBatch({ db: db.kysely, now: T0, batch: 40 })).toEqual({ from: 0, to: 40 });
      expect(await integrateAll({ db: db.kysely, now: () => T0, batch: 25 })).toEqual({ from: 40, to: 101 });
      expect(await integrateBatch({ db: db.kysely, now: T0 })).toEqual({ from: 101, to: 101 });
      const c = await publishCheckpoint({ db: db.kysely, key, now: T0, minIntervalMs: 5_000 });
      expect(c?.size).toBe(101);
      const opened = openCheckpoint(c!.note, [verifier], { origin: ORIGIN });
      expect(opened.checkpoint.size).toBe(101);
      expect(Buffer.from(opened.checkpoint.rootHash)).toEqual(
        Buffer.from(referenceRoot(entries.slice(0, 101), 'sm3')),
      );
      const latest = await latestCheckpoint(db.kysely);
      expect(latest).toMatchObject({ size: 101, origin: ORIGIN, hash: 'sm3', note: c!.note });
    });

    it('publishes only when the tree grew and the interval has passed', async () => {
      expect(await publishCheckpoint({ db: db.kysely, key, now: T0 + 60_000, minIntervalMs: 0 })).toBe(
        undefined,
      );
      await appendInBatches(db, entries.slice(101, 200), [99]);
      await integrateAll({ db: db.kysely, now: () => T0 });
      expect(await publishCheckpoint({ db: db.kysely, key, now: T0 + 4_999, minIntervalMs: 5_000 })).toBe(
        undefined,
      );
      expect(
        (await publishCheckpoint({ db: db.kysely, key, now: T0 + 5_000, minIntervalMs: 5_000 }))?.size,
      ).toBe(200);
      await appendInBatches(db, entries.slice(200, 300), [50, 50]);
      await integrateAll({ db: db.kysely, now: () => T0 });
      expect(
        (await publishCheckpoint({ db: db.kysely, key, now: T0 + 10_000, minIntervalMs: 5_000 }))?.size,
      ).toBe(300);
      expect((await checkpointAt(db.kysely, 200)).size).toBe(200);
      await expectYz(checkpointAt(db.kysely, 150), 'LOG_CHECKPOINT_NOT_FOUND');
    });

    it('every inclusion proof verifies against the signed roots (ledger verifier)', async () => {
      for (const size of [101, 200, 300]) {
        const c = await checkpointAt(db.kysely, size);
        const { checkpoint } = openCheckpoint(c.note, [verifier], { origin: ORIGIN });
        for (let i = 0; i < size; i += size === 300 ? 1 : 13) {
          const p = await proveInclusion({ db: db.kysely, index: i, treeSize: String(size) });
          expect(p.treeSize).toBe(size);
          expect(Buffer.from(p.leafHash)).toEqual(Buffer.from(sm3LogHasher.hashLeaf(entries[i]!)));
          verifyInclusion(
            sm3LogHasher,
            i,
            size,
            sm3LogHasher.hashLeaf(entries[i]!),
            p.proof,
            checkpoint.rootHash,
          );
        }
      }
      const dflt = await proveInclusion({ db: db.kysely, index: 7 });
      expect(dflt.treeSize).toBe(300);
      // A proof at an unsigned but integrated size still verifies against the reference root.
      const p = await proveInclusion({ db: db.kysely, index: 250, treeSize: 257 });
      verifyInclusion(
        sm3LogHasher,
        250,
        257,
        sm3LogHasher.hashLeaf(entries[250]!),
        p.proof,
        referenceRoot(entries.slice(0, 257), 'sm3'),
      );
    });

    it('consistency between every pair of checkpoints and arbitrary sizes verifies', async () => {
      const roots = new Map<number, Uint8Array>();
      for (const size of [101, 200, 300]) roots.set(size, (await checkpointAt(db.kysely, size)).rootHash);
      for (const [m, rm] of roots) {
        for (const [n, rn] of roots) {
          if (m > n) continue;
          const p = await proveConsistency({ db: db.kysely, from: m, to: n });
          verifyConsistency(sm3LogHasher, m, n, p.proof, rm, rn);
        }
      }
      for (const [m, n] of [
        [1, 300],
        [3, 7],
        [64, 65],
        [255, 299],
      ] as const) {
        const p = await proveConsistency({ db: db.kysely, from: m, to: n });
        verifyConsistency(
          sm3LogHasher,
          m,
          n,
          p.proof,
          referenceRoot(entries.slice(0, m), 'sm3'),
          referenceRoot(entries.slice(0, n), 'sm3'),
        );
      }
    });

    it('refuses bad and out-of-range parameters with stable codes', async () => {
      const k = db.kysely;
      await expectYz(proveInclusion({ db: k, index: 300, treeSize: 300 }), 'LOG_INDEX_OUT_OF_RANGE');
      await expectYz(proveInclusion({ db: k, index: 0, treeSize: 301 }), 'LOG_SIZE_OUT_OF_RANGE');
      await expectYz(proveInclusion({ db: k, index: 0, treeSize: 0 }), 'LOG_SIZE_OUT_OF_RANGE');
      await expectYz(proveInclusion({ db: k, index: '-1' }), 'LOG_PARAMETER_INVALID');
      await expectYz(proveInclusion({ db: k, index: '9007199254740992' }), 'LOG_PARAMETER_INVALID');
      await expectYz(proveInclusion({ db: k, index: 1.5 }), 'LOG_PARAMETER_INVALID');
      await expectYz(proveConsistency({ db: k, from: 0, to: 3 }), 'LOG_PARAMETER_INVALID');
      await expectYz(proveConsistency({ db: k, from: 4, to: 3 }), 'LOG_PARAMETER_INVALID');
      await expectYz(proveConsistency({ db: k, from: 4, to: 301 }), 'LOG_SIZE_OUT_OF_RANGE');
    });

    it('verifyLogEntry: included, then each kind of tampering is named', async () => {
      const k = db.kysely;
      const ok = await verifyLogEntry({ db: k, index: 42, entry: entries[42]!, publicKey: key.publicKey });
      expect(ok.status).toBe('included');
      if (ok.status === 'included') expect(ok.checkpoint.size).toBe(300);
      const other = await verifyLogEntry({ db: k, index: 42, entry: entries[43]!, publicKey: key.publicKey });
      expect(other).toMatchObject({ status: 'tampered', failure: 'entry-mismatch' });
      expect(
        await verifyLogEntry({ db: k, index: 5_000, entry: entries[1]!, publicKey: key.publicKey }),
      ).toMatchObject({ status: 'tampered', failure: 'leaf-missing' });
      const stranger = sm2.generateKeyPair().publicKey;
      expect(
        await verifyLogEntry({ db: k, index: 42, entry: entries[42]!, publicKey: stranger }),
      ).toMatchObject({ status: 'tampered', failure: 'checkpoint-invalid' });

      // A tree node on leaf 42's path (its sibling leaf 43) changed in the database.
      const saved = await k
        .selectFrom('log_nodes')
        .select('hash')
        .where('level', '=', 0)
        .where('idx', '=', 43)
        .executeTakeFirstOrThrow();
      await k
        .updateTable('log_nodes')
        .set({ hash: new Uint8Array(32).fill(7) })
        .where('level', '=', 0)
        .where('idx', '=', 43)
        .execute();
      expect(
        await verifyLogEntry({ db: k, index: 42, entry: entries[42]!, publicKey: key.publicKey }),
      ).toMatchObject({ status: 'tampered', failure: 'inclusion-failed' });
      expect(
        await verifyLogEntry({ db: k, index: 43, entry: entries[43]!, publicKey: key.publicKey }),
      ).toMatchObject({ status: 'tampered', failure: 'node-mismatch' });
      await k
        .updateTable('log_nodes')
        .set({ hash: saved.hash })
        .where('level', '=', 0)
        .where('idx', '=', 43)
        .execute();

      // The stored entry bytes changed: the record's entry no longer matches.
      await k
        .updateTable('log_leaves')
        .set({ entry: utf8('forged') })
        .where('idx', '=', 42)
        .execute();
      expect(
        await verifyLogEntry({ db: k, index: 42, entry: entries[42]!, publicKey: key.publicKey }),
      ).toMatchObject({ status: 'tampered', failure: 'entry-mismatch' });
      await k.updateTable('log_leaves').set({ entry: entries[42]! }).where('idx', '=', 42).execute();
      await k
        .updateTable('log_leaves')
        .set({ leaf_hash: new Uint8Array(32) })
        .where('idx', '=', 42)
        .execute();
      expect(
        await verifyLogEntry({ db: k, index: 42, entry: entries[42]!, publicKey: key.publicKey }),
      ).toMatchObject({ status: 'tampered', failure: 'leaf-hash-mismatch' });
      await k
        .updateTable('log_leaves')
        .set({ leaf_hash: sm3LogHasher.hashLeaf(entries[42]!) })
        .where('idx', '=', 42)
        .execute();

      // The latest checkpoint's note changed.
      const latest = (await latestCheckpoint(k))!;
      await k
        .updateTable('log_checkpoints')
        .set({ note: latest.note.replace('\n300\n', '\n299\n') })
        .where('size', '=', 300)
        .execute();
      expect(
        await verifyLogEntry({ db: k, index: 42, entry: entries[42]!, publicKey: key.publicKey }),
      ).toMatchObject({ status: 'tampered', failure: 'checkpoint-invalid' });
      await k.updateTable('log_checkpoints').set({ note: latest.note }).where('size', '=', 300).execute();
      expect(
        (await verifyLogEntry({ db: k, index: 42, entry: entries[42]!, publicKey: key.publicKey })).status,
      ).toBe('included');

      // Sequenced but not yet under a checkpoint.
      await appendInBatches(db, [utf8('late')], [1]);
      expect(
        await verifyLogEntry({ db: k, index: 300, entry: utf8('late'), publicKey: key.publicKey }),
      ).toMatchObject({ status: 'pending', index: 300 });
    });

    it('refuses to start with another hash or origin once the log has leaves', async () => {
      let err: unknown;
      try {
        await initLog(db.kysely, { hash: 'sha256', origin: ORIGIN });
      } catch (e) {
        err = e;
      }
      expect(isStartupError(err, 'LOG_CONFIG_CHANGED')).toBe(true);
      await expect(initLog(db.kysely, { hash: 'sm3', origin: 'other/log' })).rejects.toSatisfy((e) =>
        isStartupError(e, 'LOG_CONFIG_CHANGED'),
      );
      await initLog(db.kysely, { hash: 'sm3', origin: ORIGIN });
    });
  });

  it('independent root: the same entries in different batch splits give the RFC 9162 root (SHA-256)', async () => {
    const entries = Array.from({ length: 333 }, (_, i) => entryOf(i * 31));
    const roots: Buffer[] = [];
    for (const [seed, maxBatch, integrateBy] of [
      [1, 1, 7],
      [2, 40, 1000],
      [3, 150, 33],
    ] as const) {
      const { db } = await freshLog('sha256');
      const sizes = randomSplit(entries.length, seeded(seed), maxBatch);
      await appendInBatches(db, entries, sizes);
      // Integrate part of the way between appends, too.
      await integrateAll({ db: db.kysely, now: () => T0, batch: integrateBy });
      await publishCheckpoint({ db: db.kysely, key, now: T0, minIntervalMs: 0 });
      const c = (await latestCheckpoint(db.kysely))!;
      expect(c.hash).toBe('sha256');
      expect(c.size).toBe(333);
      roots.push(Buffer.from(c.rootHash));
      const p = await proveInclusion({ db: db.kysely, index: 200 });
      verifyInclusion(
        sha256LogHasher,
        200,
        333,
        sha256LogHasher.hashLeaf(entries[200]!),
        p.proof,
        c.rootHash,
      );
    }
    const reference = Buffer.from(referenceRoot(entries, 'sha256'));
    for (const r of roots) expect(r).toEqual(reference);
  });

  it('concurrent appenders in two processes get contiguous indices; two integrators build one tree', async () => {
    const { tdb, db } = await freshLog('sm3');
    const other = await secondProcess(tdb, db);
    const rnd = seeded(9);
    const jobs = Array.from({ length: 40 }, (_, j) => ({
      db: j % 2 === 0 ? db : other,
      entries: Array.from({ length: 1 + Math.floor(rnd() * 20) }, (_, i) => utf8(`c-${j}-${i}`)),
      rollback: j % 7 === 3,
    }));
    const results = await Promise.all(
      jobs.map(async (job) => {
        try {
          return await job.db.kysely.transaction().execute(async (trx) => {
            const first = await appendLeaves(trx, job.entries);
            if (job.rollback) throw new Error('rollback');
            return first;
          });
        } catch (e) {
          if ((e as Error).message === 'rollback') return undefined;
          throw e;
        }
      }),
    );
    const committed = jobs
      .map((job, j) => ({ job, first: results[j] }))
      .filter((x): x is { job: (typeof jobs)[number]; first: number } => x.first !== undefined)
      .sort((a, b) => a.first - b.first);
    let expected = 0;
    for (const { job, first } of committed) {
      expect(first).toBe(expected);
      expected += job.entries.length;
    }
    const rows = await db.kysely.selectFrom('log_leaves').select(['idx', 'entry']).orderBy('idx').execute();
    expect(rows.map((r) => Number(r.idx))).toEqual(Array.from({ length: expected }, (_, i) => i));
    const byIndex = committed.flatMap(({ job }) => job.entries);
    rows.forEach((r, i) => {
      expect(Buffer.from(r.entry).equals(Buffer.from(byIndex[i]!))).toBe(true);
    });

    // Two integrators at once, small batches: they take turns on the tree row.
    await Promise.all([
      integrateAll({ db: db.kysely, now: () => T0, batch: 9 }),
      integrateAll({ db: other.kysely, now: () => T0, batch: 13 }),
    ]);
    const tree = await db.kysely.selectFrom('log_tree').selectAll().executeTakeFirstOrThrow();
    expect(Number(tree.size)).toBe(expected);
    expect(Buffer.from(tree.root_hash!)).toEqual(Buffer.from(referenceRoot(byIndex, 'sm3')));
    // Two publishers at once: one checkpoint.
    const published = await Promise.all([
      publishCheckpoint({ db: db.kysely, key, now: T0, minIntervalMs: 1_000 }),
      publishCheckpoint({ db: other.kysely, key, now: T0, minIntervalMs: 1_000 }),
    ]);
    expect(published.filter((p) => p !== undefined)).toHaveLength(1);
  });

  it('an empty log may switch hash and origin at start', async () => {
    const { db } = await freshLog('sm3');
    await initLog(db.kysely, { hash: 'sha256', origin: 'new.origin/log' });
    const state = await db.kysely.selectFrom('log_state').selectAll().executeTakeFirstOrThrow();
    expect(state).toMatchObject({ hash_alg: 'sha256', origin: 'new.origin/log' });
  });
});
