/**
 * Console users (用户管理, seed §1.2): create administrators, operators and auditors; delete; bind and export the
 * login certificate; batch freeze/unfreeze; detail; multi-field query; modify; assign roles (one duty per user,
 * 三权分立) and projects (operators see evidence only there). Nobody can change their own roles, status or
 * existence, and the last active administrator cannot be removed or frozen. Every change is logged.
 */
import { randomBytes } from 'node:crypto';
import { sm3, toHex } from '@yizheng/gm';
import { isPkiError, parseCertificate, toPem, type ParsedCertificate } from '@yizheng/pki';
import type { Kysely } from 'kysely';
import { appendToChain } from '../../../audit/hash-chain.js';
import { isoTime, type ServiceContext } from '../../../context.js';
import { isUniqueViolation } from '../../../db/connect.js';
import type { AdminUserStatus, Database } from '../../../db/schema.js';
import { YzError } from '../../../errors.js';
import { getProject } from '../../projects/service.js';
import {
  hashPassword,
  oneTimePassword,
  passwordProblems,
  verifyPassword,
  type PasswordPolicy,
} from '../auth/password.js';
import { BUILTIN_ROLES, dutiesOf, type Permission } from '../permissions.js';
import * as rolesRepo from '../roles/repo.js';
import { toRole, type Role } from '../roles/service.js';
import * as repo from './repo.js';

export interface UserCertificate {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** Hex SM3 of the DER. */
  fingerprint: string;
}

