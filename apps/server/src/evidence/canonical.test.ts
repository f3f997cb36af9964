import { describe, expect, it } from 'vitest';
import { sm3, toHex } from '@yizheng/gm';
import { canonicalJson } from '../audit/canonical-json.js';
import { randomInteger, randomString, randomValue, seeded } from '../audit/canonical-random.test-support.js';
import {
  canonicalRecord,
  dedupeKey,
  evidenceHash,
  hexOf,
  recordBytes,
  recordValue,
  type RecordColumns,
} from './canonical.js';

const columns: RecordColumns = {
  id: 'sig_000000000000000000000001',
  kind: 'signature',
  project_id: 'prj_1',
  app_id: 'app_1',
  serial_number: 'SN-1',
  business_type: '入院记录',
  source_system: null,
  department_code: null,
  department_name: null,
  patient_id_idx: null,
  patient_name_idx: null,
  visit_number: null,
  signer: 'CN=张医生',
  category: null,
  signature_format: 'cms',
  original_sm3: null,
  original_size: 12,
  digest_algorithm: null,
  digest_value: null,
  signature_sm3: null,
  certificates_sm3: null,
  timestamp_sm3: null,
  file_sm3: null,
  file_size: null,
  file_name: null,
  content_type: null,
  signed_at: null,
  received_at: '2026-11-24T12:00:00.000Z',
  tags: '[]',
  metadata: '{}',
  verification: '{"chain":"trusted"}',
};

describe('canonical evidence record', () => {
  it('is deterministic JSON with sorted keys, nulls kept, nested JSON carried as text', () => {
    const text = canonicalRecord(columns);
    expect(text.startsWith('{"appId":"app_1","businessType":"入院记录","category":null,')).toBe(true);
    expect(text).toContain('"verification":"{\\"chain\\":\\"trusted\\"}"');
    expect(text).toContain('"type":"yizheng-evidence/1"');
    expect(JSON.parse(text)).toMatchObject({ originalSize: 12, signedAt: null });
    expect(toHex(evidenceHash(columns))).toBe(toHex(sm3(new TextEncoder().encode(text))));
  });

  it('any changed field changes the hash; the dedupe key depends on kind, serial and evidence only', () => {
    const h = toHex(evidenceHash(columns));
    expect(toHex(evidenceHash({ ...columns, serial_number: 'SN-2' }))).not.toBe(h);
    expect(toHex(evidenceHash({ ...columns, original_size: 13 }))).not.toBe(h);
    expect(toHex(evidenceHash({ ...columns, tags: '["a"]' }))).not.toBe(h);
    expect(dedupeKey('signature', 'SN-1', 'ab')).toBe(dedupeKey('signature', 'SN-1', 'ab'));
    expect(dedupeKey('signature', 'SN-1', 'ab')).not.toBe(dedupeKey('digest', 'SN-1', 'ab'));
    expect(dedupeKey('signature', 'SN-1', 'ab')).not.toBe(dedupeKey('signature', 'SN-1a', 'b'));
  });
});

/** The record before the direct serialiser: the generic canonical JSON of the record value. */
const referenceText = (c: RecordColumns): string => canonicalJson(recordValue(c));

function outcome(f: () => string): string {
  try {
    return `ok:${f()}`;
  } catch (e) {
    return `throws:${(e as Error).constructor.name}`;
  }
}

function randomColumns(rnd: () => number): RecordColumns {
  const t = (): string => randomString(rnd, 20);
  const maybe = (): string | null => (rnd() < 0.3 ? null : t());
  const size = (): number | null => (rnd() < 0.3 ? null : Math.abs(randomInteger(rnd)));
  const json = (): string => canonicalJson(randomValue(rnd, 3));
  const kinds = ['signature', 'digest', 'file'] as const;
  return {
    id: t(),
    kind: kinds[Math.floor(rnd() * 3)]!,
    project_id: t(),
    app_id: t(),
    serial_number: t(),
    business_type: maybe(),
    source_system: maybe(),
    department_code: maybe(),
    department_name: maybe(),
    patient_id_idx: maybe(),
    patient_name_idx: maybe(),
    visit_number: maybe(),
    signer: maybe(),
    category: maybe(),
    signature_format: maybe(),
    original_sm3: maybe(),
    original_size: size(),
    digest_algorithm: maybe(),
    digest_value: maybe(),
    signature_sm3: maybe(),
    certificates_sm3: maybe(),
    timestamp_sm3: maybe(),
    file_sm3: maybe(),
    file_size: size(),
    file_name: maybe(),
    content_type: maybe(),
    signed_at: maybe(),
    received_at: t(),
    tags: json(),
    metadata: json(),
    verification: json(),
  };
}

describe('the direct record serialiser equals the generic canonical JSON', () => {
  it('writes its keys in sorted order', () => {
    const keys = Object.keys(JSON.parse(canonicalRecord(columns)) as object);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toEqual(Object.keys(recordValue(columns)).sort());
  });

  it('byte for byte, with the same hash, over random records (unicode, escapes, lone surrogates, nulls)', () => {
    const rnd = seeded(2026);
    const differing: RecordColumns[] = [];
    for (let n = 0; n < 2000; n++) {
      const c = randomColumns(rnd);
      const text = canonicalRecord(c);
      const bytes = new TextEncoder().encode(referenceText(c));
      if (
        text !== referenceText(c) ||
        toHex(recordBytes(c)) !== toHex(bytes) ||
        toHex(evidenceHash(c)) !== toHex(sm3(bytes))
      )
        differing.push(c);
    }
    expect(differing).toEqual([]);
  });

  it('on ill-typed columns behaves as the generic serialiser (same text or same error class)', () => {
    const rnd = seeded(11);
    const bad: unknown[] = [undefined, 1.5, Number.NaN, 2 ** 53, true, '12', 7, { a: 1 }, ['x']];
    const fields = Object.keys(columns) as (keyof RecordColumns)[];
    for (const field of fields)
      for (const v of bad) {
        const c = { ...randomColumns(rnd), [field]: v };
        expect(outcome(() => canonicalRecord(c))).toBe(outcome(() => referenceText(c)));
      }
  });
});

describe('hexOf', () => {
  it('equals toHex, also on views into a larger buffer', () => {
    const rnd = seeded(5);
    const big = Uint8Array.from({ length: 4096 }, () => Math.floor(rnd() * 256));
    for (let n = 0; n < 200; n++) {
      const at = Math.floor(rnd() * 4000);
      const b = big.subarray(at, at + Math.floor(rnd() * 90));
      expect(hexOf(b)).toBe(toHex(b));
    }
  });
});
