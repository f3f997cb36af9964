/**
 * The signed application API guard (see `auth/signing.ts` for the scheme). Registered as a `preValidation`
 * hook on the `/api/v1` scope, so it runs after the body bytes are read and before the body is validated: an
 * unauthenticated caller learns nothing about the schema. Checks, in order, each with its own code:
 *
 *  1. headers present (AUTH_HEADERS_MISSING) and well formed (AUTH_HEADER_INVALID);
 *  2. the application exists (AUTH_APP_UNKNOWN);
 *  3. |server time − X-Yz-Timestamp| ≤ 300 s (AUTH_TIMESTAMP_SKEW);
 *  4. the signature verifies under the current key (AUTH_SIGNATURE_INVALID), or else under a rotated-out key
 *     (AUTH_KEY_REVOKED);
 *  5. the nonce was never used by this application (AUTH_NONCE_REPLAY) — stored in the database, so also after
 *     a restart, until it expires (timestamp + 2 × skew + 1 min; the purge job removes expired nonces);
 *  6. the application is active (AUTH_APP_FROZEN, 403).
 *
 * A frozen project does not block authentication; data operations check it (PROJECT_FROZEN).
 */
import { isGmError, sm2, type Sm2PublicKey } from '@yizheng/gm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import { parseSignedHeaders, SIGNATURE_USER_ID, stringToSign } from '../auth/signing.js';
import { isUniqueViolation } from '../db/connect.js';
import { insertRows } from '../db/insert-rows.js';
import { GroupCommitWriter } from '../evidence/group-commit.js';
import type { Database, ProjectStatus } from '../db/schema.js';
import { YzError } from '../errors.js';
import { revokedKeys } from '../modules/applications/repo.js';
import { createAuthSubjectCache } from './auth-subjects.js';

export interface AppAuth {
  appId: string;
  appName: string;
  projectId: string;
  projectNumber: string;
  projectStatus: ProjectStatus;
  keyVersion: number;
  /** The application's default tags (合并 into every record it pushes). */
  defaultTags: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the signed-API guard on every authenticated request. */
    appAuth: AppAuth | undefined;
  }
  interface FastifyInstance {
    verifySignedRequest(request: FastifyRequest): Promise<void>;
  }
}

export interface AuthPluginOptions {
  now(): number;
  maxSkewMs: number;
  nonceTtlMs: number;
  /** How long a cached application is trusted without a re-read (changes made in this process apply at once). */
  subjectTtlMs?: number;
}

function tagsOf(json: string): readonly string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

/** The default tags of a cached subject, parsed once per subject object (frozen: every request shares them). */
const SUBJECT_TAGS = new WeakMap<object, readonly string[]>();
function defaultTagsOf(subject: { default_tags: string }): readonly string[] {
  let tags = SUBJECT_TAGS.get(subject);
  if (tags === undefined) {
    tags = Object.freeze(tagsOf(subject.default_tags));
    SUBJECT_TAGS.set(subject, tags);
  }
  return tags;
}

const utf8 = new TextEncoder();

/** How many rotated-out keys are tried to tell AUTH_KEY_REVOKED from AUTH_SIGNATURE_INVALID. */
const REVOKED_KEYS_TRIED = 5;

/**
 * Verifies with parsed public keys cached by SPKI (parsing a point costs more than the lookup); one per app.
 * Synchronous: one SM2 verification is ~45 µs of CPU, and the profile shows `verifyAsync` costing the event loop
 * about three times that (the work is not moved off it on a busy machine, and the promise round trip is added).
 */
function createVerifier(): (spkiBase64: string, message: Uint8Array, signature: Uint8Array) => boolean {
  const keyCache = new Map<string, Sm2PublicKey>();
  const publicKey = (spkiBase64: string): Sm2PublicKey => {
    let k = keyCache.get(spkiBase64);
    if (k === undefined) {
      k = sm2.importPublicKey(new Uint8Array(Buffer.from(spkiBase64, 'base64')));
      if (keyCache.size > 10_000) keyCache.clear();
      keyCache.set(spkiBase64, k);
    }
    return k;
  };
  return (spkiBase64, message, signature) => {
    try {
      return sm2.verify(publicKey(spkiBase64), message, signature, { id: SIGNATURE_USER_ID });
    } catch (e) {
      if (isGmError(e)) return false;
      throw e;
    }
  };
}

interface NonceRow {
  app_id: string;
  nonce: string;
  expires_at: string;
}

