/** SQL for third-party applications (第三方应用) and their key history. */
import type { Kysely, Selectable } from 'kysely';
import { containsText } from '../../db/like.js';
import type {
  ApplicationKeysTable,
  ApplicationStatus,
  ApplicationsTable,
  Database,
} from '../../db/schema.js';

export type ApplicationRow = Selectable<ApplicationsTable>;
export type ApplicationKeyRow = Selectable<ApplicationKeysTable>;

export async function insertApplication(db: Kysely<Database>, row: ApplicationRow): Promise<void> {
  await db.insertInto('applications').values(row).execute();
  await db
    .insertInto('application_keys')
    .values({
      app_id: row.id,
      version: row.key_version,
      public_key: row.public_key,
      created_at: row.created_at,
      revoked_at: null,
    })
    .execute();
}

export function findApplication(db: Kysely<Database>, id: string): Promise<ApplicationRow | undefined> {
  return db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface ApplicationFilter {
  projectId?: string | undefined;
  status?: ApplicationStatus | undefined;
  /** Substring of the name. */
  name?: string | undefined;
}

export function listApplications(db: Kysely<Database>, filter: ApplicationFilter): Promise<ApplicationRow[]> {
  let q = db.selectFrom('applications').selectAll();
  if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (filter.name !== undefined) q = q.where(containsText('name', filter.name));
  return q.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
}

export async function updateApplication(
  db: Kysely<Database>,
  id: string,
  changes: Partial<
    Pick<ApplicationRow, 'name' | 'vendor' | 'default_tags' | 'retention_years' | 'status'>
  > & { updated_at: string },
): Promise<void> {
  await db.updateTable('applications').set(changes).where('id', '=', id).execute();
}

export async function setApplicationsStatus(
  db: Kysely<Database>,
  ids: readonly string[],
  status: ApplicationStatus,
  updatedAt: string,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('applications')
    .set({ status, updated_at: updatedAt })
    .where('id', 'in', ids)
    .execute();
}

/** Revokes the current key and installs the next version, atomically (caller's transaction). */
export async function rotateKey(
  db: Kysely<Database>,
  app: ApplicationRow,
  publicKey: string,
  at: string,
): Promise<number> {
  const version = app.key_version + 1;
  await db
    .updateTable('application_keys')
    .set({ revoked_at: at })
    .where('app_id', '=', app.id)
    .where('revoked_at', 'is', null)
    .execute();
  await db
    .insertInto('application_keys')
    .values({ app_id: app.id, version, public_key: publicKey, created_at: at, revoked_at: null })
    .execute();
  await db
    .updateTable('applications')
    .set({ public_key: publicKey, key_version: version, updated_at: at })
    .where('id', '=', app.id)
    .execute();
  return version;
}

/** Rotated-out keys, newest first (bounded: only these are tried to tell "revoked key" from "bad signature"). */
export function revokedKeys(
  db: Kysely<Database>,
  appId: string,
  limit: number,
): Promise<ApplicationKeyRow[]> {
  return db
    .selectFrom('application_keys')
    .selectAll()
    .where('app_id', '=', appId)
    .where('revoked_at', 'is not', null)
    .orderBy('version', 'desc')
    .limit(limit)
    .execute();
}

/** What the auth plugin needs in one query: the application and its project's status. */
export function findAuthSubject(
  db: Kysely<Database>,
  appId: string,
): Promise<(ApplicationRow & { project_number: string; project_status: ApplicationStatus }) | undefined> {
  return db
    .selectFrom('applications')
    .innerJoin('projects', 'projects.id', 'applications.project_id')
    .selectAll('applications')
    .select(['projects.number as project_number', 'projects.status as project_status'])
    .where('applications.id', '=', appId)
    .executeTakeFirst();
}
