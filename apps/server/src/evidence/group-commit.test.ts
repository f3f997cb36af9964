import { describe, expect, it } from 'vitest';
import { GroupCommitWriter } from './group-commit.js';

/** A writer over an in-memory "table" with a unique column, to watch batching and the per-item fallback. */
function table(maxItems: number) {
  const rows = new Set<string>();
  const transactions: string[][] = [];
  const writer = new GroupCommitWriter<string, string>({
    maxItems,
    writeMany: (items) => {
      transactions.push([...items]);
      const seen = new Set(rows);
      for (const i of items) {
        if (seen.has(i)) return Promise.reject(new Error(`duplicate ${i}`)); // the whole batch rolls back
        seen.add(i);
      }
      for (const i of items) rows.add(i);
      return Promise.resolve(items.map((i) => `ok:${i}`));
    },
    writeOne: (item) => {
      transactions.push([item]);
      if (rows.has(item)) return Promise.reject(new Error(`duplicate ${item}`));
      rows.add(item);
      return Promise.resolve(`ok:${item}`);
    },
  });
  return { rows, transactions, writer };
}

describe('GroupCommitWriter', () => {
  it('coalesces items submitted together into one transaction, each caller getting its own result', async () => {
    const t = table(100);
    const results = await Promise.all(['a', 'b', 'c'].map((x) => t.writer.submit(x)));
    expect(results).toEqual(['ok:a', 'ok:b', 'ok:c']);
    expect(t.transactions).toEqual([['a', 'b', 'c']]);
  });

  it('never puts more than maxItems in one transaction; later items wait for the next flush', async () => {
    const t = table(2);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((x) => t.writer.submit(x)));
    expect(t.transactions.map((x) => x.length)).toEqual([2, 2, 1]);
  });

  it('a failing item does not sink the others: the batch falls back to per-item writes', async () => {
    const t = table(100);
    await t.writer.submit('x');
    const results = await Promise.allSettled(['a', 'x', 'b'].map((v) => t.writer.submit(v)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect([...t.rows].sort()).toEqual(['a', 'b', 'x']);
    expect(t.transactions.slice(1)).toEqual([['a', 'x', 'b'], ['a'], ['x'], ['b']]);
  });

  it('back-pressure: beyond maxQueued waiting items, submit() rejects with overloaded()', async () => {
    const w = new GroupCommitWriter<number, number>({
      maxItems: 10,
      maxQueued: 3,
      overloaded: () => new Error('busy'),
      writeMany: (items) => Promise.resolve([...items]),
      writeOne: (item) => Promise.resolve(item),
    });
    const r = await Promise.allSettled([1, 2, 3, 4].map((i) => w.submit(i)));
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
  });

  it('close() waits for queued items and then refuses new ones', async () => {
    const t = table(10);
    const p = t.writer.submit('a');
    await t.writer.close();
    await expect(p).resolves.toBe('ok:a');
    await expect(t.writer.submit('b')).rejects.toThrow(/closed/);
  });

  it('with concurrency 2, a second batch starts while the first waits for its commit, never a third', async () => {
    const commits: (() => void)[] = [];
    const started: number[][] = [];
    let running = 0;
    let most = 0;
    const w = new GroupCommitWriter<number, number>({
      maxItems: 2,
      concurrency: 2,
      writeMany: async (items) => {
        started.push([...items]);
        most = Math.max(most, ++running);
        await new Promise<void>((r) => commits.push(r));
        running--;
        return [...items];
      },
      writeOne: (item) => Promise.resolve(item),
    });
    const all = Promise.all([1, 2, 3, 4, 5, 6].map((i) => w.submit(i)));
    const turn = () => new Promise((r) => setImmediate(r));
    await turn();
    await turn();
    expect(started).toEqual([
      [1, 2],
      [3, 4],
    ]);
    commits.shift()!();
    await turn();
    await turn();
    expect(started).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    while (commits.length > 0) {
      commits.shift()!();
      await turn();
    }
    await expect(all).resolves.toEqual([1, 2, 3, 4, 5, 6]);
    expect(most).toBe(2);
    const closing = w.close();
    await expect(closing).resolves.toBeUndefined();
  });

  it('refuses a concurrency below 1', () => {
    expect(
      () =>
        new GroupCommitWriter<number, number>({
          maxItems: 1,
          concurrency: 0,
          writeMany: (items) => Promise.resolve([...items]),
          writeOne: (item) => Promise.resolve(item),
        }),
    ).toThrow(RangeError);
  });
});
