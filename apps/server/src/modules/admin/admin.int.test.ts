/**
 * The console's admin API over every database: certificate and password login (challenge expiry and replay,
 * wrong key, unbound and untrusted certificates, lockout, idle timeout, CSRF), users, roles (三权分立), system
 * configuration, audit, and every admin route × built-in role against an explicit allow/deny matrix.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Db } from '../../db/connect.js';
import { eventually, signWithGm, testApp, testConfig, tempDir } from '../../testing/app.js';
import { sm2 } from '@yizheng/gm';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { ADMIN_PREFIX } from './routes.js';
import { BUILTIN_ROLES, type Permission } from './permissions.js';
import {
  certificateLogin,
  clientOf,
  clockWithin,
  makeCa,
  makeUserCert,
  seedUser,
  signChallenge,
  type ConsoleClient,
  type TestIdentity,
} from './testing.js';

const ALLOW: Readonly<Record<'administrator' | 'operator' | 'auditor', readonly Permission[]>> = {
  administrator: [
    'user:read',
    'user:create',
    'user:update',
    'user:delete',
    'user:freeze',
    'role:read',
    'role:write',
    'role:assign',
    'project:create',
    'project:update',
    'project:freeze',
    'project:delete',
    'application:create',
    'application:update',
    'application:freeze',
    'application:key',
    'config:read',
    'config:update',
    'scope:all-projects',
    'job:read',
    'job:manage',
    'history:read',
    'history:manage',
    'strategy:read',
    'strategy:manage',
    'project:read',
    'application:read',
  ],
  operator: [
    'evidence:read',
    'evidence:verify',
    'evidence:export',
    'stats:read',
    'project:read',
    'application:read',
  ],
  auditor: ['audit:read', 'audit:export', 'audit:verify'],
};

function code(res: LightMyRequestResponse): string {
  return res.json<{ code: string }>().code;
}

describe.each(testDialects())('console admin API on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  let app: FastifyInstance;
  let tmp: ReturnType<typeof tempDir>;
  let ca: TestIdentity;
  let adminId: TestIdentity;
  let operatorId: TestIdentity;
  let auditorId: TestIdentity;
  let strangerId: TestIdentity;
  let now: number;
  const clients: Record<string, ConsoleClient> = {};
  let operator2: ConsoleClient | undefined;
  let appOf: { application: { id: string }; privateKeyPem: string } | undefined;

  beforeAll(async () => {
    tmp = tempDir('yz-console-');
    ca = makeCa(tmp.dir);
    adminId = makeUserCert(tmp.dir, ca, 'admin1', 11);
    operatorId = makeUserCert(tmp.dir, ca, 'operator1', 12);
    auditorId = makeUserCert(tmp.dir, ca, 'auditor1', 13);
    strangerId = makeUserCert(tmp.dir, ca, 'stranger', 14);
    now = clockWithin(adminId.certPem);
    tdb = await createTestDatabase(dialect);
    db = await openDatabase(tdb.config);
    await migrateToLatest(db.kysely);
    await seedUser(db, now, { username: 'admin1', roles: ['administrator'], certificate: adminId.certPem });
    await seedUser(db, now, { username: 'operator1', roles: ['operator'], certificate: operatorId.certPem });
    await seedUser(db, now, { username: 'auditor1', roles: ['auditor'], certificate: auditorId.certPem });
    const trustFile = join(tmp.dir, 'trust.pem');
    writeFileSync(trustFile, ca.certPem);
    app = await testApp(testConfig(tdb.config, tmp.dir, { consoleTrustFile: trustFile }), {
      db,
      now: () => now,
    });
    for (const [name, id] of [
      ['administrator', adminId],
      ['operator', operatorId],
      ['auditor', auditorId],
    ] as const) {
      const res = await certificateLogin(
        app,
        `${name === 'administrator' ? 'admin' : name}1`,
        id.keyPem,
        id.certPem,
      );
      expect(res.statusCode, res.body).toBe(200);
      clients[name] = clientOf(app, res);
    }
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
    await tdb?.drop();
    tmp?.remove();
  });

  const challenge = async () =>
    (await app.inject({ method: 'POST', url: `${ADMIN_PREFIX}/auth/challenge` })).json<{
      challengeId: string;
      toSign: string;
    }>();
  const certLogin = (body: object) =>
    app.inject({ method: 'POST', url: `${ADMIN_PREFIX}/auth/login/certificate`, payload: body });

  describe('certificate login', () => {
    it('sets an HttpOnly SameSite=Strict cookie and returns a CSRF token; the session shows permissions', async () => {
      const res = await certificateLogin(app, 'admin1', adminId.keyPem);
      expect(res.statusCode).toBe(200);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      const c = clientOf(app, res);
      const s = await c.request('GET', '/session');
      expect(s.statusCode).toBe(200);
      const body = s.json<{ user: { username: string; permissions: string[] } }>();
      expect(body.user.username).toBe('admin1');
      expect(body.user.permissions).toContain('user:create');
      expect(body.user.permissions).not.toContain('evidence:read');
      expect(body.user.permissions).not.toContain('audit:read');
    });

    it('refuses a signature by another key (LOGIN_SIGNATURE_INVALID)', async () => {
      const ch = await challenge();
      const res = await certLogin({
        username: 'admin1',
        challengeId: ch.challengeId,
        signature: signChallenge(strangerId.keyPem, ch.toSign),
      });
      expect(res.statusCode).toBe(401);
      expect(code(res)).toBe('LOGIN_SIGNATURE_INVALID');
    });

    it('accepts an RSA key (PKCS#1 v1.5, SHA-256, as WebCrypto signs) and refuses another RSA key', async () => {
      const rsa = makeUserCert(tmp.dir, ca, 'rsa-operator', 31, 'rsa');
      const rsaOther = makeUserCert(tmp.dir, ca, 'rsa-other', 32, 'rsa');
      await seedUser(db, now, { username: 'rsa-operator', roles: ['operator'], certificate: rsa.certPem });
      const ok = await certificateLogin(app, 'rsa-operator', rsa.keyPem, rsa.certPem);
      expect(ok.statusCode, ok.body).toBe(200);
      const s = await clientOf(app, ok).request('GET', '/session');
      expect(s.json<{ user: { username: string } }>().user.username).toBe('rsa-operator');
      const bad = await certificateLogin(app, 'rsa-operator', rsaOther.keyPem);
      expect(code(bad)).toBe('LOGIN_SIGNATURE_INVALID');
      // An SM2 signature for an RSA certificate does not verify either.
      expect(code(await certificateLogin(app, 'rsa-operator', strangerId.keyPem))).toBe(
        'LOGIN_SIGNATURE_INVALID',
      );
    });

    it('refuses a replayed challenge (LOGIN_CHALLENGE_USED), even after a success', async () => {
      const ch = await challenge();
      const body = {
        username: 'admin1',
        challengeId: ch.challengeId,
        signature: signChallenge(adminId.keyPem, ch.toSign),
      };
      expect((await certLogin(body)).statusCode).toBe(200);
      const again = await certLogin(body);
      expect(again.statusCode).toBe(401);
      expect(code(again)).toBe('LOGIN_CHALLENGE_USED');
    });

    it('refuses an unknown challenge (LOGIN_CHALLENGE_UNKNOWN) and an expired one (LOGIN_CHALLENGE_EXPIRED)', async () => {
      const unknown = await certLogin({ username: 'admin1', challengeId: 'chl_nope', signature: 'AAAA' });
      expect(code(unknown)).toBe('LOGIN_CHALLENGE_UNKNOWN');
      const ch = await challenge();
      const saved = now;
      now += 121_000;
      try {
        const res = await certLogin({
          username: 'admin1',
          challengeId: ch.challengeId,
          signature: signChallenge(adminId.keyPem, ch.toSign),
        });
        expect(code(res)).toBe('LOGIN_CHALLENGE_EXPIRED');
      } finally {
        now = saved;
      }
    });

    it('refuses a certificate bound to nobody or someone else (LOGIN_CERT_NOT_BOUND)', async () => {
      const ch = await challenge();
      const res = await certLogin({
        username: 'admin1',
        challengeId: ch.challengeId,
        signature: signChallenge(strangerId.keyPem, ch.toSign),
        certificate: strangerId.certPem,
      });
      expect(code(res)).toBe('LOGIN_CERT_NOT_BOUND');
    });

    it('refuses an unknown user without saying so (LOGIN_CREDENTIALS_INVALID)', async () => {
      const ch = await challenge();
      const res = await certLogin({ username: 'nobody', challengeId: ch.challengeId, signature: 'AAAA' });
      expect(code(res)).toBe('LOGIN_CREDENTIALS_INVALID');
    });

    it('refuses a certificate outside the trust store or its validity (LOGIN_CERT_INVALID)', async () => {
      const otherCa = makeCa(tmp.dir, 'other-ca');
      const outsider = makeUserCert(tmp.dir, otherCa, 'outsider', 21);
      await seedUser(db, now, { username: 'outsider', roles: ['auditor'], certificate: outsider.certPem });
      const res = await certificateLogin(app, 'outsider', outsider.keyPem);
      expect(code(res)).toBe('LOGIN_CERT_INVALID');
      const saved = now;
      now += 40 * 86400_000; // past the 30-day user certificate
      try {
        const expired = await certificateLogin(app, 'admin1', adminId.keyPem);
        expect(code(expired)).toBe('LOGIN_CERT_INVALID');
      } finally {
        now = saved;
      }
    });

    it('refuses a user without a role (LOGIN_USER_NO_ROLE)', async () => {
      const id = makeUserCert(tmp.dir, ca, 'norole', 22);
      await seedUser(db, now, { username: 'norole', roles: [], certificate: id.certPem });
      expect(code(await certificateLogin(app, 'norole', id.keyPem))).toBe('LOGIN_USER_NO_ROLE');
    });

    it('logs every attempt with the result and the client address', async () => {
      const res = await clients.auditor!.request(
        'GET',
        '/audit/operations?action=login.certificate&pageSize=200',
      );
      const items = res.json<{ items: { detail: { result: string; ip: string; code?: string } }[] }>().items;
      expect(items.some((i) => i.detail.result === 'success')).toBe(true);
      expect(items.some((i) => i.detail.code === 'LOGIN_SIGNATURE_INVALID')).toBe(true);
      expect(items.every((i) => i.detail.ip === '127.0.0.1')).toBe(true);
    });
  });

  describe('password login, lockout, idle timeout, CSRF', () => {
    const pwLogin = (username: string, password: string) =>
      app.inject({
        method: 'POST',
        url: `${ADMIN_PREFIX}/auth/login/password`,
        payload: { username, password },
      });

    it('a one-time password must be changed first, with the complexity rules', async () => {
      const { oneTimePassword } = await seedUser(db, now, { username: 'pwuser', roles: ['auditor'] });
      const login = await pwLogin('pwuser', oneTimePassword!);
      expect(login.statusCode).toBe(200);
      expect(login.json<{ passwordMustChange: boolean }>().passwordMustChange).toBe(true);
      const c = clientOf(app, login);
      expect(code(await c.request('GET', '/audit/operations'))).toBe('ADMIN_PASSWORD_CHANGE_REQUIRED');
      expect(
        code(await c.request('POST', '/session/password', { current: 'wrong', next: 'Abcdefgh1234!' })),
      ).toBe('USER_PASSWORD_WRONG');
      expect(
        code(await c.request('POST', '/session/password', { current: oneTimePassword, next: 'short' })),
      ).toBe('USER_PASSWORD_WEAK');
      const ok = await c.request('POST', '/session/password', {
        current: oneTimePassword,
        next: 'Abcdefgh1234!',
      });
      expect(ok.statusCode).toBe(200);
      expect((await c.request('GET', '/audit/operations')).statusCode).toBe(200);
      expect((await pwLogin('pwuser', 'Abcdefgh1234!')).statusCode).toBe(200);
    });

    it('locks the user after maxLoginFailures failures (LOGIN_USER_LOCKED), also for the right password', async () => {
      const { oneTimePassword } = await seedUser(db, now, { username: 'locky', roles: ['auditor'] });
      for (let i = 0; i < 5; i++)
        expect(code(await pwLogin('locky', 'Wrong-password-1'))).toBe('LOGIN_CREDENTIALS_INVALID');
      expect(code(await pwLogin('locky', oneTimePassword!))).toBe('LOGIN_USER_LOCKED');
      const saved = now;
      now += 31 * 60_000;
      try {
        expect((await pwLogin('locky', oneTimePassword!)).statusCode).toBe(200);
      } finally {
        now = saved;
      }
    });

    it('ends an idle session (ADMIN_SESSION_EXPIRED) and requires one (ADMIN_SESSION_REQUIRED)', async () => {
      const c = clientOf(app, await certificateLogin(app, 'auditor1', auditorId.keyPem));
      const saved = now;
      now += 16 * 60_000;
      try {
        expect(code(await c.request('GET', '/session'))).toBe('ADMIN_SESSION_EXPIRED');
      } finally {
        now = saved;
      }
      const none = await app.inject({ method: 'GET', url: `${ADMIN_PREFIX}/session` });
      expect(none.statusCode).toBe(401);
      expect(code(none)).toBe('ADMIN_SESSION_REQUIRED');
    });

    it('refuses a state change without the CSRF token (ADMIN_CSRF_INVALID)', async () => {
      const c = clients.administrator!;
      const res = await c.request(
        'POST',
        '/projects',
        { number: 'P-CSRF', name: 'x' },
        { 'x-csrf-token': 'forged' },
      );
      expect(res.statusCode).toBe(403);
      expect(code(res)).toBe('ADMIN_CSRF_INVALID');
    });

    it('refuses a frozen user (LOGIN_USER_FROZEN) and password login when disabled (LOGIN_PASSWORD_DISABLED)', async () => {
      const id = makeUserCert(tmp.dir, ca, 'freezy', 23);
      await seedUser(db, now, { username: 'freezy', roles: ['auditor'], certificate: id.certPem });
      const admin = clients.administrator!;
      expect((await admin.request('POST', '/users/freeze', { refs: ['freezy'] })).statusCode).toBe(200);
      expect(code(await certificateLogin(app, 'freezy', id.keyPem))).toBe('LOGIN_USER_FROZEN');
      expect((await admin.request('PATCH', '/settings', { passwordLogin: false })).statusCode).toBe(200);
      expect(code(await pwLogin('pwuser', 'Abcdefgh1234!'))).toBe('LOGIN_PASSWORD_DISABLED');
      expect((await admin.request('POST', '/settings/reset', { keys: ['passwordLogin'] })).statusCode).toBe(
        200,
      );
    });
  });

  describe('users, roles, projects, applications, configuration, audit', () => {
    it('creates a project, an application (private key once) and an operator assigned to it', async () => {
      const admin = clients.administrator!;
      const p = await admin.request('POST', '/projects', { number: 'P-001', name: '电子病历' });
      expect(p.statusCode).toBe(201);
      const projectId = p.json<{ id: string }>().id;
      const a = await admin.request('POST', '/applications', { project: 'P-001', name: 'HIS' });
      expect(a.statusCode).toBe(201);
      expect(a.json<{ privateKeyPem: string }>().privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
      const op = makeUserCert(tmp.dir, ca, 'operator2', 31);
      const u = await admin.request('POST', '/users', {
        username: 'operator2',
        displayName: '张三',
        department: '信息科',
        roles: ['operator'],
        projects: ['P-001'],
        certificate: op.certPem,
      });
      expect(u.statusCode, u.body).toBe(201);
      const c = clientOf(app, await certificateLogin(app, 'operator2', op.keyPem));
      const projects = (await c.request('GET', '/projects')).json<{ id: string }[]>();
      expect(projects.map((x) => x.id)).toEqual([projectId]);
      const other = await admin.request('POST', '/projects', { number: 'P-002', name: '其他' });
      const otherId = other.json<{ id: string }>().id;
      expect(code(await c.request('GET', `/projects/${otherId}`))).toBe('ADMIN_PROJECT_SCOPE');
      const found = (await admin.request('GET', '/users?department=信息&role=role_operator')).json<
        {
          username: string;
        }[]
      >();
      expect(found.map((x) => x.username)).toEqual(['operator2']);
      const cert = await admin.request('GET', '/users/operator2/certificate');
      expect(cert.body).toBe(op.certPem.replace(/\r/g, ''));
      operator2 = c;
      appOf = a.json<{ application: { id: string }; privateKeyPem: string }>();
    });

    it('an operator searches, opens and re-verifies evidence of an assigned project only', async () => {
      const key = sm2.importPrivateKey(appOf!.privateKeyPem);
      const body = JSON.stringify({ serialNumber: 'D-100', algorithm: 'sm3', value: 'ab'.repeat(32) });
      const pushed = await app.inject({
        method: 'POST',
        url: '/api/v1/digests',
        payload: body,
        headers: {
          'content-type': 'application/json',
          ...signWithGm(key, {
            method: 'POST',
            url: '/api/v1/digests',
            body,
            appId: appOf!.application.id,
            timestamp: now,
          }),
        },
      });
      expect(pushed.statusCode, pushed.body).toBe(201);
      const id = pushed.json<{ id: string }>().id;
      const c = operator2!;
      const page = await c.request('GET', '/evidence/digest?project=P-001&serialNumber=D-100');
      expect(page.statusCode, page.body).toBe(200);
      expect(page.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual([id]);
      const detail = await c.request('GET', `/evidence/digest/${id}?project=P-001`);
      expect(detail.json<{ serialNumber: string }>().serialNumber).toBe('D-100');
      const report = await c.request('POST', `/evidence/digest/${id}/verify?project=P-001`);
      expect(report.statusCode, report.body).toBe(200);
      const checks = report.json<{ checks: { part: string; ok: boolean }[] }>().checks;
      expect(checks.find((x) => x.part === 'record')?.ok).toBe(true);
      expect(code(await c.request('GET', '/evidence/digest?project=P-002'))).toBe('ADMIN_PROJECT_SCOPE');
      expect(code(await clients.operator!.request('GET', '/evidence/digest?project=P-001'))).toBe(
        'ADMIN_PROJECT_SCOPE',
      );
      expect(code(await clients.administrator!.request('GET', '/evidence/digest?project=P-001'))).toBe(
        'ADMIN_PERMISSION_DENIED',
      );
    });

    it('an operator views and downloads the report and package, and exports selected records', async () => {
      const c = operator2!;
      const id = (await c.request('GET', '/evidence/digest?project=P-001&serialNumber=D-100')).json<{
        items: { id: string }[];
      }>().items[0]!.id;
      const pdf = await c.request('GET', `/evidence/digest/${id}/report?project=P-001`);
      expect(pdf.statusCode, pdf.body.slice(0, 200)).toBe(200);
      expect(pdf.headers['content-type']).toBe('application/pdf');
      expect(pdf.headers['content-disposition']).toBe(`attachment; filename="${id}.pdf"`);
      expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
      const view = await c.request(
        'GET',
        `/evidence/digest/${id}/report?project=P-001&inline=true&lang=en-US`,
      );
      expect(view.headers['content-disposition']).toMatch(/^inline;/);
      const pkg = await c.request('GET', `/evidence/digest/${id}/package?project=P-001`);
      expect(pkg.headers['content-type']).toBe('application/zip');
      expect(pkg.rawPayload.subarray(0, 2).toString()).toBe('PK');
      const csv = await c.request('POST', `/evidence/digest/export?project=P-001&format=csv`, { ids: [id] });
      expect(csv.statusCode, csv.body).toBe(200);
      const lines = csv.body.split('\r\n');
      expect(lines[0]).toMatch(/^\ufeffid,kind,app_id,serial_number,/);
      expect(lines[1]).toContain(`${id},digest,${appOf!.application.id},D-100,`);
      expect(lines[1]).toContain(`sm3:${'ab'.repeat(32)}`);
      const xlsx = await c.request('POST', `/evidence/digest/export?project=P-001&format=xlsx`, {
        ids: [id],
      });
      expect(xlsx.headers['content-type']).toBe(
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      );
      const { unzipSync, strFromU8 } = await import('fflate');
      const sheet = strFromU8(unzipSync(new Uint8Array(xlsx.rawPayload))['xl/worksheets/sheet1.xml']!);
      expect(sheet).toContain('<t xml:space="preserve">D-100</t>');
      const zips = await c.request('POST', `/evidence/digest/packages?project=P-001`, { ids: [id] });
      const inner = unzipSync(new Uint8Array(zips.rawPayload));
      expect(Object.keys(inner)).toEqual([`${id}.zip`]);
      expect(Object.keys(unzipSync(inner[`${id}.zip`]!))).toContain('record.json');
      // Refusals: an unknown record, too many records, another project, another role; each download is logged.
      expect(code(await c.request('GET', `/evidence/digest/sig_nope/report?project=P-001`))).toBe(
        'EVIDENCE_NOT_FOUND',
      );
      const many = Array.from({ length: 21 }, (_, i) => `d${i}`);
      expect(code(await c.request('POST', `/evidence/digest/packages?project=P-001`, { ids: many }))).toBe(
        'REQUEST_VALIDATION',
      );
      expect(
        code(await c.request('POST', `/evidence/digest/export?project=P-001&format=pdf`, { ids: [id] })),
      ).toBe('REQUEST_VALIDATION');
      expect(code(await c.request('GET', `/evidence/digest/${id}/report?project=P-002`))).toBe(
        'ADMIN_PROJECT_SCOPE',
      );
      expect(
        code(await clients.administrator!.request('GET', `/evidence/digest/${id}/report?project=P-001`)),
      ).toBe('ADMIN_PERMISSION_DENIED');
      const logged = (
        await clients.auditor!.request('GET', '/audit/operations?action=evidence.export')
      ).json<{
        items: { detail: { what: string } }[];
      }>().items;
      expect(logged.map((i) => i.detail.what).sort()).toEqual([
        'csv',
        'package',
        'packages',
        'report',
        'report',
        'xlsx',
      ]);
    });

    it('user error codes', async () => {
      const admin = clients.administrator!;
      expect(code(await admin.request('GET', '/users/nobody'))).toBe('USER_NOT_FOUND');
      expect(code(await admin.request('POST', '/users', { username: 'admin1', roles: ['auditor'] }))).toBe(
        'USER_USERNAME_TAKEN',
      );
      expect(
        code(
          await admin.request('POST', '/users', {
            username: 'x1',
            roles: ['auditor'],
            certificate: 'not a cert',
          }),
        ),
      ).toBe('USER_CERT_INVALID');
      expect(
        code(
          await admin.request('POST', '/users', {
            username: 'x2',
            roles: ['auditor'],
            certificate: adminId.certPem,
          }),
        ),
      ).toBe('USER_CERT_TAKEN');
      expect(code(await admin.request('GET', '/users/pwuser/certificate'))).toBe('USER_CERT_NONE');
      expect(code(await admin.request('DELETE', '/users/admin1'))).toBe('USER_SELF_FORBIDDEN');
      expect(code(await admin.request('PUT', '/users/admin1/roles', { roles: ['auditor'] }))).toBe(
        'USER_SELF_FORBIDDEN',
      );
    });

    it('role error codes and 三权分立', async () => {
      const admin = clients.administrator!;
      expect(code(await admin.request('GET', '/roles/nope'))).toBe('ROLE_NOT_FOUND');
      expect(code(await admin.request('POST', '/roles', { name: 'operator', permissions: [] }))).toBe(
        'ROLE_NAME_TAKEN',
      );
      expect(code(await admin.request('PATCH', '/roles/operator', { permissions: ['audit:read'] }))).toBe(
        'ROLE_BUILTIN',
      );
      expect(
        code(await admin.request('POST', '/roles', { name: 'bad', permissions: ['evidence:delete'] })),
      ).toBe('ROLE_PERMISSION_UNKNOWN');
      expect(
        code(
          await admin.request('POST', '/roles', { name: 'mixed', permissions: ['user:read', 'audit:read'] }),
        ),
      ).toBe('ROLE_DUTY_CONFLICT');
      expect(
        code(await admin.request('PUT', '/users/operator1/roles', { roles: ['operator', 'auditor'] })),
      ).toBe('ROLE_DUTY_CONFLICT');
      const r = await admin.request('POST', '/roles', { name: 'log-reader', permissions: ['audit:read'] });
      expect(r.statusCode).toBe(201);
      expect((await admin.request('PUT', '/users/pwuser/roles', { roles: ['log-reader'] })).statusCode).toBe(
        200,
      );
      expect(code(await admin.request('DELETE', '/roles/log-reader'))).toBe('ROLE_IN_USE');
      const perms = (await admin.request('GET', '/users/pwuser/permissions')).json<{
        permissions: string[];
      }>();
      expect(perms.permissions).toEqual(['audit:read']);
    });

    it('the API-log switch in the configuration takes effect at once', async () => {
      const admin = clients.administrator!;
      const key = sm2.importPrivateKey(appOf!.privateKeyPem);
      const ping = () =>
        app.inject({
          method: 'GET',
          url: '/api/v1/ping',
          headers: signWithGm(key, {
            method: 'GET',
            url: '/api/v1/ping',
            appId: appOf!.application.id,
            timestamp: now,
          }),
        });
      const count = async () =>
        Number(
          (
            await db.kysely
              .selectFrom('api_logs')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      expect((await admin.request('PATCH', '/settings', { apiLog: false })).statusCode).toBe(200);
      const before = await count();
      expect((await ping()).statusCode).toBe(200);
      expect((await ping()).statusCode).toBe(200);
      expect((await admin.request('POST', '/settings/reset', { keys: ['apiLog'] })).statusCode).toBe(200);
      expect((await ping()).statusCode).toBe(200);
      await eventually(async () => (await count()) > before);
      expect(await count()).toBe(before + 1);
    });

    it('configuration: modify, reset, and the 180-day log retention floor', async () => {
      const admin = clients.administrator!;
      const s = await admin.request('PATCH', '/settings', { unitName: '某某医院', retentionYears: 15 });
      expect(s.json<{ unitName: string }>().unitName).toBe('某某医院');
      expect(code(await admin.request('PATCH', '/settings', { nope: 1 }))).toBe('SETTING_UNKNOWN');
      expect(code(await admin.request('PATCH', '/settings', { logRetentionDays: 179 }))).toBe(
        'SETTING_INVALID',
      );
      const reset = await admin.request('POST', '/settings/reset', {});
      expect(reset.json<{ unitName: string; retentionYears: number }>().retentionYears).toBe(30);
    });

    it('audit: query, detail, CSV export, integrity; AUDIT_ENTRY_NOT_FOUND', async () => {
      const auditor = clients.auditor!;
      const page = (await auditor.request('GET', '/audit/operations?action=project.create')).json<{
        nextCursor: string | null;
        items: { seq: number; actor: string }[];
      }>();
      expect(page.items.length).toBeGreaterThanOrEqual(2);
      expect(page.nextCursor).toBeNull();
      expect(page.items[0]!.actor).toBe('console:admin1@127.0.0.1');
      // Keyset paging: pages of 3 walk the whole log newest first, without gaps or repeats.
      const all = (await auditor.request('GET', '/audit/operations?pageSize=200')).json<{
        items: { seq: number }[];
      }>().items;
      const walked: number[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const res = await auditor.request(
          'GET',
          `/audit/operations?pageSize=3${cursor === '' ? '' : `&cursor=${cursor}`}`,
        );
        const p = res.json<{ nextCursor: string | null; items: { seq: number }[] }>();
        expect(p.items.length).toBeLessThanOrEqual(3);
        walked.push(...p.items.map((i) => i.seq));
        cursor = p.nextCursor;
        if (walked.length > all.length + 3) break;
      }
      expect(walked.slice(0, all.length)).toEqual(all.map((i) => i.seq));
      expect(walked.length).toBeGreaterThan(3);
      expect(code(await auditor.request('GET', '/audit/operations?cursor=abc'))).toBe('REQUEST_VALIDATION');
      expect(code(await auditor.request('GET', '/audit/operations?page=2'))).toBe('REQUEST_VALIDATION');
      const one = await auditor.request('GET', `/audit/operations/${page.items[0]!.seq}`);
      expect(one.statusCode).toBe(200);
      expect(code(await auditor.request('GET', '/audit/operations/99999999'))).toBe('AUDIT_ENTRY_NOT_FOUND');
      const csv = await auditor.request('GET', '/audit/operations/export?action=project.create');
      expect(csv.headers['content-type']).toMatch(/text\/csv/);
      expect(csv.body.split('\r\n')[0]).toBe(
        '\ufeffseq,at,actor,action,target_type,target_id,project_id,detail,prev_hash,hash',
      );
      const integrity = (await auditor.request('GET', '/audit/integrity')).json<{
        operationLog: { ok: boolean };
      }>();
      expect(integrity.operationLog.ok).toBe(true);
      // Failed state changes are logged too.
      const failed = (await auditor.request('GET', '/audit/operations?action=admin.request')).json<{
        items: { detail: { result: string; code: string } }[];
      }>();
      expect(failed.items.some((i) => i.detail.code === 'ADMIN_CSRF_INVALID')).toBe(true);
    });
  });

  describe('every admin route × built-in role', () => {
    it('matches the allow/deny matrix, and the built-in roles are exactly the matrix', async () => {
      for (const [name, perms] of Object.entries(ALLOW)) {
        expect([...BUILTIN_ROLES[name as keyof typeof ALLOW].permissions].sort()).toEqual([...perms].sort());
      }
      expect(app.adminRoutes.length).toBeGreaterThan(30);
      for (const route of app.adminRoutes) {
        const url = route.url
          .replace(ADMIN_PREFIX, '')
          .replace(':ref', 'zz-none')
          .replace(':seq', '99999999');
        for (const [role, perms] of Object.entries(ALLOW)) {
          if (route.public || route.url.endsWith('/auth/logout')) continue;
          const res = await clients[role]!.request(
            route.method,
            url,
            route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
          );
          const denied = res.statusCode === 403 && code(res) === 'ADMIN_PERMISSION_DENIED';
          const expectDenied = route.permission !== undefined && !perms.includes(route.permission);
          expect(
            denied,
            `${role} ${route.method} ${route.url} → ${res.statusCode} ${res.body.slice(0, 120)}`,
          ).toBe(expectDenied);
          expect(res.statusCode, `${role} ${route.method} ${route.url}`).toBeLessThan(500);
        }
      }
      for (const c of Object.values(clients)) {
        expect((await c.request('POST', '/auth/logout')).statusCode).toBe(200);
        expect(code(await c.request('GET', '/session'))).toBe('ADMIN_SESSION_REQUIRED');
      }
      // No route edits or deletes a log entry.
      expect(app.adminRoutes.filter((r) => r.url.includes('/audit') && r.method !== 'GET')).toEqual([]);
    });
  });
});
