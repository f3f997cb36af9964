/**
 * Projects (项目管理, seed §1.4): create, query, view, edit, batch freeze/unfreeze, delete. A frozen project
 * refuses data operations ({@link assertProjectActive}); deleting one removes all its data and configuration.
 * Every change writes an operation-log entry in the same transaction.
 */
import { randomBytes } from 'node:crypto';
import { appendToChain } from '../../audit/hash-chain.js';
import { isoTime, type ServiceContext } from '../../context.js';
import { isUniqueViolation } from '../../db/connect.js';
import type { FileStorage, ProjectStatus } from '../../db/schema.js';
import { YzError } from '../../errors.js';
import { deleteColdProjectData } from '../../lifecycle/cold-project.js';
import { authSubjectsChanged } from '../../plugins/auth-subjects.js';
import * as repo from './repo.js';

export interface Project {
  id: string;
  number: string;
  name: string;
  status: ProjectStatus;
  /** Where its evidence files are stored. */
  fileStorage: FileStorage;
  createdAt: string;
  updatedAt: string;
}

function toProject(r: repo.ProjectRow): Project {
  return {
    id: r.id,
    number: r.number,
    name: r.name,
    status: r.status,
    fileStorage: r.file_storage,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function newProjectId(): string {
  return `prj_${randomBytes(8).toString('hex')}`;
}

async function log(
  ctx: ServiceContext,
  action: string,
  project: { id: string },
  detail: Record<string, unknown>,
): Promise<void> {
  await appendToChain({
    db: ctx.db,
    table: 'operation_logs',
    entry: {
      at: isoTime(ctx.now()),
      actor: ctx.actor,
      action,
      target_type: 'project',
      target_id: project.id,
      project_id: project.id,
      detail: JSON.stringify(detail),
    },
  });
}

export async function createProject(options: {
  ctx: ServiceContext;
  number: string;
  name: string;
  fileStorage?: FileStorage | undefined;
}): Promise<Project> {
  const { ctx } = options;
  const at = isoTime(ctx.now());
  const row: repo.ProjectRow = {
    id: newProjectId(),
    number: options.number,
    name: options.name,
    status: 'active',
    file_storage: options.fileStorage ?? 'local',
    created_at: at,
    updated_at: at,
  };
  try {
    await ctx.db.transaction().execute(async (db) => {
      await repo.insertProject(db, row);
      await log({ ...ctx, db }, 'project.create', row, { number: row.number, name: row.name });
    });
  } catch (e) {
    if (isUniqueViolation(e) && (await repo.findProjectByNumber(ctx.db, options.number))) {
      throw new YzError('PROJECT_NUMBER_TAKEN', options.number, { cause: e });
    }
    throw e;
  }
  return toProject(row);
}

/** Finds a project by id, or else by number (the CLI accepts either). */
export async function getProject(options: { ctx: ServiceContext; ref: string }): Promise<Project> {
  const { ctx, ref } = options;
  const row = (await repo.findProjectById(ctx.db, ref)) ?? (await repo.findProjectByNumber(ctx.db, ref));
  if (row === undefined) throw new YzError('PROJECT_NOT_FOUND', ref);
  return toProject(row);
}

export async function listProjects(
  options: { ctx: ServiceContext } & repo.ProjectFilter,
): Promise<Project[]> {
  const { ctx, ...filter } = options;
  return (await repo.listProjects(ctx.db, filter)).map(toProject);
}

export async function updateProject(options: {
  ctx: ServiceContext;
  ref: string;
  number?: string | undefined;
  name?: string | undefined;
  fileStorage?: FileStorage | undefined;
}): Promise<Project> {
  const { ctx } = options;
  const current = await getProject(options);
  const changes = {
    ...(options.number !== undefined ? { number: options.number } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.fileStorage !== undefined ? { file_storage: options.fileStorage } : {}),
    updated_at: isoTime(ctx.now()),
  };
  try {
    await ctx.db.transaction().execute(async (db) => {
      await repo.updateProject(db, current.id, changes);
      await log({ ...ctx, db }, 'project.update', current, {
        number: options.number,
        name: options.name,
        fileStorage: options.fileStorage,
      });
    });
  } catch (e) {
    if (isUniqueViolation(e) && options.number !== undefined)
      throw new YzError('PROJECT_NUMBER_TAKEN', options.number, { cause: e });
    throw e;
  }
  authSubjectsChanged();
  return getProject({ ctx, ref: current.id });
}

/** Batch freeze (冻结) or unfreeze (解冻). Every ref must exist; nothing changes otherwise. */
export async function setProjectStatus(options: {
  ctx: ServiceContext;
  refs: readonly string[];
  status: ProjectStatus;
}): Promise<Project[]> {
  const { ctx, status } = options;
  const projects = await Promise.all(options.refs.map((ref) => getProject({ ctx, ref })));
  await ctx.db.transaction().execute(async (db) => {
    await repo.setProjectsStatus(
      db,
      projects.map((p) => p.id),
      status,
      isoTime(ctx.now()),
    );
    for (const p of projects)
      await log({ ...ctx, db }, status === 'frozen' ? 'project.freeze' : 'project.unfreeze', p, {});
  });
  authSubjectsChanged();
  return Promise.all(projects.map((p) => getProject({ ctx, ref: p.id })));
}

/**
 * Deletes the project and all its data and configuration, in one transaction. The hash-chained API and operation
 * logs keep their entries (no one may edit or delete them; removing rows would break the chain): they still name
 * the deleted project's id, and the deletion itself is logged.
 */
export async function deleteProject(options: { ctx: ServiceContext; ref: string }): Promise<Project> {
  const { ctx } = options;
  const project = await getProject(options);
  // Archived records first (their own database): if that fails, nothing is deleted and the call can be retried.
  await deleteColdProjectData(ctx.db, project.id);
  await ctx.db.transaction().execute(async (db) => {
    await repo.deleteProjectCascade(db, project.id);
    await log({ ...ctx, db }, 'project.delete', project, { number: project.number, name: project.name });
  });
  authSubjectsChanged();
  return project;
}

/** Data operations on a frozen project are refused with PROJECT_FROZEN. */
export function assertProjectActive(project: { id: string; status: ProjectStatus }): void {
  if (project.status !== 'active') throw new YzError('PROJECT_FROZEN', project.id);
}
