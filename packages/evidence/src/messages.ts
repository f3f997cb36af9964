/** Readable names of the verifier's checks (stable check name → zh-CN / en-US), for the CLI and the page. */
export type Lang = 'zh-CN' | 'en-US';

export const CHECK_LABELS: Readonly<Record<string, Readonly<Record<Lang, string>>>> = {
  format: { 'zh-CN': '格式', 'en-US': 'format' },
  listed: { 'zh-CN': '清单一致', 'en-US': 'listed in the manifest' },
  sm3: { 'zh-CN': 'SM3 与清单一致', 'en-US': 'SM3 matches the manifest' },
  signature: { 'zh-CN': '平台签名', 'en-US': 'platform signature' },
  cms: { 'zh-CN': 'CMS 签名验证', 'en-US': 'CMS signature' },
  'raw-signature': { 'zh-CN': '裸签名验证', 'en-US': 'raw signature' },
  chain: { 'zh-CN': '平台证书链', 'en-US': 'platform certificate chain' },
  'root-pinned': { 'zh-CN': '锚定平台根证书', 'en-US': 'pinned to the platform root' },
  'record-hash': { 'zh-CN': '存证哈希（SM3）', 'en-US': 'evidence hash (SM3)' },
  'record-id': { 'zh-CN': '数据编号', 'en-US': 'record id' },
  'record-sm3': { 'zh-CN': 'SM3 与存证记录一致', 'en-US': 'SM3 matches the record' },
  'signer-validity': { 'zh-CN': '签名证书在签名时有效', 'en-US': 'signer certificate valid at signing time' },
  'signer-chain': { 'zh-CN': '签名证书链', 'en-US': 'signer certificate path' },
  'timestamp-signature': { 'zh-CN': '时间戳签名', 'en-US': 'timestamp signature' },
  'timestamp-imprint': { 'zh-CN': '时间戳摘要（imprint）', 'en-US': 'timestamp imprint' },
  'timestamp-ess-cert-id': { 'zh-CN': '时间戳证书绑定（ESSCertID）', 'en-US': 'timestamp ESSCertID binding' },
  'timestamp-tsa-eku': { 'zh-CN': 'TSA 证书时间戳用途（EKU）', 'en-US': 'TSA timeStamping EKU' },
  'timestamp-tsa-validity': { 'zh-CN': 'TSA 证书在盖戳时有效', 'en-US': 'TSA certificate valid at genTime' },
  'timestamp-tsa-chain': { 'zh-CN': 'TSA 证书链', 'en-US': 'TSA certificate path' },
  'checkpoint-timestamp': { 'zh-CN': '检查点时间戳', 'en-US': 'checkpoint timestamp' },
  inclusion: { 'zh-CN': '日志包含证明', 'en-US': 'log inclusion proof' },
  seal: { 'zh-CN': '报告平台签章', 'en-US': "report's platform seal" },
  consistency: { 'zh-CN': '与当前日志一致（一致性证明）', 'en-US': 'consistent with the live log' },
  'checkpoint-signature': { 'zh-CN': '检查点平台签名', 'en-US': 'checkpoint platform signature' },
  'record-intact': { 'zh-CN': '服务器存证记录未被篡改', 'en-US': 'stored record unaltered (server)' },
};

/** The readable name of a check (the stable name itself when unknown). */
export function checkLabel(check: string, lang: Lang): string {
  return CHECK_LABELS[check]?.[lang] ?? check;
}
