import { describe, expect, it } from 'vitest';
import { GroupCommitWriter } from '../../evidence/group-commit.js';
import type { PreparedEvidence, StoredEvidence } from '../../evidence/store.js';
import { GateClosed, gatedWriter } from './gated-writer.js';

const item = (id: string): PreparedEvidence =>
  ({ row: { id }, payload: {}, entry: new Uint8Array(32) }) as never;
const stored = (i: PreparedEvidence): StoredEvidence => ({ row: i.row, duplicate: false }) as never;

/** A real writer over a fake store that records every item written and refuses the ids in `refuse`. */
function store(refuse: ReadonlySet<string> = new Set()) {
  const written: string[] = [];
  const write = (i: PreparedEvidence): StoredEvidence => {
    if (refuse.has(i.row.id)) throw new Error(`refused ${i.row.id}`);
    written.push(i.row.id);
    return stored(i);
  };
  const writer = new GroupCommitWriter<PreparedEvidence, StoredEvidence>({
    maxItems: 1000,
    writeMany: (items) => {
      if (items.some((i) => refuse.has(i.row.id))) return Promise.reject(new Error('batch refused'));
      return Promise.resolve(items.map(write));
    },
    writeOne: (i) => Promise.resolve().then(() => write(i)),
  });
  return { writer, written };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('gatedWriter', () => {
  it('hands nothing on before the gate opens, then every item once', async () => {
    const s = store();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const w = gatedWriter(s.writer, gate);
    const done = Promise.all(['a', 'b', 'c'].map((id) => w.submit(item(id))));
    await tick();
    expect(s.written).toEqual([]);
    open();
    expect((await done).map((r) => r.row.id)).toEqual(['a', 'b', 'c']);
    expect(s.written).toEqual(['a', 'b', 'c']);
  });

  it('refuses every item when the gate closes, and stores none', async () => {
    const s = store();
    const gate = Promise.reject(new GateClosed('the batch before failed'));
    gate.catch(() => undefined);
    const w = gatedWriter(s.writer, gate);
    const results = await Promise.allSettled(['a', 'b'].map((id) => w.submit(item(id))));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof GateClosed)).toBe(true);
    expect(s.written).toEqual([]);
  });

  it('hands an item on once even when its group falls back to one-by-one writes', async () => {
    const s = store(new Set(['b']));
    const w = gatedWriter(s.writer, Promise.resolve());
    const results = await Promise.allSettled(['a', 'b', 'c'].map((id) => w.submit(item(id))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(s.written.sort()).toEqual(['a', 'c']);
  });
});
