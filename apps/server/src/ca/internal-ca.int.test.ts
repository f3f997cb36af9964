import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toPem } from '@yizheng/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlatformKey } from '../crypto/platform-key.js';
import type { Db } from '../db/connect.js';
import { isStartupError } from '../startup-error.js';
import { openMigrated, T0 } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { CA_KEY_NAMES, loadInternalCa, platformChainPem } from './internal-ca.js';

const KEK = new Uint8Array(16).fill(5);
const config = { unitName: '示例市第一人民医院', tsaAlgorithms: ['sm2', 'rsa', 'p256'] as const };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'yz-ca-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function write(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe.each(testDialects())('internal CA on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openMigrated(tdb.config);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('is generated on first start, kept, and openssl verifies every certificate against the root', async () => {
    const platformKey = await loadPlatformKey({ db: db.kysely, kek: KEK, now: T0 });
    const ca = await loadInternalCa({ db: db.kysely, kek: KEK, now: T0, platformKey, config });
    const again = await loadInternalCa({ db: db.kysely, kek: KEK, now: T0 + 1000, platformKey, config });
    expect(Buffer.from(again.root.der).equals(Buffer.from(ca.root.der))).toBe(true);
    expect(
      Buffer.from(again.tsa.get('rsa')!.certificate.der).equals(
        Buffer.from(ca.tsa.get('rsa')!.certificate.der),
      ),
    ).toBe(true);
    // The platform certificate certifies the platform key.
    expect(Buffer.from(ca.platform.spki).equals(Buffer.from(platformKey.publicKey.toSpki()))).toBe(true);

    const root = write(`${dialect}-root.pem`, toPem(ca.root.der, 'CERTIFICATE'));
    const at = String(Math.floor(T0 / 1000) + 60);
    const verify = (name: string, der: Uint8Array, purpose?: string): string =>
      openssl([
        'verify',
        // OpenSSL 3.0 checks SM2 certificate signatures with an empty signer ID unless told the GM/T 0009 default.
        '-vfyopt',
        'distid:1234567812345678',
        '-attime',
        at,
        '-CAfile',
        root,
        ...(purpose ? ['-purpose', purpose] : []),
        write(`${dialect}-${name}.pem`, toPem(der, 'CERTIFICATE')),
      ]);
    expect(verify('platform', ca.platform.der)).toMatch(/: OK/);
    for (const a of ['sm2', 'rsa', 'p256'] as const) {
      const tsa = ca.tsa.get(a)!;
      expect(verify(`tsa-${a}`, tsa.certificate.der, 'timestampsign')).toMatch(/: OK/);
      const text = openssl(['x509', '-noout', '-text', '-in', join(dir, `${dialect}-tsa-${a}.pem`)]);
      expect(text).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping/);
      expect(tsa.chain.map((c) => c.subject)).toEqual([ca.root.subject]);
    }
    expect(openssl(['x509', '-noout', '-subject', '-nameopt', 'utf8', '-in', root])).toContain(
      '示例市第一人民医院',
    );
    expect(platformChainPem(ca).match(/BEGIN CERTIFICATE/g)).toHaveLength(2);

    // Keys are sealed, never in clear.
    const rows = await db.kysely.selectFrom('key_store').select(['name', 'wrapped']).execute();
    const names = rows.map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([CA_KEY_NAMES.root, 'tsa-sm2-v1', 'tsa-rsa-v1', 'tsa-p256-v1']),
    );
    for (const r of rows)
      expect(Buffer.from(r.wrapped, 'base64').toString('latin1')).not.toContain('PRIVATE KEY');
  });

  it('KEK_INVALID when another KEK opens the CA keys', async () => {
    const platformKey = await loadPlatformKey({ db: db.kysely, kek: KEK, now: T0 });
    const err = await loadInternalCa({
      db: db.kysely,
      kek: new Uint8Array(16).fill(6),
      now: T0,
      platformKey,
      config,
    }).catch((e: unknown) => e);
    expect(isStartupError(err, 'KEK_INVALID')).toBe(true);
  });
});