export interface User {
  id: string;
  username: string;
  displayName: string;
  phone: string;
  email: string;
  department: string;
  status: AdminUserStatus;
  hasPassword: boolean;
  passwordMustChange: boolean;
  certificate: { subject: string; serial: string; notAfter: string; fingerprint: string } | null;
  lockedUntil: string | null;
  lastLoginAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UserDetail extends User {
  roles: Role[];
  /** Project ids assigned to the user. */
  projects: string[];
  /** The union of the roles' permissions. */
  permissions: Permission[];
}

export function toUser(r: repo.UserRow): User {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    phone: r.phone,
    email: r.email,
    department: r.department,
    status: r.status,
    hasPassword: r.password_hash !== null,
    passwordMustChange: r.password_must_change === 1,
    certificate:
      r.cert_fingerprint === null
        ? null
        : {
            subject: r.cert_subject ?? '',
            serial: r.cert_serial ?? '',
            notAfter: r.cert_not_after ?? '',
            fingerprint: r.cert_fingerprint,
          },
    lockedUntil: r.locked_until,
    lastLoginAt: r.last_login_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function certificateFingerprint(der: Uint8Array): string {
  return toHex(sm3(der));
}

export function parseUserCertificate(input: string): ParsedCertificate {
  try {
    return parseCertificate(
      input.trim().startsWith('-----') ? input : new Uint8Array(Buffer.from(input, 'base64')),
      {
        maxSize: 64 * 1024,
      },
    );
  } catch (e) {
    if (isPkiError(e)) throw new YzError('USER_CERT_INVALID', e.code, { cause: e });
    throw e;
  }
}

function certColumns(
  cert: ParsedCertificate | null,
): Pick<repo.UserRow, 'cert_der' | 'cert_fingerprint' | 'cert_subject' | 'cert_serial' | 'cert_not_after'> {
  if (cert === null)
    return {
      cert_der: null,
      cert_fingerprint: null,
      cert_subject: null,
      cert_serial: null,
      cert_not_after: null,
    };
  return {
    cert_der: Buffer.from(cert.der).toString('base64'),
    cert_fingerprint: certificateFingerprint(cert.der),
    cert_subject: cert.subject,
    cert_serial: cert.serialHex,
    cert_not_after: cert.notAfter.toISOString(),
  };
}

async function log(
  ctx: ServiceContext,
  action: string,
  userId: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await appendToChain({
    db: ctx.db,
    table: 'operation_logs',
    entry: {
      at: isoTime(ctx.now()),
      actor: ctx.actor,
      action,
      target_type: 'user',
      target_id: userId,
      project_id: null,
      detail: JSON.stringify(detail),
    },
  });
}

export async function getUserRow(db: Kysely<Database>, ref: string): Promise<repo.UserRow> {
  const row = await repo.findUser(db, ref);
  if (row === undefined) throw new YzError('USER_NOT_FOUND', ref);
  return row;
}

export async function effectivePermissions(db: Kysely<Database>, userId: string): Promise<Permission[]> {
  const roles = (await rolesRepo.rolesOfUser(db, userId)).map(toRole);
  return [...new Set(roles.flatMap((r) => r.permissions))].sort();
}

export async function getUser(options: { ctx: ServiceContext; ref: string }): Promise<UserDetail> {
  const { db } = options.ctx;
  const row = await getUserRow(db, options.ref);
  const roles = (await rolesRepo.rolesOfUser(db, row.id)).map(toRole);
  return {
    ...toUser(row),
    roles,
    projects: await repo.projectsOfUser(db, row.id),
    permissions: [...new Set(roles.flatMap((r) => r.permissions))].sort(),
  };
}

export async function listUsers(options: { ctx: ServiceContext } & repo.UserFilter): Promise<User[]> {
  const { ctx, ...filter } = options;
  return (await repo.listUsers(ctx.db, filter)).map(toUser);
}

async function resolveRoles(db: Kysely<Database>, refs: readonly string[]): Promise<Role[]> {
  const roles: Role[] = [];
  for (const ref of refs) {
    const row = await rolesRepo.findRole(db, ref);
    if (row === undefined) throw new YzError('ROLE_NOT_FOUND', ref);
    if (!roles.some((r) => r.id === row.id)) roles.push(toRole(row));
  }
  const duties = dutiesOf(roles.flatMap((r) => r.permissions));
  if (duties.size > 1) throw new YzError('ROLE_DUTY_CONFLICT', [...duties].join(' + '));
  return roles;
}

async function resolveProjects(ctx: ServiceContext, refs: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const p = await getProject({ ctx, ref });
    if (!ids.includes(p.id)) ids.push(p.id);
  }
  return ids;
}

export interface CreatedUser {
  user: UserDetail;
  /** A one-time password (shown once; the user must change it at first login), when one was issued. */
  oneTimePassword?: string;
}

export async function createUser(options: {
  ctx: ServiceContext;
  username: string;
  displayName?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
  department?: string | undefined;
  /** Role ids or names. */
  roles: readonly string[];
  /** Project ids or numbers. */
  projects?: readonly string[] | undefined;
  /** PEM or base64 DER of the login certificate. */
  certificate?: string | undefined;
  /** Issue a one-time password (default true). */
  issuePassword?: boolean | undefined;
}): Promise<CreatedUser> {
  const { ctx } = options;
  const roles = await resolveRoles(ctx.db, options.roles);
  const projects = await resolveProjects(ctx, options.projects ?? []);
  const cert = options.certificate === undefined ? null : parseUserCertificate(options.certificate);
  if (cert !== null && (await repo.findUserByFingerprint(ctx.db, certificateFingerprint(cert.der))))
    throw new YzError('USER_CERT_TAKEN');
  const otp = options.issuePassword === false ? undefined : oneTimePassword();
  const at = isoTime(ctx.now());
  const row: repo.UserRow = {
    id: `usr_${randomBytes(8).toString('hex')}`,
    username: options.username,
    display_name: options.displayName ?? options.username,
    phone: options.phone ?? '',
    email: options.email ?? '',
    department: options.department ?? '',
    status: 'active',
    password_hash: otp === undefined ? null : await hashPassword(otp),
    password_must_change: otp === undefined ? 0 : 1,
    ...certColumns(cert),
    failed_logins: 0,
    locked_until: null,
    last_login_at: null,
    created_at: at,
    updated_at: at,
  };
  try {
    await ctx.db.transaction().execute(async (db) => {
      await repo.insertUser(db, row);
      await rolesRepo.setUserRoles(
        db,
        row.id,
        roles.map((r) => r.id),
      );
      await repo.setUserProjects(db, row.id, projects);
      await log({ ...ctx, db }, 'user.create', row.id, {
        username: row.username,
        roles: roles.map((r) => r.name),
        projects,
        certificate: row.cert_fingerprint,
        oneTimePassword: otp !== undefined,
      });
    });
  } catch (e) {
    if (isUniqueViolation(e)) {
      if (await repo.findUserByUsername(ctx.db, options.username))
        throw new YzError('USER_USERNAME_TAKEN', options.username, { cause: e });
      throw new YzError('USER_CERT_TAKEN', undefined, { cause: e });
    }
    throw e;
  }
  const user = await getUser({ ctx, ref: row.id });
  return otp === undefined ? { user } : { user, oneTimePassword: otp };
}

function assertNotSelf(ctxUserId: string | undefined, targetId: string): void {
  if (ctxUserId !== undefined && ctxUserId === targetId) throw new YzError('USER_SELF_FORBIDDEN');
}

/** True when removing or freezing these users would leave no active user holding the administrator role. */
async function wouldRemoveLastAdmin(db: Kysely<Database>, userIds: readonly string[]): Promise<boolean> {
  const admins = await db
    .selectFrom('admin_user_roles')
    .innerJoin('admin_users', 'admin_users.id', 'admin_user_roles.user_id')
    .select('admin_users.id')
    .where('admin_user_roles.role_id', '=', BUILTIN_ROLES.administrator.id)
    .where('admin_users.status', '=', 'active')
    .execute();
  const remaining = admins.filter((a) => !userIds.includes(a.id));
  return admins.length > 0 && remaining.length === 0;
}

export async function updateUser(options: {
  ctx: ServiceContext;
  ref: string;
  displayName?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
  department?: string | undefined;
}): Promise<UserDetail> {
  const { ctx } = options;
  const row = await getUserRow(ctx.db, options.ref);
  const changes = {
    ...(options.displayName !== undefined ? { display_name: options.displayName } : {}),
    ...(options.phone !== undefined ? { phone: options.phone } : {}),
    ...(options.email !== undefined ? { email: options.email } : {}),
    ...(options.department !== undefined ? { department: options.department } : {}),
  };
  await ctx.db.transaction().execute(async (db) => {
    await repo.updateUser(db, row.id, { ...changes, updated_at: isoTime(ctx.now()) });
    await log({ ...ctx, db }, 'user.update', row.id, changes);
  });
  return getUser({ ctx, ref: row.id });
}

export async function assignRoles(options: {
  ctx: ServiceContext;
  /** The acting user (may not change their own roles). */
  actorUserId?: string | undefined;
  ref: string;
  roles: readonly string[];
}): Promise<UserDetail> {
  const { ctx } = options;
  const row = await getUserRow(ctx.db, options.ref);
  assertNotSelf(options.actorUserId, row.id);
  const roles = await resolveRoles(ctx.db, options.roles);
  if (
    !roles.some((r) => r.id === BUILTIN_ROLES.administrator.id) &&
    (await wouldRemoveLastAdmin(ctx.db, [row.id]))
  )
    throw new YzError('USER_SELF_FORBIDDEN', 'the last administrator keeps the role');
  await ctx.db.transaction().execute(async (db) => {
    await rolesRepo.setUserRoles(
      db,
      row.id,
      roles.map((r) => r.id),
    );
    await repo.deleteSessionsOfUser(db, row.id);
    await log({ ...ctx, db }, 'user.assign-roles', row.id, { roles: roles.map((r) => r.name) });
  });
  return getUser({ ctx, ref: row.id });
}

export async function assignProjects(options: {
  ctx: ServiceContext;
  ref: string;
  projects: readonly string[];
}): Promise<UserDetail> {
  const { ctx } = options;
  const row = await getUserRow(ctx.db, options.ref);
  const projects = await resolveProjects(ctx, options.projects);
  await ctx.db.transaction().execute(async (db) => {
    await repo.setUserProjects(db, row.id, projects);
    await log({ ...ctx, db }, 'user.assign-projects', row.id, { projects });
  });
  return getUser({ ctx, ref: row.id });
}

/** Batch freeze (冻结: sessions end, login refused) or unfreeze (解冻: also clears a lockout). */
export async function setUsersStatus(options: {
  ctx: ServiceContext;
  actorUserId?: string | undefined;
  refs: readonly string[];
  status: AdminUserStatus;
}): Promise<User[]> {
  const { ctx, status } = options;
  const rows = await Promise.all(options.refs.map((ref) => getUserRow(ctx.db, ref)));
  for (const r of rows) assertNotSelf(options.actorUserId, r.id);
  if (
    status === 'frozen' &&
    (await wouldRemoveLastAdmin(
      ctx.db,
      rows.map((r) => r.id),
    ))
  )
    throw new YzError('USER_SELF_FORBIDDEN', 'the last administrator cannot be frozen');
  await ctx.db.transaction().execute(async (db) => {
    for (const r of rows) {
      await repo.updateUser(db, r.id, {
        status,
        ...(status === 'active' ? { failed_logins: 0, locked_until: null } : {}),
        updated_at: isoTime(ctx.now()),
      });
      if (status === 'frozen') await repo.deleteSessionsOfUser(db, r.id);
      await log({ ...ctx, db }, status === 'frozen' ? 'user.freeze' : 'user.unfreeze', r.id, {
        username: r.username,
      });
    }
  });
  return Promise.all(rows.map(async (r) => toUser(await getUserRow(ctx.db, r.id))));
}

export async function deleteUser(options: {
  ctx: ServiceContext;
  actorUserId?: string | undefined;
  ref: string;
}): Promise<User> {
  const { ctx } = options;
  const row = await getUserRow(ctx.db, options.ref);
  assertNotSelf(options.actorUserId, row.id);
  if (await wouldRemoveLastAdmin(ctx.db, [row.id]))
    throw new YzError('USER_SELF_FORBIDDEN', 'the last administrator cannot be deleted');
  await ctx.db.transaction().execute(async (db) => {
    await repo.deleteSessionsOfUser(db, row.id);
    await db.deleteFrom('admin_user_roles').where('user_id', '=', row.id).execute();
    await db.deleteFrom('admin_user_projects').where('user_id', '=', row.id).execute();
    await repo.deleteUser(db, row.id);
    await log({ ...ctx, db }, 'user.delete', row.id, { username: row.username });
  });
  return toUser(row);
}

/** Binds (replaces) the login certificate; `null` unbinds it. */
export async function bindCertificate(options: {
  ctx: ServiceContext;
  ref: string;
  certificate: string | null;
}): Promise<UserDetail> {
  const { ctx } = options;
  const row = await getUserRow(ctx.db, options.ref);
  const cert = options.certificate === null ? null : parseUserCertificate(options.certificate);
  if (cert !== null) {
    const holder = await repo.findUserByFingerprint(ctx.db, certificateFingerprint(cert.der));
    if (holder !== undefined && holder.id !== row.id) throw new YzError('USER_CERT_TAKEN');
  }
  const cols = certColumns(cert);
  await ctx.db.transaction().execute(async (db) => {
    await repo.updateUser(db, row.id, { ...cols, updated_at: isoTime(ctx.now()) });
    await log({ ...ctx, db }, cert === null ? 'user.unbind-certificate' : 'user.bind-certificate', row.id, {
      subject: cols.cert_subject,
      serial: cols.cert_serial,
      fingerprint: cols.cert_fingerprint,
    });
  });
  return getUser({ ctx, ref: row.id });
}

/** The bound certificate as PEM (导出证书). */
export async function exportCertificate(options: { ctx: ServiceContext; ref: string }): Promise<string> {
  const row = await getUserRow(options.ctx.db, options.ref);
  if (row.cert_der === null) throw new YzError('USER_CERT_NONE', row.username);
  return toPem(new Uint8Array(Buffer.from(row.cert_der, 'base64')), 'CERTIFICATE');
}

/** Issues a new one-time password for another user (口令重置); their sessions end. */
export async function resetPassword(options: {
  ctx: ServiceContext;
  actorUserId?: string | undefined;
  ref: string;
}): Promise<{ user: User; oneTimePassword: string }> {
  const { ctx } = options;
  const row = await getUserRow(ctx.db, options.ref);
  assertNotSelf(options.actorUserId, row.id);
  const otp = oneTimePassword();
  const hash = await hashPassword(otp);
  await ctx.db.transaction().execute(async (db) => {
    await repo.updateUser(db, row.id, {
      password_hash: hash,
      password_must_change: 1,
      failed_logins: 0,
      locked_until: null,
      updated_at: isoTime(ctx.now()),
    });
    await repo.deleteSessionsOfUser(db, row.id);
    await log({ ...ctx, db }, 'user.reset-password', row.id, { username: row.username });
  });
  return { user: toUser(await getUserRow(ctx.db, row.id)), oneTimePassword: otp };
}

/** A user changes their own password (the current one is required). */
export async function changeOwnPassword(options: {
  ctx: ServiceContext;
  userId: string;
  current: string;
  next: string;
  policy: PasswordPolicy;
}): Promise<void> {
  const { ctx } = options;
  const row = await getUserRow(ctx.db, options.userId);
  if (row.password_hash === null || !(await verifyPassword(options.current, row.password_hash)))
    throw new YzError('USER_PASSWORD_WRONG');
  const problems = passwordProblems(options.next, options.policy, row.username);
  if (options.next === options.current) problems.push('same as the current one');
  if (problems.length > 0) throw new YzError('USER_PASSWORD_WEAK', problems.join('; '));
  const hash = await hashPassword(options.next);
  await ctx.db.transaction().execute(async (db) => {
    await repo.updateUser(db, row.id, {
      password_hash: hash,
      password_must_change: 0,
      updated_at: isoTime(ctx.now()),
    });
    await log({ ...ctx, db }, 'user.change-password', row.id, { username: row.username });
  });
}
