/**
 * The one error catalogue of the server, in Fastify's `FST_ERR_*` style: a stable code → HTTP status → zh-CN and
 * en-US messages. Every error a client can see is one of these codes, rendered as `application/problem+json` by
 * `plugins/errors.ts`. Callers switch on `code`, never on the message.
 */

export type Locale = 'zh-CN' | 'en-US';

interface CatalogueEntry {
  status: number;
  'zh-CN': string;
  'en-US': string;
}

export const ERRORS = {
  // Request shape (mapped from Fastify's own errors: never a 500 for bad input)
  REQUEST_VALIDATION: { status: 400, 'zh-CN': '请求参数校验失败', 'en-US': 'The request failed validation' },
  REQUEST_BODY_INVALID: {
    status: 400,
    'zh-CN': '请求体不是合法的 JSON',
    'en-US': 'The request body is not valid JSON',
  },
  REQUEST_BODY_TOO_LARGE: {
    status: 413,
    'zh-CN': '请求体超过大小限制',
    'en-US': 'The request body is too large',
  },
  REQUEST_MEDIA_TYPE_UNSUPPORTED: {
    status: 415,
    'zh-CN': '不支持的请求内容类型',
    'en-US': 'Unsupported request content type',
  },
  REQUEST_INVALID: { status: 400, 'zh-CN': '请求无效', 'en-US': 'The request is invalid' },
  NOT_FOUND: { status: 404, 'zh-CN': '资源不存在', 'en-US': 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, 'zh-CN': '不支持的请求方法', 'en-US': 'Method not allowed' },
  RATE_LIMITED: {
    status: 429,
    'zh-CN': '请求过于频繁，请稍后再试',
    'en-US': 'Too many requests, retry later',
  },
  INTERNAL: { status: 500, 'zh-CN': '服务器内部错误', 'en-US': 'Internal server error' },
  NOT_READY: { status: 503, 'zh-CN': '服务尚未就绪', 'en-US': 'The service is not ready' },
  DATABASE_BUSY: {
    status: 503,
    'zh-CN': '数据库繁忙，请求未执行，请稍后重试',
    'en-US': 'The database is busy; nothing was done, retry shortly',
  },

  // Signed application API (X-Yz-* headers)
  AUTH_HEADERS_MISSING: {
    status: 401,
    'zh-CN': '缺少接口签名请求头（X-Yz-App、X-Yz-Timestamp、X-Yz-Nonce、X-Yz-Signature）',
    'en-US': 'Missing signature headers (X-Yz-App, X-Yz-Timestamp, X-Yz-Nonce, X-Yz-Signature)',
  },
  AUTH_HEADER_INVALID: {
    status: 401,
    'zh-CN': '接口签名请求头格式错误',
    'en-US': 'A signature header is malformed',
  },
  AUTH_APP_UNKNOWN: { status: 401, 'zh-CN': '接入编号不存在', 'en-US': 'Unknown application' },
  AUTH_APP_FROZEN: { status: 403, 'zh-CN': '第三方应用已冻结', 'en-US': 'The application is frozen' },
  AUTH_TIMESTAMP_SKEW: {
    status: 401,
    'zh-CN': '请求时间戳与服务器时间相差超过 300 秒',
    'en-US': 'The request timestamp is more than 300 s from the server clock',
  },
  AUTH_NONCE_REPLAY: {
    status: 401,
    'zh-CN': '随机数已使用过（重放请求）',
    'en-US': 'The nonce was used before (replay)',
  },
  AUTH_SIGNATURE_INVALID: {
    status: 401,
    'zh-CN': '接口签名验证失败',
    'en-US': 'The request signature does not verify',
  },
  AUTH_KEY_REVOKED: {
    status: 401,
    'zh-CN': '请求使用了已轮换作废的认证密钥',
    'en-US': 'The request was signed with a rotated-out key',
  },

  // Projects and applications
  PROJECT_NOT_FOUND: { status: 404, 'zh-CN': '项目不存在', 'en-US': 'Project not found' },
  PROJECT_NUMBER_TAKEN: {
    status: 409,
    'zh-CN': '项目编号已存在',
    'en-US': 'The project number is already in use',
  },
  PROJECT_FROZEN: {
    status: 403,
    'zh-CN': '项目已冻结，无法进行数据操作',
    'en-US': 'The project is frozen: data operations are refused',
  },
  APP_NOT_FOUND: { status: 404, 'zh-CN': '第三方应用不存在', 'en-US': 'Application not found' },
  APP_PUBLIC_KEY_INVALID: {
    status: 400,
    'zh-CN': '认证公钥不是合法的 SM2 公钥',
    'en-US': 'The public key is not a valid SM2 public key',
  },

  // The Merkle log (GET /api/v1/log/...)
  LOG_PARAMETER_INVALID: {
    status: 400,
    'zh-CN': '日志参数无效（须为非负整数，且起始规模不大于结束规模）',
    'en-US': 'Invalid log parameter (a non-negative integer; from must not exceed to)',
  },
  LOG_INDEX_OUT_OF_RANGE: {
    status: 400,
    'zh-CN': '叶子序号不小于树规模',
    'en-US': 'The leaf index is not below the tree size',
  },
  LOG_SIZE_OUT_OF_RANGE: {
    status: 400,
    'zh-CN': '日志尚未达到该规模',
    'en-US': 'The log has not reached that size',
  },
  LOG_CHECKPOINT_NOT_FOUND: {
    status: 404,
    'zh-CN': '该规模没有已签名的检查点',
    'en-US': 'No signed checkpoint at that size',
  },
  LOG_NOT_READY: {
    status: 503,
    'zh-CN': '日志尚未发布检查点',
    'en-US': 'The log has not published a checkpoint yet',
  },
  // Console (admin API): login, sessions, users, roles, configuration
  LOGIN_CHALLENGE_UNKNOWN: {
    status: 401,
    'zh-CN': '登录挑战不存在，请重新获取',
    'en-US': 'Unknown login challenge: request a new one',
  },
  LOGIN_CHALLENGE_EXPIRED: {
    status: 401,
    'zh-CN': '登录挑战已过期，请重新获取',
    'en-US': 'The login challenge has expired: request a new one',
  },
  LOGIN_CHALLENGE_USED: {
    status: 401,
    'zh-CN': '登录挑战已使用（重放）',
    'en-US': 'The login challenge was already used (replay)',
  },
  LOGIN_CREDENTIALS_INVALID: {
    status: 401,
    'zh-CN': '用户名或口令错误',
    'en-US': 'Wrong user name or password',
  },
  LOGIN_SIGNATURE_INVALID: {
    status: 401,
    'zh-CN': '证书登录签名验证失败',
    'en-US': 'The login signature does not verify',
  },
  LOGIN_CERT_NOT_BOUND: {
    status: 401,
    'zh-CN': '证书未绑定到该用户',
    'en-US': 'The certificate is not bound to this user',
  },
  LOGIN_CERT_INVALID: {
    status: 401,
    'zh-CN': '登录证书无效（证书链、有效期或吊销检查未通过）',
    'en-US': 'The login certificate is not valid (chain, validity or revocation)',
  },
  LOGIN_USER_FROZEN: { status: 403, 'zh-CN': '用户已冻结', 'en-US': 'The user is frozen' },
  LOGIN_USER_LOCKED: {
    status: 403,
    'zh-CN': '登录失败次数过多，用户已锁定，请稍后再试',
    'en-US': 'Too many failed logins: the user is locked, retry later',
  },
  LOGIN_USER_NO_ROLE: {
    status: 403,
    'zh-CN': '用户未分配角色，无法登录',
    'en-US': 'The user has no role and cannot log in',
  },
  LOGIN_PASSWORD_DISABLED: {
    status: 403,
    'zh-CN': '系统未启用口令登录',
    'en-US': 'Password login is disabled',
  },
  ADMIN_SESSION_REQUIRED: { status: 401, 'zh-CN': '请先登录', 'en-US': 'Log in first' },
  ADMIN_SESSION_EXPIRED: {
    status: 401,
    'zh-CN': '会话已超时，请重新登录',
    'en-US': 'The session has timed out: log in again',
  },
  ADMIN_CSRF_INVALID: {
    status: 403,
    'zh-CN': 'CSRF 令牌缺失或错误',
    'en-US': 'Missing or wrong CSRF token',
  },
  ADMIN_PERMISSION_DENIED: { status: 403, 'zh-CN': '没有该操作的权限', 'en-US': 'Permission denied' },
  ADMIN_PROJECT_SCOPE: {
    status: 403,
    'zh-CN': '该项目未分配给当前用户',
    'en-US': 'The project is not assigned to you',
  },
  ADMIN_PASSWORD_CHANGE_REQUIRED: {
    status: 403,
    'zh-CN': '请先修改一次性口令',
    'en-US': 'Change the one-time password first',
  },
  USER_NOT_FOUND: { status: 404, 'zh-CN': '用户不存在', 'en-US': 'User not found' },
  USER_USERNAME_TAKEN: { status: 409, 'zh-CN': '用户名已存在', 'en-US': 'The user name is already in use' },
  USER_PASSWORD_WEAK: {
    status: 400,
    'zh-CN': '口令不满足复杂度要求',
    'en-US': 'The password does not meet the complexity rules',
  },
  USER_PASSWORD_WRONG: { status: 400, 'zh-CN': '原口令错误', 'en-US': 'The current password is wrong' },
  USER_CERT_INVALID: {
    status: 400,
    'zh-CN': '证书不是合法的 X.509 证书',
    'en-US': 'The certificate is not a valid X.509 certificate',
  },
  USER_CERT_TAKEN: {
    status: 409,
    'zh-CN': '该证书已绑定到其他用户',
    'en-US': 'The certificate is bound to another user',
  },
  USER_CERT_NONE: { status: 404, 'zh-CN': '用户未绑定证书', 'en-US': 'The user has no certificate' },
  USER_SELF_FORBIDDEN: {
    status: 409,
    'zh-CN': '不能对自己执行该操作',
    'en-US': 'You cannot do this to your own account',
  },
  ROLE_NOT_FOUND: { status: 404, 'zh-CN': '角色不存在', 'en-US': 'Role not found' },
  ROLE_NAME_TAKEN: { status: 409, 'zh-CN': '角色名称已存在', 'en-US': 'The role name is already in use' },
  ROLE_BUILTIN: {
    status: 409,
    'zh-CN': '内置角色不可修改或删除',
    'en-US': 'Built-in roles cannot be modified or deleted',
  },
  ROLE_PERMISSION_UNKNOWN: { status: 400, 'zh-CN': '未知的权限标识', 'en-US': 'Unknown permission' },
  ROLE_DUTY_CONFLICT: {
    status: 409,
    'zh-CN': '违反三权分立：管理、业务与审计权限不能合并到同一角色或同一用户',
    'en-US': 'Separation of duties: administration, operation and audit cannot be combined',
  },
  ROLE_IN_USE: {
    status: 409,
    'zh-CN': '角色仍分配给用户，无法删除',
    'en-US': 'The role is still assigned to users',
  },
  SETTING_UNKNOWN: { status: 400, 'zh-CN': '未知的配置项', 'en-US': 'Unknown setting' },
  SETTING_INVALID: { status: 400, 'zh-CN': '配置值不合法', 'en-US': 'Invalid setting value' },
  AUDIT_ENTRY_NOT_FOUND: { status: 404, 'zh-CN': '日志条目不存在', 'en-US': 'Log entry not found' },
  AUDIT_CURSOR_INVALID: {
    status: 400,
    'zh-CN': '分页游标无效',
    'en-US': 'The paging cursor is invalid',
  },
  // Evidence (signature data, digest data, files): 422 = the evidence does not verify, nothing was stored
  EVIDENCE_NOT_FOUND: { status: 404, 'zh-CN': '存证数据不存在', 'en-US': 'Evidence not found' },
  EVIDENCE_INPUT_INVALID: {
    status: 400,
    'zh-CN': '存证数据格式错误',
    'en-US': 'The evidence input is malformed',
  },
  EVIDENCE_ORIGINAL_REQUIRED: {
    status: 400,
    'zh-CN': '缺少签名原文或原文摘要',
    'en-US': 'The original (or its digest) is required to verify this signature',
  },
  EVIDENCE_BATCH_TOO_LARGE: {
    status: 413,
    'zh-CN': '批量提交的条目超过 1000 条',
    'en-US': 'A batch holds at most 1,000 items',
  },
  EVIDENCE_FILE_TOO_LARGE: {
    status: 413,
    'zh-CN': '电子文件超过大小限制',
    'en-US': 'The file is larger than the configured limit',
  },
  EVIDENCE_FILE_MISSING: {
    status: 400,
    'zh-CN': '缺少电子文件（multipart 字段 file）',
    'en-US': 'The multipart request has no file part',
  },
  EVIDENCE_IDEMPOTENCY_CONFLICT: {
    status: 409,
    'zh-CN': '幂等键已用于另一条存证数据',
    'en-US': 'The Idempotency-Key was already used for different evidence',
  },
  EVIDENCE_CURSOR_INVALID: { status: 400, 'zh-CN': '分页游标无效', 'en-US': 'The page cursor is invalid' },
  EVIDENCE_FORMAT_INVALID: {
    status: 422,
    'zh-CN': '签名值、证书或时间戳的编码无法解析',
    'en-US': 'The signature, certificate or timestamp token cannot be parsed',
  },
  EVIDENCE_SIGNATURE_INVALID: {
    status: 422,
    'zh-CN': '签名验证失败',
    'en-US': 'The signature does not verify',
  },
  EVIDENCE_DIGEST_MISMATCH: {
    status: 422,
    'zh-CN': '原文摘要与签名不符',
    'en-US': 'The digest of the original does not match the signature',
  },
  EVIDENCE_SIGNER_CERT_MISSING: {
    status: 422,
    'zh-CN': '未找到签名者证书',
    'en-US': 'No certificate of the signer was included or supplied',
  },
  EVIDENCE_ALGORITHM_UNSUPPORTED: {
    status: 422,
    'zh-CN': '不支持的签名或摘要算法',
    'en-US': 'Unsupported signature or digest algorithm',
  },
  EVIDENCE_CERT_EXPIRED: {
    status: 422,
    'zh-CN': '签名时证书已过期',
    'en-US': 'The certificate had expired at signing time',
  },
  EVIDENCE_CERT_NOT_YET_VALID: {
    status: 422,
    'zh-CN': '签名时证书尚未生效',
    'en-US': 'The certificate was not yet valid at signing time',
  },
  EVIDENCE_CHAIN_UNTRUSTED: {
    status: 422,
    'zh-CN': '证书链无法连接到受信任的根证书',
    'en-US': 'The certificate does not chain to a trusted root',
  },
  EVIDENCE_CHAIN_INVALID: {
    status: 422,
    'zh-CN': '证书链验证失败（签发者签名、CA 约束或密钥用法）',
    'en-US': 'The certificate chain is invalid (issuer signature, CA constraints or key usage)',
  },
  EVIDENCE_CERT_REVOKED: {
    status: 422,
    'zh-CN': '签名证书（或其证书链）在签名时间之前已被吊销',
    'en-US': 'The signer certificate (or one of its chain) was revoked before the signing time',
  },
  EVIDENCE_TIMESTAMP_INVALID: {
    status: 422,
    'zh-CN': '时间戳签名值验证失败',
    'en-US': 'The timestamp token does not verify',
  },
  EVIDENCE_TAMPERED: {
    status: 409,
    'zh-CN': '存证数据完整性校验失败（已被篡改）',
    'en-US': 'The stored evidence fails its integrity check (tampered)',
  },
  EVIDENCE_TIMESTAMP_IMPRINT_MISMATCH: {
    status: 422,
    'zh-CN': '时间戳与签名值不对应',
    'en-US': 'The timestamp token does not cover this signature',
  },
  // Jobs (任务管理), history migration (历史数据迁移), hot→cold archiving
  JOB_NOT_FOUND: { status: 404, 'zh-CN': '任务不存在', 'en-US': 'No such job' },
  JOB_SCHEDULE_INVALID: {
    status: 400,
    'zh-CN': '任务执行计划（cron 表达式）无效',
    'en-US': 'The job schedule (cron pattern) is invalid',
  },
  JOB_BUSY: {
    status: 409,
    'zh-CN': '任务正在运行（本服务器或其他服务器）',
    'en-US': 'The job is already running (here or on another server)',
  },
  HISTORY_SOURCE_NOT_FOUND: {
    status: 404,
    'zh-CN': '历史数据源不存在',
    'en-US': 'No such history data source',
  },
  HISTORY_SOURCE_INVALID: {
    status: 400,
    'zh-CN': '数据源配置无效（类型、连接地址或中间表名）',
    'en-US': 'The data source is invalid (kind, connection URL or intermediate table name)',
  },
  HISTORY_SOURCE_UNREACHABLE: {
    status: 422,
    'zh-CN': '无法连接数据源或读取中间表',
    'en-US': 'The data source cannot be reached or its intermediate table read',
  },
  HISTORY_MAPPING_INVALID: {
    status: 400,
    'zh-CN': '中间表字段映射无效',
    'en-US': 'The column mapping of the intermediate table is invalid',
  },
  HISTORY_TASK_NOT_FOUND: { status: 404, 'zh-CN': '迁移任务不存在', 'en-US': 'No such migration task' },
  HISTORY_TASK_INVALID: {
    status: 400,
    'zh-CN': '迁移任务参数无效（应用、校验级别、时间窗口或限速）',
    'en-US': 'The migration task is invalid (application, validation level, time window or throttle)',
  },
  HISTORY_TASK_STATE: {
    status: 409,
    'zh-CN': '迁移任务当前状态不允许该操作',
    'en-US': 'The migration task is not in a state that allows this',
  },
  HISTORY_ROW_INVALID: {
    status: 422,
    'zh-CN': '中间表记录格式错误',
    'en-US': 'The intermediate-table row is malformed',
  },
  STRATEGY_NOT_FOUND: { status: 404, 'zh-CN': '迁移策略不存在', 'en-US': 'No such migration strategy' },
  STRATEGY_INVALID: {
    status: 400,
    'zh-CN': '迁移策略参数无效（项目、数据类型、时间窗口或时区）',
    'en-US': 'The migration strategy is invalid (project, kinds, time window or time zone)',
  },
  STRATEGY_NAME_TAKEN: {
    status: 409,
    'zh-CN': '迁移策略名称已存在',
    'en-US': 'A migration strategy with this name already exists',
  },
  COLD_COPY_MISMATCH: {
    status: 500,
    'zh-CN': '冷库副本校验失败，热库数据未删除',
    'en-US': 'The cold copy failed verification; the hot copy was kept',
  },
  // TSA key import (ca/tsa-import.ts, `yizheng tsa import`).
  TSA_IMPORT_UNREADABLE: {
    status: 400,
    'zh-CN': '无法读取时间戳私钥或证书（需未加密的 SM2、RSA 或 P-256 PEM 私钥与 X.509 证书）',
    'en-US':
      'The TSA key or certificate cannot be read (an unencrypted SM2, RSA or P-256 PEM key and X.509 certificates)',
  },
  TSA_IMPORT_KEY_MISMATCH: {
    status: 400,
    'zh-CN': '时间戳私钥与证书不匹配',
    'en-US': 'The TSA private key does not belong to the certificate',
  },
  TSA_IMPORT_EKU_INVALID: {
    status: 400,
    'zh-CN': '时间戳证书须有唯一且关键的扩展密钥用法 timeStamping',
    'en-US': 'A TSA certificate has one critical extended key usage: id-kp-timeStamping',
  },
  TSA_IMPORT_CERT_NOT_VALID: {
    status: 400,
    'zh-CN': '时间戳证书已过期或尚未生效',
    'en-US': 'The TSA certificate has expired or is not yet valid',
  },
  TSA_IMPORT_CHAIN_INVALID: {
    status: 400,
    'zh-CN': '证书链中的证书未签发其下级证书',
    'en-US': 'A chain certificate did not issue the certificate below it',
  },
  // Reports (modules/reports): `?stored=1` asks for the report the digest-report job stored.
  REPORT_NOT_STORED: {
    status: 404,
    'zh-CN': '该摘要数据尚无已生成的存证报告',
    'en-US': 'No stored evidence report for this digest record yet',
  },
  // Download links (modules/downloads): the link is the credential; every refusal is 403.
  DOWNLOAD_LINK_INVALID: {
    status: 403,
    'zh-CN': '下载链接无效或已被篡改',
    'en-US': 'The download link is invalid or has been altered',
  },
  DOWNLOAD_LINK_EXPIRED: { status: 403, 'zh-CN': '下载链接已过期', 'en-US': 'The download link has expired' },
  DOWNLOAD_LINK_USED: {
    status: 403,
    'zh-CN': '一次性下载链接已被使用',
    'en-US': 'The one-time download link has already been used',
  },
  // Public verification (modules/public-verify): an unknown record and a wrong code look the same.
  PUBLIC_VERIFY_NOT_FOUND: {
    status: 404,
    'zh-CN': '记录不存在或核验码不正确',
    'en-US': 'No such record, or the verification code is wrong',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** An error a client may see: a catalogue code, optional detail (shown) and optional internal cause (logged). */
export class YzError extends Error {
  override readonly name = 'YzError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Shown to the client as `detail`, in addition to the localised title. Never secrets, never stack traces. */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail === undefined ? ERRORS[code]['en-US'] : `${ERRORS[code]['en-US']}: ${detail}`, options);
    this.code = code;
    this.statusCode = ERRORS[code].status;
    this.detail = detail;
  }
}

export function isYzError(e: unknown, code?: ErrorCode): e is YzError {
  return e instanceof YzError && (code === undefined || e.code === code);
}

export function message(code: ErrorCode, locale: Locale): string {
  return ERRORS[code][locale];
}

/**
 * Picks zh-CN (the default) or en-US from an Accept-Language header: the highest-weighted tag that is Chinese or
 * English wins; anything else (or nothing) falls back to zh-CN.
 */
export function negotiateLocale(acceptLanguage: string | undefined): Locale {
  if (!acceptLanguage) return 'zh-CN';
  let best: { locale: Locale; q: number } | undefined;
  for (const part of acceptLanguage.split(',')) {
    const [tagRaw, ...params] = part.trim().split(';');
    const tag = (tagRaw ?? '').trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q=([0-9.]+)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!Number.isFinite(q) || q <= 0) continue;
    const locale: Locale | undefined =
      tag === 'zh' || tag.startsWith('zh-')
        ? 'zh-CN'
        : tag === 'en' || tag.startsWith('en-')
          ? 'en-US'
          : undefined;
    if (locale && (best === undefined || q > best.q)) best = { locale, q };
  }
  return best?.locale ?? 'zh-CN';
}
