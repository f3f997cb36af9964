/** SQL for projects, and the explicit deletes that remove a project's data and configuration. */
import type { Kysely, Selectable } from 'kysely';
import { containsText } from '../../db/like.js';
import type { Database, ProjectStatus, ProjectsTable } from '../../db/schema.js';
import { deleteHotColdState } from '../../lifecycle/cold-project.js';
import { deleteProjectStats } from '../../stats/repo.js';

export type ProjectRow = Selectable<ProjectsTable>;

export function insertProject(db: Kysely<Database>, row: ProjectRow): Promise<unknown> {
  return db.insertInto('projects').values(row).execute();
}

export function findProjectById(db: Kysely<Database>, id: string): Promise<ProjectRow | undefined> {
  return db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findProjectByNumber(db: Kysely<Database>, number: string): Promise<ProjectRow | undefined> {
  return db.selectFrom('projects').selectAll().where('number', '=', number).executeTakeFirst();
}

export interface ProjectFilter {
  number?: string | undefined;
  /** Substring of the name. */
  name?: string | undefined;
  status?: ProjectStatus | undefined;
}

export function listProjects(db: Kysely<Database>, filter: ProjectFilter): Promise<ProjectRow[]> {
  let q = db.selectFrom('projects').selectAll();
  if (filter.number !== undefined) q = q.where('number', '=', filter.number);
  if (filter.name !== undefined) q = q.where(containsText('name', filter.name));
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  return q.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
}

export async function updateProject(
  db: Kysely<Database>,
  id: string,
  changes: Partial<Pick<ProjectRow, 'number' | 'name' | 'status' | 'file_storage'>> & { updated_at: string },
): Promise<number> {
  const r = await db.updateTable('projects').set(changes).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function setProjectsStatus(
  db: Kysely<Database>,
  ids: readonly string[],
  status: ProjectStatus,
  updatedAt: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db
    .updateTable('projects')
    .set({ status, updated_at: updatedAt })
    .where('id', 'in', ids)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * Removes the project and everything hanging off it. Foreign keys cascade too; the explicit deletes make the
 * removal independent of the database's cascade support and name every table a new module must add here.
 */
export async function deleteProjectCascade(db: Kysely<Database>, id: string): Promise<number> {
  const apps = db.selectFrom('applications').select('id').where('project_id', '=', id);
  // Evidence records and their payloads (files stay in the content-addressed store, which other projects may
  // share; the Merkle log keeps its leaves: it is append-only and a leaf reveals nothing but a hash).
  const records = db.selectFrom('evidence').select('id').where('project_id', '=', id);
  await db.deleteFrom('evidence_payloads').where('evidence_id', 'in', records).execute();
  await db.deleteFrom('evidence').where('project_id', '=', id).execute();
  await db.deleteFrom('used_nonces').where('app_id', 'in', apps).execute();
  await db.deleteFrom('application_keys').where('app_id', 'in', apps).execute();
  await db.deleteFrom('applications').where('project_id', '=', id).execute();
  await db.deleteFrom('admin_user_projects').where('project_id', '=', id).execute();
  await deleteProjectStats(db, id);
  await deleteHotColdState(db, id);
  const r = await db.deleteFrom('projects').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows);
}
