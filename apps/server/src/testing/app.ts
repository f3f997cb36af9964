/** Test helpers: a config over a test database, a built app, a fixed clock, and request signers (gm and openssl). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2, type Sm2PrivateKey } from '@yizheng/gm';
import type { FastifyInstance } from 'fastify';
import { build, type BuildOptions } from '../app.js';
import { SIGNATURE_USER_ID, stringToSign } from '../auth/signing.js';
import { DEFAULTS, type DatabaseConfig, type ServerConfig } from '../config.js';
import type { ServiceContext } from '../context.js';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';

/** 2026-11-24T12:00:00.000Z — the tests' "now". */
export const T0 = Date.UTC(2026, 10, 24, 12, 0, 0, 0);

export function tempDir(prefix = 'yz-srv-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function testConfig(
  database: DatabaseConfig,
  dataDir: string,
  overrides: Partial<ServerConfig> = {},
): ServerConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    dataDir,
    database,
    kekFile: join(dataDir, 'kek.key'),
    logLevel: 'silent',
    bodyLimit: 64 * 1024,
    rateLimitPerMinute: 0,
    auth: { maxSkewMs: DEFAULTS.maxSkewMs, nonceTtlMs: 2 * DEFAULTS.maxSkewMs + 60_000 },
    migrateOnStart: true,
    apiLog: true,
    ...overrides,
  };
}

export async function testApp(config: ServerConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await build(config, { logger: false, jobs: false, now: () => T0, ...options });
  await app.ready();
  return app;
}

export async function openMigrated(database: DatabaseConfig): Promise<Db> {
  const db = await openDatabase(database);
  await migrateToLatest(db.kysely);
  return db;
}

export function ctxOf(db: Db, now: () => number = () => T0): ServiceContext {
  return { db: db.kysely, now, actor: 'test' };
}

export interface SignedRequestInput {
  method: string;
  url: string;
  body?: string | Uint8Array;
  appId: string;
  timestamp?: number | string;
  nonce?: string;
}

let nonceCounter = 0;
/** A fresh, valid nonce (deterministic within a run). */
export function nextNonce(): string {
  nonceCounter++;
  return `test-nonce-${String(nonceCounter).padStart(8, '0')}`;
}

function parts(input: SignedRequestInput): { ts: string; nonce: string; body: Uint8Array; message: string } {
  const ts = String(input.timestamp ?? T0);
  const nonce = input.nonce ?? nextNonce();
  const body =
    typeof input.body === 'string' ? new TextEncoder().encode(input.body) : (input.body ?? new Uint8Array(0));
  const message = stringToSign({ method: input.method, url: input.url, timestamp: ts, nonce, body });
  return { ts, nonce, body, message };
}

function headers(appId: string, ts: string, nonce: string, sig: Uint8Array): Record<string, string> {
  return {
    'x-yz-app': appId,
    'x-yz-timestamp': ts,
    'x-yz-nonce': nonce,
    'x-yz-signature': Buffer.from(sig).toString('base64'),
  };
}

/** Signs with @yizheng/gm; returns the headers to send. */
export function signWithGm(key: Sm2PrivateKey, input: SignedRequestInput): Record<string, string> {
  const { ts, nonce, message } = parts(input);
  return headers(input.appId, ts, nonce, sm2.sign(key, message, { id: SIGNATURE_USER_ID }));
}

/**
 * Signs with the openssl CLI, an independent implementation:
 * `openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:1234567812345678 -inkey KEY -in MSG`.
 */
export function signWithOpenssl(
  keyPemFile: string,
  workDir: string,
  input: SignedRequestInput,
): Record<string, string> {
  const { ts, nonce, message } = parts(input);
  const msgFile = join(workDir, `msg-${nonce}.txt`);
  writeFileSync(msgFile, message);
  const sig = execFileSync('openssl', [
    'pkeyutl',
    '-sign',
    '-rawin',
    '-digest',
    'sm3',
    '-pkeyopt',
    `distid:${SIGNATURE_USER_ID}`,
    '-inkey',
    keyPemFile,
    '-in',
    msgFile,
  ]);
  return headers(input.appId, ts, nonce, new Uint8Array(sig));
}

/** Waits until `check` holds (work done after a response is sent, such as the API log), yielding between tries. */
export async function eventually(check: () => Promise<boolean>, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition not reached');
}
