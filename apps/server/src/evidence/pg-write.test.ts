import { sha256LogHasher, sm3LogHasher } from '@yizheng/ledger/node';
import { describe, expect, it } from 'vitest';
import { deltasOf, shanghaiDay, type StatsEvent } from '../stats/repo.js';
import { seeded } from '../testing/seeded.js';
import { leafHasher } from './pg-write.js';

describe('pg-write helpers', () => {
  it('hashes SM3 leaves as the log hasher does (every length, 0x00 prefix)', () => {
    const rand = seeded(7);
    const fast = leafHasher('sm3', (e) => sm3LogHasher.hashLeaf(e));
    for (let len = 0; len < 200; len++) {
      const entry = Uint8Array.from({ length: len }, () => Math.floor(rand() * 256));
      expect(Buffer.from(fast(entry)).toString('hex')).toBe(
        Buffer.from(sm3LogHasher.hashLeaf(entry)).toString('hex'),
      );
    }
    // not the plain hash of the entry: the prefix is there
    const e = new Uint8Array(32).fill(9);
    expect(Buffer.from(fast(e)).equals(Buffer.from(sm3LogHasher.hash(e)))).toBe(false);
  });

  it('leaves other log hashes to the hasher', () => {
    const h = (e: Uint8Array) => sha256LogHasher.hashLeaf(e);
    expect(leafHasher('sha256', h)).toBe(h);
  });

  it('deltasOf sums events by key and Shanghai day, as one day per event would (keys, order, counts)', () => {
    const rand = seeded(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    // instants around Shanghai midnight (16:00Z) and month/year ends, some repeated
    const instants = [
      '2026-12-31T15:59:59.999Z',
      '2026-12-31T16:00:00.000Z',
      '2026-11-30T16:00:00.001Z',
      '2026-06-15T03:04:05.678Z',
      '2027-01-01T00:00:00.000Z',
    ];
    for (let round = 0; round < 50; round++) {
      const events: StatsEvent[] = Array.from({ length: Math.floor(rand() * 300) }, () => ({
        project_id: pick(['p1', 'p2', 'p10']),
        app_id: pick(['a', 'b']),
        kind: pick(['signature', 'digest', 'file'] as const),
        at: rand() < 0.7 ? pick(instants) : new Date(1.7e12 + Math.floor(rand() * 1e11)).toISOString(),
      }));
      const reference = new Map<string, number>();
      for (const e of events) {
        const key = [e.project_id, e.app_id, e.kind, shanghaiDay(Date.parse(e.at))].join('\u0000');
        reference.set(key, (reference.get(key) ?? 0) + 1);
      }
      const expected = [...reference.keys()].sort().map((key) => {
        const [project_id, app_id, kind, day] = key.split('\u0000');
        return { project_id, app_id, kind, day, count: reference.get(key) };
      });
      expect(deltasOf(events)).toEqual(expected);
    }
  });
});
