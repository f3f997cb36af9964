/** SQL for console users and their project assignments. */
import type { Kysely, Selectable, Updateable } from 'kysely';
import { containsText } from '../../../db/like.js';
import type { AdminUserStatus, AdminUsersTable, Database } from '../../../db/schema.js';

export type UserRow = Selectable<AdminUsersTable>;

export function insertUser(db: Kysely<Database>, row: UserRow): Promise<unknown> {
  return db.insertInto('admin_users').values(row).execute();
}

export function findUser(db: Kysely<Database>, ref: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('admin_users')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', ref), eb('username', '=', ref)]))
    .executeTakeFirst();
}

export function findUserByUsername(db: Kysely<Database>, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('admin_users').selectAll().where('username', '=', username).executeTakeFirst();
}

export function findUserByFingerprint(db: Kysely<Database>, fp: string): Promise<UserRow | undefined> {
  return db.selectFrom('admin_users').selectAll().where('cert_fingerprint', '=', fp).executeTakeFirst();
}

export interface UserFilter {
  /** Substring of the user name. */
  username?: string | undefined;
  displayName?: string | undefined;
  department?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
  status?: AdminUserStatus | undefined;
  /** Role id. */
  roleId?: string | undefined;
  /** Project id assigned to the user. */
  projectId?: string | undefined;
}

export function listUsers(db: Kysely<Database>, f: UserFilter): Promise<UserRow[]> {
  let q = db.selectFrom('admin_users').selectAll();
  if (f.username !== undefined) q = q.where(containsText('username', f.username));
  if (f.displayName !== undefined) q = q.where(containsText('display_name', f.displayName));
  if (f.department !== undefined) q = q.where(containsText('department', f.department));
  if (f.phone !== undefined) q = q.where(containsText('phone', f.phone));
  if (f.email !== undefined) q = q.where(containsText('email', f.email));
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.roleId !== undefined) {
    const roleId = f.roleId;
    q = q.where(
      'id',
      'in',
      db.selectFrom('admin_user_roles').select('user_id').where('role_id', '=', roleId),
    );
  }
  if (f.projectId !== undefined) {
    const projectId = f.projectId;
    q = q.where(
      'id',
      'in',
      db.selectFrom('admin_user_projects').select('user_id').where('project_id', '=', projectId),
    );
  }
  return q.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(10_000).execute();
}

export function updateUser(
  db: Kysely<Database>,
  id: string,
  changes: Updateable<AdminUsersTable>,
): Promise<unknown> {
  return db.updateTable('admin_users').set(changes).where('id', '=', id).execute();
}

export function deleteUser(db: Kysely<Database>, id: string): Promise<unknown> {
  return db.deleteFrom('admin_users').where('id', '=', id).execute();
}

export async function projectsOfUser(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('admin_user_projects')
    .select('project_id')
    .where('user_id', '=', userId)
    .orderBy('project_id', 'asc')
    .execute();
  return rows.map((r) => r.project_id);
}

export async function setUserProjects(
  db: Kysely<Database>,
  userId: string,
  projectIds: readonly string[],
): Promise<void> {
  await db.deleteFrom('admin_user_projects').where('user_id', '=', userId).execute();
  if (projectIds.length > 0)
    await db
      .insertInto('admin_user_projects')
      .values(projectIds.map((project_id) => ({ user_id: userId, project_id })))
      .execute();
}

export function deleteSessionsOfUser(db: Kysely<Database>, userId: string): Promise<unknown> {
  return db.deleteFrom('admin_sessions').where('user_id', '=', userId).execute();
}
