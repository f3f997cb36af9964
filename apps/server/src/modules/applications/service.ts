/**
 * Third-party applications (第三方接入管理, seed §1.5): an application belongs to a project, has an id (接入编号)
 * and an SM2 authentication key whose private half only the medical system holds. Creating or rotating a key
 * either takes the caller's public key or generates a pair and hands the private key back once; only the
 * public key is stored. Rotated-out keys are kept (revoked) so a request signed with one is told so.
 */
import { randomBytes } from 'node:crypto';
import { isGmError, sm2, type KeyInput, type Sm2PublicKey } from '@yizheng/gm';
import { appendToChain } from '../../audit/hash-chain.js';
import { isoTime, type ServiceContext } from '../../context.js';
import type { ApplicationStatus } from '../../db/schema.js';
import { YzError } from '../../errors.js';
import { authSubjectsChanged } from '../../plugins/auth-subjects.js';
import { getProject } from '../projects/service.js';
import * as repo from './repo.js';

export interface Application {
  /** 接入编号 */
  id: string;
  projectId: string;
  name: string;
  vendor: string;
  status: ApplicationStatus;
  defaultTags: string[];
  retentionYears: number;
  /** PEM of the current SM2 public key. */
  publicKeyPem: string;
  keyVersion: number;
  createdAt: string;
  updatedAt: string;
}

export const DEFAULT_RETENTION_YEARS = 30;

