/**
 * Roles (角色管理, seed §1.3): permission sets. The three built-in roles are (re)written from code at start and
 * cannot be modified or deleted; custom roles may combine permissions of one duty only (三权分立, see
 * `permissions.ts`). Every change is written to the operation log.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { appendToChain } from '../../../audit/hash-chain.js';
import { isoTime, type ServiceContext } from '../../../context.js';
import { isUniqueViolation } from '../../../db/connect.js';
import type { Database } from '../../../db/schema.js';
import { YzError } from '../../../errors.js';
import {
  BUILTIN_ROLES,
  dutiesOf,
  isPermission,
  type BuiltinRoleName,
  type Permission,
} from '../permissions.js';
import * as repo from './repo.js';

export interface Role {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  permissions: Permission[];
  createdAt: string;
  updatedAt: string;
}

export function parsePermissions(json: string): Permission[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((p): p is Permission => typeof p === 'string' && isPermission(p)) : [];
  } catch {
    return [];
  }
}

export function toRole(r: repo.RoleRow): Role {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    builtin: r.builtin === 1,
    permissions: parsePermissions(r.permissions),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Inserts the built-in roles or brings their permissions up to date (idempotent; safe with several processes). */
export async function ensureBuiltinRoles(options: { db: Kysely<Database>; now: number }): Promise<void> {
  const at = isoTime(options.now);
  for (const [name, def] of Object.entries(BUILTIN_ROLES) as [
    BuiltinRoleName,
    (typeof BUILTIN_ROLES)[BuiltinRoleName],
  ][]) {
    const permissions = JSON.stringify(def.permissions);
    const current = await repo.findRole(options.db, def.id);
    if (current === undefined) {
      try {
        await repo.insertRole(options.db, {
          id: def.id,
          name,
          description: def.description,
          builtin: 1,
          permissions,
          created_at: at,
          updated_at: at,
        });
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
      }
    } else if (current.permissions !== permissions || current.description !== def.description) {
      await repo.updateRole(options.db, def.id, {
        permissions,
        description: def.description,
        updated_at: at,
      });
    }
  }
}

async function log(
  ctx: ServiceContext,
  action: string,
  roleId: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await appendToChain({
    db: ctx.db,
    table: 'operation_logs',
    entry: {
      at: isoTime(ctx.now()),
      actor: ctx.actor,
      action,
      target_type: 'role',
      target_id: roleId,
      project_id: null,
      detail: JSON.stringify(detail),
    },
  });
}

function checkPermissions(permissions: readonly string[]): Permission[] {
  const out: Permission[] = [];
  for (const p of permissions) {
    if (!isPermission(p)) throw new YzError('ROLE_PERMISSION_UNKNOWN', p);
    if (!out.includes(p)) out.push(p);
  }
  if (dutiesOf(out).size > 1) throw new YzError('ROLE_DUTY_CONFLICT', [...dutiesOf(out)].join(' + '));
  return out;
}

export async function listRoles(options: { ctx: ServiceContext }): Promise<Role[]> {
  return (await repo.listRoles(options.ctx.db)).map(toRole);
}

export async function getRole(options: { ctx: ServiceContext; ref: string }): Promise<Role> {
  const row = await repo.findRole(options.ctx.db, options.ref);
  if (row === undefined) throw new YzError('ROLE_NOT_FOUND', options.ref);
  return toRole(row);
}

export async function createRole(options: {
  ctx: ServiceContext;
  name: string;
  description?: string | undefined;
  permissions: readonly string[];
}): Promise<Role> {
  const { ctx } = options;
  const permissions = checkPermissions(options.permissions);
  const at = isoTime(ctx.now());
  const row: repo.RoleRow = {
    id: `role_${randomBytes(8).toString('hex')}`,
    name: options.name,
    description: options.description ?? '',
    builtin: 0,
    permissions: JSON.stringify(permissions),
    created_at: at,
    updated_at: at,
  };
  try {
    await ctx.db.transaction().execute(async (db) => {
      await repo.insertRole(db, row);
      await log({ ...ctx, db }, 'role.create', row.id, { name: row.name, permissions });
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new YzError('ROLE_NAME_TAKEN', options.name, { cause: e });
    throw e;
  }
  return toRole(row);
}

export async function updateRole(options: {
  ctx: ServiceContext;
  ref: string;
  name?: string | undefined;
  description?: string | undefined;
  permissions?: readonly string[] | undefined;
}): Promise<Role> {
  const { ctx } = options;
  const role = await getRole(options);
  if (role.builtin) throw new YzError('ROLE_BUILTIN', role.name);
  const permissions = options.permissions === undefined ? undefined : checkPermissions(options.permissions);
  if (permissions !== undefined) {
    // Holders of the role must keep one duty across all their roles.
    const holders = await ctx.db
      .selectFrom('admin_user_roles')
      .select('user_id')
      .where('role_id', '=', role.id)
      .execute();
    for (const h of holders) {
      const others = (await repo.rolesOfUser(ctx.db, h.user_id)).filter((r) => r.id !== role.id).map(toRole);
      const duties = dutiesOf([...permissions, ...others.flatMap((r) => r.permissions)]);
      if (duties.size > 1) throw new YzError('ROLE_DUTY_CONFLICT', h.user_id);
    }
  }
  try {
    await ctx.db.transaction().execute(async (db) => {
      await repo.updateRole(db, role.id, {
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(permissions !== undefined ? { permissions: JSON.stringify(permissions) } : {}),
        updated_at: isoTime(ctx.now()),
      });
      await log({ ...ctx, db }, 'role.update', role.id, {
        name: options.name,
        description: options.description,
        permissions,
      });
    });
  } catch (e) {
    if (isUniqueViolation(e) && options.name !== undefined)
      throw new YzError('ROLE_NAME_TAKEN', options.name, { cause: e });
    throw e;
  }
  return getRole({ ctx, ref: role.id });
}

export async function deleteRole(options: { ctx: ServiceContext; ref: string }): Promise<Role> {
  const { ctx } = options;
  const role = await getRole(options);
  if (role.builtin) throw new YzError('ROLE_BUILTIN', role.name);
  if ((await repo.countRoleUsers(ctx.db, role.id)) > 0) throw new YzError('ROLE_IN_USE', role.name);
  await ctx.db.transaction().execute(async (db) => {
    await repo.deleteRole(db, role.id);
    await log({ ...ctx, db }, 'role.delete', role.id, { name: role.name });
  });
  return role;
}
