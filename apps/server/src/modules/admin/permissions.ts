/**
 * Console permissions (`module:action`) and the built-in roles that keep the separation of three powers (三权分立,
 * GB/T 22239 level 3):
 *
 * - **administrator** (系统管理员): users, roles, projects, applications, configuration. Cannot read evidence and
 *   cannot read or alter the audit logs.
 * - **operator** (业务操作员): evidence and statistics, only in the projects assigned to them.
 * - **auditor** (安全审计员): reads the operation and API logs, exports them, checks their integrity. Nothing else.
 *
 * Every permission belongs to one duty; a role's permissions, and all the roles of one user, must stay within
 * one duty (plus the shared read-only permissions), so no custom role or assignment can merge two powers.
 * No permission anywhere allows editing or deleting a log entry: there is no such route.
 */

export type Duty = 'admin' | 'operator' | 'auditor';

export const PERMISSIONS = {
  'user:read': { duty: 'admin', 'zh-CN': '查看用户', 'en-US': 'View users' },
  'user:create': { duty: 'admin', 'zh-CN': '新增用户', 'en-US': 'Create users' },
  'user:update': { duty: 'admin', 'zh-CN': '修改用户、绑定证书', 'en-US': 'Modify users, bind certificates' },
  'user:delete': { duty: 'admin', 'zh-CN': '删除用户', 'en-US': 'Delete users' },
  'user:freeze': { duty: 'admin', 'zh-CN': '冻结/解冻用户', 'en-US': 'Freeze/unfreeze users' },
  'role:read': { duty: 'admin', 'zh-CN': '查看角色', 'en-US': 'View roles' },
  'role:write': { duty: 'admin', 'zh-CN': '新增/修改/删除角色', 'en-US': 'Create/modify/delete roles' },
  'role:assign': { duty: 'admin', 'zh-CN': '分配角色与项目', 'en-US': 'Assign roles and projects' },
  'project:create': { duty: 'admin', 'zh-CN': '新增项目', 'en-US': 'Create projects' },
  'project:update': { duty: 'admin', 'zh-CN': '修改项目', 'en-US': 'Modify projects' },
  'project:freeze': { duty: 'admin', 'zh-CN': '冻结/解冻项目', 'en-US': 'Freeze/unfreeze projects' },
  'project:delete': { duty: 'admin', 'zh-CN': '删除项目', 'en-US': 'Delete projects' },
  'application:create': { duty: 'admin', 'zh-CN': '新增第三方应用', 'en-US': 'Create applications' },
  'application:update': { duty: 'admin', 'zh-CN': '修改第三方应用', 'en-US': 'Modify applications' },
  'application:freeze': {
    duty: 'admin',
    'zh-CN': '冻结/解冻第三方应用',
    'en-US': 'Freeze/unfreeze applications',
  },
  'application:key': { duty: 'admin', 'zh-CN': '生成/更换认证密钥', 'en-US': 'Generate/rotate keys' },
  'config:read': { duty: 'admin', 'zh-CN': '查看系统配置', 'en-US': 'View configuration' },
  'config:update': { duty: 'admin', 'zh-CN': '修改/重置系统配置', 'en-US': 'Modify/reset configuration' },
  'job:read': { duty: 'admin', 'zh-CN': '查看任务与运行记录', 'en-US': 'View jobs and their runs' },
  'job:manage': {
    duty: 'admin',
    'zh-CN': '启动/停止/立即执行任务、修改执行计划',
    'en-US': 'Start, stop, run jobs and change their schedules',
  },
  'history:read': { duty: 'admin', 'zh-CN': '查看历史数据迁移', 'en-US': 'View history migration' },
  'history:manage': {
    duty: 'admin',
    'zh-CN': '管理历史数据源与迁移任务',
    'en-US': 'Manage history data sources and migration tasks',
  },
  'strategy:read': { duty: 'admin', 'zh-CN': '查看迁移策略', 'en-US': 'View migration strategies' },
  'strategy:manage': {
    duty: 'admin',
    'zh-CN': '新增/修改/删除迁移策略',
    'en-US': 'Create, modify and delete migration strategies',
  },
  'scope:all-projects': {
    duty: 'admin',
    'zh-CN': '管理全部项目',
    'en-US': 'Manage all projects',
  },
  'evidence:read': { duty: 'operator', 'zh-CN': '查询存证数据', 'en-US': 'Search evidence' },
  'evidence:verify': { duty: 'operator', 'zh-CN': '重新验证存证', 'en-US': 'Re-verify evidence' },
  'evidence:export': { duty: 'operator', 'zh-CN': '导出存证与报告', 'en-US': 'Export evidence and reports' },
  'stats:read': { duty: 'operator', 'zh-CN': '查看统计', 'en-US': 'View statistics' },
  'audit:read': {
    duty: 'auditor',
    'zh-CN': '查看操作日志与接口日志',
    'en-US': 'Read operation and API logs',
  },
  'audit:export': { duty: 'auditor', 'zh-CN': '导出日志', 'en-US': 'Export logs' },
  'audit:verify': { duty: 'auditor', 'zh-CN': '日志完整性校验', 'en-US': 'Check log integrity' },
  // Shared read-only permissions (any duty may hold them).
  'project:read': { duty: 'shared', 'zh-CN': '查看项目', 'en-US': 'View projects' },
  'application:read': { duty: 'shared', 'zh-CN': '查看第三方应用', 'en-US': 'View applications' },
} as const satisfies Record<string, { duty: Duty | 'shared'; 'zh-CN': string; 'en-US': string }>;

export type Permission = keyof typeof PERMISSIONS;

export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(p: string): p is Permission {
  return Object.hasOwn(PERMISSIONS, p);
}

export type BuiltinRoleName = 'administrator' | 'operator' | 'auditor';

export const BUILTIN_ROLES: Readonly<
  Record<BuiltinRoleName, { id: string; description: string; permissions: readonly Permission[] }>
> = {
  administrator: {
    id: 'role_administrator',
    description: '系统管理员：用户、角色、项目、第三方应用与系统配置',
    permissions: ALL_PERMISSIONS.filter(
      (p) => PERMISSIONS[p].duty === 'admin' || PERMISSIONS[p].duty === 'shared',
    ),
  },
  operator: {
    id: 'role_operator',
    description: '业务操作员：所分配项目内的存证查询、验证、导出与统计',
    permissions: [
      'evidence:read',
      'evidence:verify',
      'evidence:export',
      'stats:read',
      'project:read',
      'application:read',
    ],
  },
  auditor: {
    id: 'role_auditor',
    description: '安全审计员：查看、导出操作日志与接口日志，校验日志完整性',
    permissions: ['audit:read', 'audit:export', 'audit:verify'],
  },
};

export function isBuiltinRoleName(name: string): name is BuiltinRoleName {
  return Object.hasOwn(BUILTIN_ROLES, name);
}

/** The duties a permission set spans (shared permissions span none). */
export function dutiesOf(permissions: Iterable<string>): Set<Duty> {
  const out = new Set<Duty>();
  for (const p of permissions) {
    if (!isPermission(p)) continue;
    const d = PERMISSIONS[p].duty;
    if (d !== 'shared') out.add(d);
  }
  return out;
}