/**
 * Nonces of concurrent requests are recorded by group commit: one transaction (one fsync) for all the nonces
 * queued while the previous one committed. Each request still waits for its own nonce to be committed before
 * it goes on, so a replay is refused also after a restart. A batch holding a used nonce (or the same nonce
 * twice) fails on the unique index as a whole and is retried nonce by nonce, so exactly the replays get false.
 */
export function createNonceWriter(db: Kysely<Database>): GroupCommitWriter<NonceRow, boolean> {
  return new GroupCommitWriter<NonceRow, boolean>({
    name: 'nonce',
    maxItems: 1000,
    // Nonce batches need no order among themselves: two may commit at once (the unique index settles a race).
    concurrency: 2,
    overloaded: () => new YzError('NOT_READY', 'too many requests waiting: retry later'),
    writeMany: async (rows) => {
      await insertRows(db, 'used_nonces', rows);
      return rows.map(() => true);
    },
    writeOne: (r) => rememberNonce(db, r.app_id, r.nonce, r.expires_at),
  });
}

export async function rememberNonce(
  db: Kysely<Database>,
  appId: string,
  nonce: string,
  expiresAt: string,
): Promise<boolean> {
  try {
    await insertRows(db, 'used_nonces', [{ app_id: appId, nonce, expires_at: expiresAt }]);
    return true;
  } catch (e) {
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}

function authPlugin(app: FastifyInstance, options: AuthPluginOptions): void {
  app.decorateRequest('appAuth', undefined);
  const verifies = createVerifier();
  const nonces = createNonceWriter(app.db);
  const subjects = createAuthSubjectCache({
    db: app.db,
    now: () => options.now(),
    ...(options.subjectTtlMs !== undefined ? { ttlMs: options.subjectTtlMs } : {}),
  });
  app.addHook('onClose', async () => {
    subjects.close();
    await nonces.close();
  });
  app.decorate('verifySignedRequest', async (request: FastifyRequest): Promise<void> => {
    const h = parseSignedHeaders(request.headers);
    const subject = await subjects.get(h.appId);
    if (subject === undefined) throw new YzError('AUTH_APP_UNKNOWN', h.appId);
    const now = options.now();
    if (Math.abs(now - h.timestamp) > options.maxSkewMs) {
      throw new YzError('AUTH_TIMESTAMP_SKEW', `server time ${now}, request ${h.timestampText}`);
    }
    const message = utf8.encode(
      stringToSign({
        method: request.method,
        url: request.raw.url ?? request.url,
        timestamp: h.timestampText,
        nonce: h.nonce,
        body: request.rawBody ?? new Uint8Array(0),
      }),
    );
    if (!verifies(subject.public_key, message, h.signature)) {
      const old = await revokedKeys(app.db, subject.id, REVOKED_KEYS_TRIED);
      let hit: (typeof old)[number] | undefined;
      for (const k of old)
        if (verifies(k.public_key, message, h.signature)) {
          hit = k;
          break;
        }
      if (hit !== undefined)
        throw new YzError(
          'AUTH_KEY_REVOKED',
          `key version ${hit.version} was revoked at ${hit.revoked_at ?? ''}`,
        );
      throw new YzError('AUTH_SIGNATURE_INVALID');
    }
    const expiresAt = new Date(Math.max(now, h.timestamp) + options.nonceTtlMs).toISOString();
    if (!(await nonces.submit({ app_id: subject.id, nonce: h.nonce, expires_at: expiresAt })))
      throw new YzError('AUTH_NONCE_REPLAY', h.nonce);
    if (subject.status !== 'active') throw new YzError('AUTH_APP_FROZEN', subject.id);
    request.appAuth = {
      appId: subject.id,
      appName: subject.name,
      projectId: subject.project_id,
      projectNumber: subject.project_number,
      projectStatus: subject.project_status,
      keyVersion: subject.key_version,
      defaultTags: defaultTagsOf(subject),
    };
  });
}

export default fp(authPlugin, {
  name: 'yizheng-auth',
  fastify: '5.x',
  dependencies: ['yizheng-db', 'yizheng-raw-body'],
});

/** For routes: the authenticated application (the guard guarantees it on /api/v1). */
export function appAuthOf(request: FastifyRequest): AppAuth {
  if (request.appAuth === undefined) throw new YzError('AUTH_HEADERS_MISSING');
  return request.appAuth;
}