function parseTags(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

export function spkiToPem(spkiBase64: string): string {
  const b64 = spkiBase64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
}

function toApplication(r: repo.ApplicationRow): Application {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    vendor: r.vendor,
    status: r.status,
    defaultTags: parseTags(r.default_tags),
    retentionYears: r.retention_years,
    publicKeyPem: spkiToPem(r.public_key),
    keyVersion: r.key_version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** 接入编号: `app_` and 20 hex digits. */
function newApplicationId(): string {
  return `app_${randomBytes(10).toString('hex')}`;
}

function importPublicKey(input: KeyInput): Sm2PublicKey {
  try {
    return sm2.importPublicKey(input);
  } catch (e) {
    if (isGmError(e)) throw new YzError('APP_PUBLIC_KEY_INVALID', e.code, { cause: e });
    throw e;
  }
}

/** Either the given public key, or a fresh pair whose private key PEM is returned (once) to the caller. */
function keyMaterial(publicKey: KeyInput | undefined): { spki: string; privateKeyPem?: string } {
  if (publicKey !== undefined)
    return { spki: Buffer.from(importPublicKey(publicKey).toSpki()).toString('base64') };
  const pair = sm2.generateKeyPair();
  return {
    spki: Buffer.from(pair.publicKey.toSpki()).toString('base64'),
    privateKeyPem: pair.privateKey.toPem(),
  };
}

async function log(
  ctx: ServiceContext,
  action: string,
  app: { id: string; project_id: string },
  detail: Record<string, unknown>,
): Promise<void> {
  await appendToChain({
    db: ctx.db,
    table: 'operation_logs',
    entry: {
      at: isoTime(ctx.now()),
      actor: ctx.actor,
      action,
      target_type: 'application',
      target_id: app.id,
      project_id: app.project_id,
      detail: JSON.stringify(detail),
    },
  });
}

export interface CreatedApplication {
  application: Application;
  /** Present only when the key pair was generated here: show it once, it is not stored. */
  privateKeyPem?: string;
}

export async function createApplication(options: {
  ctx: ServiceContext;
  /** Project id or number. */
  project: string;
  name: string;
  vendor?: string | undefined;
  defaultTags?: readonly string[] | undefined;
  retentionYears?: number | undefined;
  /** PEM, DER or hex of an SM2 public key; absent → a key pair is generated. */
  publicKey?: KeyInput | undefined;
}): Promise<CreatedApplication> {
  const { ctx } = options;
  const project = await getProject({ ctx, ref: options.project });
  const key = keyMaterial(options.publicKey);
  const at = isoTime(ctx.now());
  const row: repo.ApplicationRow = {
    id: newApplicationId(),
    project_id: project.id,
    name: options.name,
    vendor: options.vendor ?? '',
    status: 'active',
    default_tags: JSON.stringify(options.defaultTags ?? []),
    retention_years: options.retentionYears ?? DEFAULT_RETENTION_YEARS,
    public_key: key.spki,
    key_version: 1,
    created_at: at,
    updated_at: at,
  };
  await ctx.db.transaction().execute(async (db) => {
    await repo.insertApplication(db, row);
    await log({ ...ctx, db }, 'application.create', row, {
      name: row.name,
      keyVersion: 1,
      generated: key.privateKeyPem !== undefined,
    });
  });
  const application = toApplication(row);
  return key.privateKeyPem === undefined
    ? { application }
    : { application, privateKeyPem: key.privateKeyPem };
}

export async function getApplication(options: { ctx: ServiceContext; id: string }): Promise<Application> {
  const row = await repo.findApplication(options.ctx.db, options.id);
  if (row === undefined) throw new YzError('APP_NOT_FOUND', options.id);
  return toApplication(row);
}

export async function listApplications(options: {
  ctx: ServiceContext;
  /** Project id or number. */
  project?: string | undefined;
  status?: ApplicationStatus | undefined;
  name?: string | undefined;
}): Promise<Application[]> {
  const { ctx } = options;
  const projectId =
    options.project === undefined ? undefined : (await getProject({ ctx, ref: options.project })).id;
  return (await repo.listApplications(ctx.db, { projectId, status: options.status, name: options.name })).map(
    toApplication,
  );
}

export async function updateApplication(options: {
  ctx: ServiceContext;
  id: string;
  name?: string | undefined;
  vendor?: string | undefined;
  defaultTags?: readonly string[] | undefined;
  retentionYears?: number | undefined;
}): Promise<Application> {
  const { ctx } = options;
  const app = await getApplication(options);
  const changes = {
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.vendor !== undefined ? { vendor: options.vendor } : {}),
    ...(options.defaultTags !== undefined ? { default_tags: JSON.stringify(options.defaultTags) } : {}),
    ...(options.retentionYears !== undefined ? { retention_years: options.retentionYears } : {}),
    updated_at: isoTime(ctx.now()),
  };
  await ctx.db.transaction().execute(async (db) => {
    await repo.updateApplication(db, app.id, changes);
    await log(
      { ...ctx, db },
      'application.update',
      { id: app.id, project_id: app.projectId },
      { ...changes, updated_at: undefined },
    );
  });
  authSubjectsChanged();
  return getApplication(options);
}

/** Batch freeze (冻结: its API calls get 403 AUTH_APP_FROZEN) or unfreeze (解冻). */
export async function setApplicationStatus(options: {
  ctx: ServiceContext;
  ids: readonly string[];
  status: ApplicationStatus;
}): Promise<Application[]> {
  const { ctx, status } = options;
  const apps = await Promise.all(options.ids.map((id) => getApplication({ ctx, id })));
  await ctx.db.transaction().execute(async (db) => {
    await repo.setApplicationsStatus(
      db,
      apps.map((a) => a.id),
      status,
      isoTime(ctx.now()),
    );
    for (const a of apps) {
      await log(
        { ...ctx, db },
        status === 'frozen' ? 'application.freeze' : 'application.unfreeze',
        { id: a.id, project_id: a.projectId },
        {},
      );
    }
  });
  authSubjectsChanged();
  return Promise.all(apps.map((a) => getApplication({ ctx, id: a.id })));
}

/** Replaces the authentication key; the old one is kept as revoked (requests signed with it get AUTH_KEY_REVOKED). */
export async function rotateApplicationKey(options: {
  ctx: ServiceContext;
  id: string;
  publicKey?: KeyInput | undefined;
}): Promise<CreatedApplication> {
  const { ctx } = options;
  const key = keyMaterial(options.publicKey);
  await ctx.db.transaction().execute(async (db) => {
    const row = await repo.findApplication(db, options.id);
    if (row === undefined) throw new YzError('APP_NOT_FOUND', options.id);
    const version = await repo.rotateKey(db, row, key.spki, isoTime(ctx.now()));
    await log({ ...ctx, db }, 'application.rotate-key', row, {
      keyVersion: version,
      generated: key.privateKeyPem !== undefined,
    });
  });
  authSubjectsChanged();
  const application = await getApplication(options);
  return key.privateKeyPem === undefined
    ? { application }
    : { application, privateKeyPem: key.privateKeyPem };
}
