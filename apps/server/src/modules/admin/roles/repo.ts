/** SQL for roles and role assignments. */
import type { Kysely, Selectable } from 'kysely';
import type { AdminRolesTable, Database } from '../../../db/schema.js';

export type RoleRow = Selectable<AdminRolesTable>;

export function listRoles(db: Kysely<Database>): Promise<RoleRow[]> {
  return db.selectFrom('admin_roles').selectAll().orderBy('builtin', 'desc').orderBy('name', 'asc').execute();
}

export function findRole(db: Kysely<Database>, ref: string): Promise<RoleRow | undefined> {
  return db
    .selectFrom('admin_roles')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
    .executeTakeFirst();
}

export function insertRole(db: Kysely<Database>, row: RoleRow): Promise<unknown> {
  return db.insertInto('admin_roles').values(row).execute();
}

export function updateRole(
  db: Kysely<Database>,
  id: string,
  changes: Partial<Pick<RoleRow, 'name' | 'description' | 'permissions'>> & { updated_at: string },
): Promise<unknown> {
  return db.updateTable('admin_roles').set(changes).where('id', '=', id).execute();
}

export function deleteRole(db: Kysely<Database>, id: string): Promise<unknown> {
  return db.deleteFrom('admin_roles').where('id', '=', id).execute();
}

export async function countRoleUsers(db: Kysely<Database>, roleId: string): Promise<number> {
  const r = await db
    .selectFrom('admin_user_roles')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('role_id', '=', roleId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export function rolesOfUser(db: Kysely<Database>, userId: string): Promise<RoleRow[]> {
  return db
    .selectFrom('admin_user_roles')
    .innerJoin('admin_roles', 'admin_roles.id', 'admin_user_roles.role_id')
    .selectAll('admin_roles')
    .where('admin_user_roles.user_id', '=', userId)
    .orderBy('admin_roles.name', 'asc')
    .execute();
}

export async function setUserRoles(
  db: Kysely<Database>,
  userId: string,
  roleIds: readonly string[],
): Promise<void> {
  await db.deleteFrom('admin_user_roles').where('user_id', '=', userId).execute();
  if (roleIds.length > 0)
    await db
      .insertInto('admin_user_roles')
      .values(roleIds.map((role_id) => ({ user_id: userId, role_id })))
      .execute();
}
