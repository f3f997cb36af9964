/**
 * Test support for the console (tests only): an SM2 CA and user certificates made with the openssl CLI, a
 * built app with a first administrator, and a logged-in client (cookie + CSRF) over `app.inject()`.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, createSign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sm2 } from '@yizheng/gm';
import { parseCertificate } from '@yizheng/pki';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Db } from '../../db/connect.js';
import { SESSION_COOKIE } from '../../plugins/session.js';
import { ADMIN_PREFIX } from './routes.js';
import { ensureBuiltinRoles } from './roles/service.js';
import { createUser } from './users/service.js';

export interface TestIdentity {
  keyFile: string;
  keyPem: string;
  certPem: string;
  certFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function sm2Key(dir: string, name: string): string {
  const ec = join(dir, `${name}.ec.pem`);
  const key = join(dir, `${name}.key.pem`);
  openssl(['ecparam', '-genkey', '-name', 'SM2', '-noout', '-out', ec], dir);
  openssl(['pkcs8', '-topk8', '-nocrypt', '-in', ec, '-out', key], dir);
  return key;
}

/** A self-signed SM2 CA (CA:true, keyCertSign, cRLSign). */
export function makeCa(dir: string, name = 'ca'): TestIdentity {
  const keyFile = sm2Key(dir, name);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    '[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n',
  );
  const certFile = join(dir, `${name}.crt`);
  openssl(
    [
      'req',
      '-new',
      '-x509',
      '-key',
      keyFile,
      '-subj',
      `/CN=Test ${name}`,
      '-days',
      '365',
      '-sm3',
      '-sigopt',
      'distid:1234567812345678',
      '-config',
      ext,
      '-extensions',
      'v3',
      '-out',
      certFile,
    ],
    dir,
  );
  return {
    keyFile,
    keyPem: readFileSync(keyFile, 'utf8'),
    certFile,
    certPem: readFileSync(certFile, 'utf8'),
  };
}

function rsaKey(dir: string, name: string): string {
  const key = join(dir, `${name}.key.pem`);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key], dir);
  return key;
}

/** A user certificate (digitalSignature) issued by `ca`, for an SM2 (default) or RSA key. */
export function makeUserCert(
  dir: string,
  ca: TestIdentity,
  name: string,
  serial: number,
  keyType: 'sm2' | 'rsa' = 'sm2',
): TestIdentity {
  const keyFile = keyType === 'rsa' ? rsaKey(dir, name) : sm2Key(dir, name);
  const csr = join(dir, `${name}.csr`);
  openssl(
    [
      'req',
      '-new',
      '-key',
      keyFile,
      '-subj',
      `/CN=${name}`,
      ...(keyType === 'rsa' ? ['-sha256'] : ['-sm3', '-sigopt', 'distid:1234567812345678']),
      '-out',
      csr,
    ],
    dir,
  );
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, 'basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\n');
  const certFile = join(dir, `${name}.crt`);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      String(serial),
      '-days',
      '30',
      '-sm3',
      '-sigopt',
      'distid:1234567812345678',
      ...(keyType === 'rsa' ? [] : ['-vfyopt', 'distid:1234567812345678']),
      '-extfile',
      ext,
      '-out',
      certFile,
    ],
    dir,
  );
  return {
    keyFile,
    keyPem: readFileSync(keyFile, 'utf8'),
    certFile,
    certPem: readFileSync(certFile, 'utf8'),
  };
}

/** A clock one hour into the certificate's validity (deterministic, tied to the test certificates). */
export function clockWithin(certPem: string): number {
  return parseCertificate(certPem).notBefore.getTime() + 3600_000;
}

/** Signs a login challenge text as the browser does (SM2 with the default ID, or RSA PKCS#1 v1.5 SHA-256), base64. */
export function signChallenge(keyPem: string, text: string): string {
  if (createPublicKey(keyPem).asymmetricKeyType === 'rsa')
    return createSign('sha256').update(text, 'utf8').sign(keyPem).toString('base64');
  const key = sm2.importPrivateKey(keyPem);
  return Buffer.from(sm2.sign(key, new TextEncoder().encode(text))).toString('base64');
}

export interface ConsoleClient {
  csrf: string;
  cookie: string;
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

function cookieOf(res: LightMyRequestResponse): string {
  const raw = res.headers['set-cookie'];
  const line = Array.isArray(raw) ? raw[0] : raw;
  const m = new RegExp(`${SESSION_COOKIE}=([^;]*)`).exec(line ?? '');
  if (!m) throw new Error(`no session cookie (status ${res.statusCode}: ${res.body})`);
  return `${SESSION_COOKIE}=${m[1]}`;
}

export function clientOf(app: FastifyInstance, login: LightMyRequestResponse): ConsoleClient {
  const cookie = cookieOf(login);
  const csrf = login.json<{ csrfToken: string }>().csrfToken;
  return {
    csrf,
    cookie,
    request: (method, path, body, headers = {}) =>
      app.inject({
        method: method as 'GET',
        url: `${ADMIN_PREFIX}${path}`,
        headers: { cookie, 'x-csrf-token': csrf, ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      }),
  };
}

/** Certificate login over inject; returns the raw response. */
export async function certificateLogin(
  app: FastifyInstance,
  username: string,
  keyPem: string,
  certPem?: string,
): Promise<LightMyRequestResponse> {
  const ch = await app.inject({ method: 'POST', url: `${ADMIN_PREFIX}/auth/challenge` });
  const { challengeId, toSign } = ch.json<{ challengeId: string; toSign: string }>();
  return app.inject({
    method: 'POST',
    url: `${ADMIN_PREFIX}/auth/login/certificate`,
    payload: {
      username,
      challengeId,
      signature: signChallenge(keyPem, toSign),
      ...(certPem ? { certificate: certPem } : {}),
    },
  });
}

/** Creates a user directly through the service (bootstrap, as `yizheng admin create` does). */
export async function seedUser(
  db: Db,
  now: number,
  options: { username: string; roles: string[]; certificate?: string; projects?: string[] },
): Promise<{ id: string; oneTimePassword: string | undefined }> {
  await ensureBuiltinRoles({ db: db.kysely, now });
  const r = await createUser({ ctx: { db: db.kysely, now: () => now, actor: 'test' }, ...options });
  return { id: r.user.id, oneTimePassword: r.oneTimePassword };
}
