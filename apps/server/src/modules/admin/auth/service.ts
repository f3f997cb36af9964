/**
 * Console login (seed §4) and sessions.
 *
 * Certificate login: {@link createChallenge} issues a one-time random challenge (expires after
 * `challengeTtlSeconds`, consumed by the first login attempt that names it, successful or not); the browser signs
 * {@link challengeText} with the user's SM2 (or RSA/ECDSA) key; {@link loginWithCertificate} checks, in order,
 * the challenge, the user (exists, not locked, not frozen), that the presented certificate is the one bound to
 * the user, the signature with that certificate, the certificate itself (chain to the configured trust anchors
 * at the current time, validity, key usage, revocation when CRLs are configured — without trust anchors the
 * bound certificate is its own anchor, so validity is still checked) and that the user has a role.
 *
 * Password login (when `passwordLogin` is on): scrypt, lockout after `maxLoginFailures` failures for
 * `lockoutMinutes`. Sessions: a random 256-bit token in an HttpOnly SameSite=Strict cookie and a CSRF token for
 * state-changing calls; only their SHA-256 is stored; idle timeout `idleTimeoutMinutes`, absolute 12 h.
 * Every attempt, successful or not, is written to the operation log with the client address.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  KEY_USAGE,
  checkRevocation,
  gmSm2Provider,
  isPkiError,
  parseCertificate,
  verifyChain,
  verifyCrl,
  verifyRawSignature,
  type ParsedCertificate,
  type ParsedCrl,
} from '@yizheng/pki';
import type { Kysely } from 'kysely';
import { appendToChain } from '../../../audit/hash-chain.js';
import { isoTime } from '../../../context.js';
import type { Database } from '../../../db/schema.js';
import { YzError, isYzError, type ErrorCode } from '../../../errors.js';
import type { Settings } from '../settings/service.js';
import * as rolesRepo from '../roles/repo.js';
import { certificateFingerprint } from '../users/service.js';
import * as usersRepo from '../users/repo.js';
import { hashPassword, verifyPassword, MAX_PASSWORD_LENGTH } from './password.js';

/** Sessions end 12 h after login whatever the activity. */
export const SESSION_MAX_AGE_MS = 12 * 3600_000;
const CHALLENGE_DOMAIN = 'yizheng-console-login-v1';

