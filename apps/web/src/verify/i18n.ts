/** The page's own words (zh-CN default, en-US); check names come from @yizheng/evidence's CHECK_LABELS. */
import type { Lang } from '@yizheng/evidence/browser';

export const WORDS = {
  'zh-CN': {
    title: '医证 · 证据核验',
    subtitle: '在您的浏览器中核验证据包或凭证报告，无需登录；原文不会上传。',
    upload: '选择证据包（.zip）',
    root: '平台根证书（可选，PEM/DER）',
    rootServer: '未指定时使用本平台的根证书，SM3 指纹：',
    verifying: '正在核验…',
    offline: '离线核验（在浏览器中完成）',
    live: '在线核验（对照当前日志）',
    record: '凭证记录核验',
    valid: '结论：证据包完整有效。',
    invalid: '结论：未通过核验。未通过的部分：',
    recordValid: '结论：该记录已在存证日志中，证明有效。',
    recordInvalid: '结论：该记录的证明未通过核验。',
    liveValid: '在线核验通过：与当前日志一致。',
    liveInvalid: '在线核验未通过：',
    recordId: '数据编号',
    evidenceHash: '存证哈希（SM3）',
    status: { pass: '通过', fail: '未通过', skip: '跳过' },
    part: '部分',
    check: '检查项',
    detail: '说明',
    tooLarge: '文件过大：证据包不能超过',
    unreadable: '无法读取：这不是证据包',
    needCode: '链接缺少核验码（#c=…），请扫描凭证报告上的二维码。',
    error: '出错了：',
    lang: 'English',
  },
  'en-US': {
    title: 'Yizheng · Evidence verification',
    subtitle: 'Verify an evidence package or a report in your browser, without login; nothing is uploaded.',
    upload: 'Choose an evidence package (.zip)',
    root: 'Platform root certificate (optional, PEM/DER)',
    rootServer: "Without one, this platform's root is used; its SM3 fingerprint:",
    verifying: 'Verifying…',
    offline: 'Offline checks (run in this browser)',
    live: 'Live checks (against the current log)',
    record: 'Record verification',
    valid: 'Result: the package is intact and valid.',
    invalid: 'Result: NOT valid. Failed parts:',
    recordValid: 'Result: the record is in the evidence log; its proof is valid.',
    recordInvalid: "Result: the record's proof did NOT verify.",
    liveValid: 'Live checks passed: consistent with the current log.',
    liveInvalid: 'Live checks FAILED:',
    recordId: 'Record',
    evidenceHash: 'Evidence hash (SM3)',
    status: { pass: 'pass', fail: 'FAIL', skip: 'skip' },
    part: 'Part',
    check: 'Check',
    detail: 'Detail',
    tooLarge: 'File too large: a package may not exceed',
    unreadable: 'Unreadable: this is not an evidence package',
    needCode: 'The link has no verification code (#c=…): scan the QR code on the report.',
    error: 'Error: ',
    lang: '中文',
  },
} as const satisfies Record<Lang, unknown>;

export function initialLang(): Lang {
  const saved = globalThis.localStorage?.getItem('yz-verify-lang');
  if (saved === 'zh-CN' || saved === 'en-US') return saved;
  return 'zh-CN';
}
