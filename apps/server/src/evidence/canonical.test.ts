import { describe, expect, it } from 'vitest';
import { sm3, toHex } from '@yizheng/gm';
import { canonicalRecord, dedupeKey, evidenceHash, type RecordColumns } from './canonical.js';

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