/** What the browser signs (UTF-8). Domain-separated, so a login signature is useless anywhere else. */
export function challengeText(challengeId: string, challenge: string): string {
  return `${CHALLENGE_DOMAIN}\n${challengeId}\n${challenge}`;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Constant-time comparison of two secrets through their hashes (equal length by construction). */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(sha256Hex(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface TrustStore {
  anchors: readonly ParsedCertificate[];
  intermediates: readonly ParsedCertificate[];
  crls: readonly ParsedCrl[];
}

export interface Challenge {
  challengeId: string;
  challenge: string;
  /** The exact text to sign. */
  toSign: string;
  expiresAt: string;
}

export async function createChallenge(options: {
  db: Kysely<Database>;
  now: number;
  ttlSeconds: number;
}): Promise<Challenge> {
  const { db, now } = options;
  const id = `chl_${randomBytes(12).toString('hex')}`;
  const challenge = randomBytes(32).toString('base64url');
  const expiresAt = isoTime(now + options.ttlSeconds * 1000);
  // Expired challenges older than a minute are of no use any more.
  await db
    .deleteFrom('admin_login_challenges')
    .where('expires_at', '<', isoTime(now - 60_000))
    .execute();
  await db
    .insertInto('admin_login_challenges')
    .values({ id, challenge, created_at: isoTime(now), expires_at: expiresAt, used_at: null })
    .execute();
  return { challengeId: id, challenge, toSign: challengeText(id, challenge), expiresAt };
}

/** Marks the challenge used (exactly once, also under concurrency) and returns its text. */
async function consumeChallenge(db: Kysely<Database>, id: string, now: number): Promise<string> {
  const row = await db
    .selectFrom('admin_login_challenges')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (row === undefined) throw new YzError('LOGIN_CHALLENGE_UNKNOWN');
  if (row.used_at !== null) throw new YzError('LOGIN_CHALLENGE_USED');
  const r = await db
    .updateTable('admin_login_challenges')
    .set({ used_at: isoTime(now) })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new YzError('LOGIN_CHALLENGE_USED');
  if (row.expires_at < isoTime(now)) throw new YzError('LOGIN_CHALLENGE_EXPIRED');
  return challengeText(row.id, row.challenge);
}

export interface LoginResult {
  /** The session token (cookie value): never stored, never logged. */
  token: string;
  csrfToken: string;
  userId: string;
  username: string;
  passwordMustChange: boolean;
}

interface LoginContext {
  db: Kysely<Database>;
  now: number;
  ip: string;
  settings: Settings;
}

async function logAttempt(
  ctx: LoginContext,
  method: 'certificate' | 'password',
  username: string,
  userId: string | undefined,
  result: 'success' | 'failure',
  code?: ErrorCode,
): Promise<void> {
  await appendToChain({
    db: ctx.db,
    table: 'operation_logs',
    entry: {
      at: isoTime(ctx.now),
      actor: `console:${username.slice(0, 64)}@${ctx.ip}`,
      action: `login.${method}`,
      target_type: 'user',
      target_id: (userId ?? username).slice(0, 64),
      project_id: null,
      detail: JSON.stringify({ ip: ctx.ip, result, ...(code ? { code } : {}) }),
    },
  });
}

async function recordFailure(ctx: LoginContext, user: usersRepo.UserRow): Promise<void> {
  const failures = user.failed_logins + 1;
  const lock = failures >= ctx.settings.maxLoginFailures;
  await usersRepo.updateUser(ctx.db, user.id, {
    failed_logins: lock ? 0 : failures,
    ...(lock ? { locked_until: isoTime(ctx.now + ctx.settings.lockoutMinutes * 60_000) } : {}),
  });
}

function assertUsable(ctx: LoginContext, user: usersRepo.UserRow): void {
  if (user.locked_until !== null && user.locked_until > isoTime(ctx.now))
    throw new YzError('LOGIN_USER_LOCKED');
  if (user.status !== 'active') throw new YzError('LOGIN_USER_FROZEN');
}

export async function createSession(options: {
  db: Kysely<Database>;
  now: number;
  userId: string;
  method: string;
  ip: string;
}): Promise<{ token: string; csrfToken: string }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const at = isoTime(options.now);
  await options.db
    .insertInto('admin_sessions')
    .values({
      token_hash: sha256Hex(token),
      csrf_hash: sha256Hex(csrfToken),
      user_id: options.userId,
      method: options.method,
      ip: options.ip.slice(0, 64),
      created_at: at,
      last_seen_at: at,
      expires_at: isoTime(options.now + SESSION_MAX_AGE_MS),
    })
    .execute();
  return { token, csrfToken };
}

async function succeed(
  ctx: LoginContext,
  user: usersRepo.UserRow,
  method: 'certificate' | 'password',
): Promise<LoginResult> {
  if ((await rolesRepo.rolesOfUser(ctx.db, user.id)).length === 0) throw new YzError('LOGIN_USER_NO_ROLE');
  await usersRepo.updateUser(ctx.db, user.id, {
    failed_logins: 0,
    locked_until: null,
    last_login_at: isoTime(ctx.now),
  });
  const s = await createSession({ db: ctx.db, now: ctx.now, userId: user.id, method, ip: ctx.ip });
  await logAttempt(ctx, method, user.username, user.id, 'success');
  return {
    ...s,
    userId: user.id,
    username: user.username,
    passwordMustChange: method === 'password' && user.password_must_change === 1,
  };
}

/** Checks the certificate's path, validity, key usage and revocation now; throws LOGIN_CERT_INVALID. */
function checkCertificate(cert: ParsedCertificate, trust: TrustStore, at: Date): void {
  const anchors = trust.anchors.length > 0 ? trust.anchors : [cert];
  const chain = verifyChain(cert, {
    trustAnchors: anchors,
    intermediates: trust.intermediates,
    at,
    keyUsage: KEY_USAGE.digitalSignature,
    policy: { sm2: gmSm2Provider },
  });
  if (!chain.valid) throw new YzError('LOGIN_CERT_INVALID', chain.failures.map((f) => f.code).join(', '));
  // Revocation: every configured CRL issued by a certificate of the path must verify, be current, and not list it.
  for (let i = 0; i + 1 < chain.chain.length; i++) {
    const subject = chain.chain[i]!;
    const issuer = chain.chain[i + 1]!;
    for (const crl of trust.crls) {
      if (!Buffer.from(crl.issuerDer).equals(Buffer.from(issuer.subjectDer))) continue;
      try {
        verifyCrl(crl, issuer, { at, policy: { sm2: gmSm2Provider } });
        checkRevocation(crl, subject, at);
      } catch (e) {
        if (isPkiError(e)) throw new YzError('LOGIN_CERT_INVALID', e.code, { cause: e });
        throw e;
      }
    }
  }
}

export async function loginWithCertificate(
  ctx: LoginContext & {
    username: string;
    challengeId: string;
    /** base64 signature (SM2 DER, RSA PKCS#1 v1.5 or ECDSA DER) over {@link challengeText}. */
    signature: string;
    /** The certificate the token holds (PEM or base64 DER); must be the bound one. */
    certificate?: string | undefined;
    trust: TrustStore;
  },
): Promise<LoginResult> {
  let user: usersRepo.UserRow | undefined;
  try {
    const text = await consumeChallenge(ctx.db, ctx.challengeId, ctx.now);
    user = await usersRepo.findUserByUsername(ctx.db, ctx.username);
    if (user === undefined) throw new YzError('LOGIN_CREDENTIALS_INVALID');
    assertUsable(ctx, user);
    if (user.cert_der === null || user.cert_fingerprint === null) throw new YzError('LOGIN_CERT_NOT_BOUND');
    const bound = parseCertificate(new Uint8Array(Buffer.from(user.cert_der, 'base64')));
    if (ctx.certificate !== undefined) {
      let presented: ParsedCertificate;
      try {
        presented = parseCertificate(
          ctx.certificate.trim().startsWith('-----')
            ? ctx.certificate
            : new Uint8Array(Buffer.from(ctx.certificate, 'base64')),
          { maxSize: 64 * 1024 },
        );
      } catch (e) {
        if (isPkiError(e)) throw new YzError('LOGIN_CERT_NOT_BOUND', e.code, { cause: e });
        throw e;
      }
      if (certificateFingerprint(presented.der) !== user.cert_fingerprint)
        throw new YzError('LOGIN_CERT_NOT_BOUND');
    }
    const sig = verifyRawSignature({
      certificate: bound,
      data: new TextEncoder().encode(text),
      signature: ctx.signature,
      policy: { sm2: gmSm2Provider },
    });
    if (!sig.valid) {
      await recordFailure(ctx, user);
      throw new YzError('LOGIN_SIGNATURE_INVALID');
    }
    checkCertificate(bound, ctx.trust, new Date(ctx.now));
    return await succeed(ctx, user, 'certificate');
  } catch (e) {
    if (isYzError(e)) await logAttempt(ctx, 'certificate', ctx.username, user?.id, 'failure', e.code);
    throw e;
  }
}

/** A hash to verify against when the user does not exist, so both paths cost one scrypt. */
let dummyHash: Promise<string> | undefined;

export async function loginWithPassword(
  ctx: LoginContext & { username: string; password: string },
): Promise<LoginResult> {
  let user: usersRepo.UserRow | undefined;
  try {
    if (!ctx.settings.passwordLogin) throw new YzError('LOGIN_PASSWORD_DISABLED');
    user = await usersRepo.findUserByUsername(ctx.db, ctx.username);
    if (user === undefined || user.password_hash === null || ctx.password.length > MAX_PASSWORD_LENGTH) {
      dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(ctx.password.slice(0, MAX_PASSWORD_LENGTH), await dummyHash);
      throw new YzError('LOGIN_CREDENTIALS_INVALID');
    }
    assertUsable(ctx, user);
    if (!(await verifyPassword(ctx.password, user.password_hash))) {
      await recordFailure(ctx, user);
      throw new YzError('LOGIN_CREDENTIALS_INVALID');
    }
    return await succeed(ctx, user, 'password');
  } catch (e) {
    if (isYzError(e)) await logAttempt(ctx, 'password', ctx.username, user?.id, 'failure', e.code);
    throw e;
  }
}

export interface ActiveSession {
  tokenHash: string;
  csrfHash: string;
  user: usersRepo.UserRow;
  method: string;
}

/** The session of a token, touched; ADMIN_SESSION_REQUIRED / ADMIN_SESSION_EXPIRED otherwise. */
export async function resolveSession(options: {
  db: Kysely<Database>;
  now: number;
  token: string | undefined;
  idleTimeoutMs: number;
}): Promise<ActiveSession> {
  const { db, now, token } = options;
  if (token === undefined || token.length === 0 || token.length > 128)
    throw new YzError('ADMIN_SESSION_REQUIRED');
  const tokenHash = sha256Hex(token);
  const s = await db
    .selectFrom('admin_sessions')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (s === undefined) throw new YzError('ADMIN_SESSION_REQUIRED');
  const at = isoTime(now);
  if (s.expires_at <= at || isoTime(Date.parse(s.last_seen_at) + options.idleTimeoutMs) <= at) {
    await db.deleteFrom('admin_sessions').where('token_hash', '=', tokenHash).execute();
    throw new YzError('ADMIN_SESSION_EXPIRED');
  }
  const user = await usersRepo.findUser(db, s.user_id);
  if (user === undefined || user.status !== 'active') {
    await db.deleteFrom('admin_sessions').where('token_hash', '=', tokenHash).execute();
    throw new YzError('ADMIN_SESSION_EXPIRED');
  }
  await db
    .updateTable('admin_sessions')
    .set({ last_seen_at: at })
    .where('token_hash', '=', tokenHash)
    .execute();
  return { tokenHash, csrfHash: s.csrf_hash, user, method: s.method };
}

export async function endSession(db: Kysely<Database>, tokenHash: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('token_hash', '=', tokenHash).execute();
}
