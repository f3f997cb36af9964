/**
 * Shared by the crash test and the benchmarks: a test database (SQLite file or a fresh PostgreSQL database), the
 * server as a child process (`node apps/server/dist/main.js`, so run `npm run build` first), one project with
 * one application, and a client that signs every request (X-Yz-* headers, SM2 over the string to sign).
 * Everything listens on 127.0.0.1 only. Provisioning uses the built `@yizheng/server` too, so its migrations and
 * services are the child's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sm2, type Sm2PrivateKey } from '@yizheng/gm';
import pg from 'pg';
// The built server (what the child process runs), so migrations and services match it exactly.
import {
  applications,
  migrateToLatest,
  openDatabase,
  projects,
  SIGNATURE_USER_ID,
  stringToSign,
  type DatabaseConfig,
  type Db,
} from '@yizheng/server';

export const SERVER_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export type HarnessDialect = 'sqlite' | 'postgres';

export interface Workspace {
  dialect: HarnessDialect;
  dataDir: string;
  database: DatabaseConfig;
  /** DATABASE_URL for the child ('' for SQLite in the data directory). */
  databaseUrl: string;
  remove(): Promise<void>;
}

/** A fresh data directory, and for PostgreSQL a fresh database on `adminUrl` (dropped by `remove`). */
export async function createWorkspace(
  dialect: HarnessDialect,
  adminUrl = process.env.YIZHENG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
): Promise<Workspace> {
  const dataDir = mkdtempSync(join(tmpdir(), 'yz-harness-'));
  if (dialect === 'sqlite') {
    return {
      dialect,
      dataDir,
      database: { dialect: 'sqlite', file: join(dataDir, 'yizheng.db') },
      databaseUrl: '',
      remove: () => {
        rmSync(dataDir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  }
  const name = `yz_h_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    dialect,
    dataDir,
    database: { dialect: 'postgres', url, poolSize: 8 },
    databaseUrl: url,
    remove: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestApplication {
  appId: string;
  key: Sm2PrivateKey;
}

/** Migrates the workspace database and creates one project with one application (closes the connection). */
export async function provision(ws: Workspace, projectNumber = 'P-HARNESS'): Promise<TestApplication> {
  const db = await openDatabase(ws.database);
  try {
    await migrateToLatest(db.kysely);
    const ctx = { db: db.kysely, now: () => Date.now(), actor: 'harness' };
    await projects.createProject({ ctx, number: projectNumber, name: '压力测试' });
    const created = await applications.createApplication({
      ctx,
      project: projectNumber,
      name: 'HIS',
      vendor: 'bench',
    });
    return { appId: created.application.id, key: sm2.importPrivateKey(created.privateKeyPem!) };
  } finally {
    await db.close();
  }
}

export async function openWorkspaceDb(ws: Workspace): Promise<Db> {
  return openDatabase(ws.database);
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolvePort(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** SIGKILL, then wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful close), then wait for the exit. */
  stop(): Promise<void>;
  /** Captured stderr (the last 64 KiB). */
  stderr(): string;
}

/** Starts `node apps/server/dist/main.js` on the workspace; resolves once /healthz answers. */
export async function startServer(
  ws: Workspace,
  port: number,
  env: Readonly<Record<string, string>> = {},
  /** Node options before the script, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [...nodeArgs, SERVER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      YIZHENG_HOST: '127.0.0.1',
      YIZHENG_PORT: String(port),
      YIZHENG_DATA_DIR: ws.dataDir,
      DATABASE_URL: ws.databaseUrl,
      YIZHENG_LOG_LEVEL: 'warn',
      YIZHENG_RATE_LIMIT: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString('utf8')).slice(-65_536);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  const proc: ServerProcess = {
    child,
    base,
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    stderr: () => err,
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${err}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.kill9();
      throw new Error(`server did not become healthy in 60 s: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SignedResponse {
  status: number;
  text: string;
}

/** One signed call of the application API. */
export async function signedFetch(
  base: string,
  app: TestApplication,
  method: 'GET' | 'POST',
  url: string,
  body?: string,
): Promise<SignedResponse> {
  const bytes = body === undefined ? new Uint8Array(0) : utf8(body);
  const timestamp = String(Date.now());
  const nonce = randomBytes(18).toString('base64url');
  const message = stringToSign({ method, url, timestamp, nonce, body: bytes });
  const signature = sm2.sign(app.key, message, { id: SIGNATURE_USER_ID });
  const headers: Record<string, string> = {
    'x-yz-app': app.appId,
    'x-yz-timestamp': timestamp,
    'x-yz-nonce': nonce,
    'x-yz-signature': Buffer.from(signature).toString('base64'),
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${base}${url}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: r.status, text: await r.text() };
}

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
