import { describe, expect, it } from 'vitest';
import { sm3 } from '@yizheng/gm';
import { canonicalJson } from './canonical-json.js';
import { randomInteger, randomString, seeded } from './canonical-random.test-support.js';
import { chainHash, GENESIS } from './hash-chain.js';

type Flat = Record<string, string | number | null>;

/** The chain hash by its definition: SM3 over the domain, the previous hash and canonicalJson of the columns. */
const reference = (prev: string, columns: Flat): string =>
  Buffer.from(sm3(new TextEncoder().encode(`yizheng-log-v1\n${prev}\n${canonicalJson(columns)}`))).toString(
    'hex',
  );

function randomApiLogRow(rnd: () => number): Flat {
  const t = (): string => randomString(rnd, 20);
  const maybe = (): string | null => (rnd() < 0.3 ? null : t());
  // Members in the order the API-log plugin writes them, then seq (as the writers spread it on).
  return {
    at: t(),
    request_id: t(),
    app_id: maybe(),
    project_id: maybe(),
    method: t(),
    path: t(),
    params: t(),
    headers: t(),
    status: randomInteger(rnd),
    response: t(),
    duration_ms: randomInteger(rnd),
    error_code: maybe(),
    seq: Math.abs(randomInteger(rnd)),
  };
}

function outcome(f: () => string): string {
  try {
    return `ok:${f()}`;
  } catch (e) {
    return `throws:${(e as Error).constructor.name}`;
  }
}

describe('chainHash', () => {
  it('of an API-log row equals its definition over random rows (unicode, escapes, lone surrogates, nulls)', () => {
    const rnd = seeded(314);
    const differing: Flat[] = [];
    let prev = GENESIS;
    for (let n = 0; n < 2000; n++) {
      const row = randomApiLogRow(rnd);
      const h = chainHash(prev, row);
      if (h !== reference(prev, row)) differing.push(row);
      prev = h;
    }
    expect(differing).toEqual([]);
  });

  it('of other shapes and ill-typed members behaves as its definition (same hash or same error class)', () => {
    const rnd = seeded(2);
    const bad: unknown[] = [undefined, 1.5, Number.NaN, 2 ** 53, true, '12', 7, null];
    for (const field of Object.keys(randomApiLogRow(rnd)))
      for (const v of bad) {
        const row = { ...randomApiLogRow(rnd), [field]: v } as Flat;
        expect(outcome(() => chainHash(GENESIS, row))).toBe(outcome(() => reference(GENESIS, row)));
      }
    const extra = { ...randomApiLogRow(rnd), more: 'x' };
    expect(chainHash(GENESIS, extra)).toBe(reference(GENESIS, extra));
    const operation: Flat = {
      at: '2026-01-01T00:00:00.000Z',
      actor: 'admin',
      action: 'project.create',
      target_type: 'project',
      target_id: 'P-1',
      project_id: null,
      detail: '{}',
      seq: 1,
    };
    expect(chainHash(GENESIS, operation)).toBe(reference(GENESIS, operation));
  });
});
