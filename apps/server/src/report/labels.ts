import type { EvidenceKind, ReportCheck, ReportLocale } from './view-model.js';

/** Every word the report prints, in both languages. Check and hash names fall back to the stable name. */
export interface ReportLabels {
  title: Record<EvidenceKind, string>;
  subtitle: string;
  sections: {
    record: string;
    signer: string;
    timestamp: string;
    hashes: string;
    checks: string;
    log: string;
    verify: string;
  };
  fields: {
    recordId: string;
    kind: string;
    project: string;
    application: string;
    serialNumber: string;
    businessType: string;
    sourceSystem: string;
    department: string;
    patientName: string;
    patientId: string;
    visitNumber: string;
    receivedAt: string;
    fileName: string;
    fileSize: string;
    contentType: string;
    digestCategory: string;
    digestAlgorithm: string;
    digestValue: string;
    signer: string;
    signatureFormat: string;
    signedAt: string;
    certSubject: string;
    certIssuer: string;
    certSerial: string;
    certValidity: string;
    certSm3: string;
    genTime: string;
    tsa: string;
    tsSerial: string;
    tsPolicy: string;
    tsHash: string;
    /** The digest-timestamp job's reinforcement stamp over the evidence hash (digest records). */
    reinforcement: string;
    logIndex: string;
    treeSize: string;
    rootHash: string;
    inclusionProof: string;
    checkpoint: string;
    verifyUrl: string;
    sealAlgorithm: string;
    sealContent: string;
    sealKey: string;
    sealSignature: string;
    generatedAt: string;
  };
  kinds: Record<EvidenceKind, string>;
  status: Record<ReportCheck['status'], string>;
  overall: { valid: string; invalid: string };
  checkHeader: { name: string; status: string; detail: string };
  checkNames: Record<string, string>;
  hashNames: Record<string, string>;
  pending: string;
  none: string;
  qrHint: string;
  sealNote: string;
  page: (n: number, total: number) => string;
  bytes: (n: number) => string;
}

const zh: ReportLabels = {
  title: { signature: '电子签名数据存证凭证', digest: '摘要数据存证凭证', file: '电子文件存证凭证' },
  subtitle: '电子数据存证凭证报告',
  sections: {
    record: '一、存证信息',
    signer: '二、签名与证书',
    timestamp: '三、可信时间戳',
    hashes: '四、数据摘要',
    checks: '五、验证结果',
    log: '六、存证日志（默克尔树）',
    verify: '七、核验与平台签章',
  },
  fields: {
    recordId: '数据编号',
    kind: '数据类型',
    project: '所属项目',
    application: '接入应用',
    serialNumber: '业务流水号',
    businessType: '业务类型',
    sourceSystem: '来源系统',
    department: '科室',
    patientName: '患者姓名',
    patientId: '患者标识',
    visitNumber: '就诊号',
    receivedAt: '存证时间',
    fileName: '文件名',
    fileSize: '文件大小',
    contentType: '文件类型',
    digestCategory: '摘要类别',
    digestAlgorithm: '摘要算法',
    digestValue: '摘要值',
    signer: '签名人',
    signatureFormat: '签名格式',
    signedAt: '签名时间',
    certSubject: '证书主题',
    certIssuer: '颁发者',
    certSerial: '证书序列号',
    certValidity: '有效期',
    certSm3: '证书 SM3 指纹',
    genTime: '时间戳时间',
    tsa: '时间戳机构',
    tsSerial: '时间戳序列号',
    tsPolicy: '时间戳策略',
    tsHash: '摘要算法',
    reinforcement: '平台加固时间戳',
    logIndex: '日志序号',
    treeSize: '树大小',
    rootHash: '根哈希',
    inclusionProof: '包含证明',
    checkpoint: '签名检查点',
    verifyUrl: '核验地址',
    sealAlgorithm: '签章算法',
    sealContent: '报告内容 SM3',
    sealKey: '平台密钥标识',
    sealSignature: '平台签名值',
    generatedAt: '报告生成时间',
  },
  kinds: { signature: '电子签名数据', digest: '摘要数据', file: '电子文件' },
  status: { pass: '通过', fail: '未通过', skip: '不适用' },
  overall: {
    valid: '验证通过：该存证数据完整、签名有效。',
    invalid: '验证未通过：存在未通过的检查项，详见下表。',
  },
  checkHeader: { name: '检查项', status: '结果', detail: '说明' },
  checkNames: {
    'request-signature': '接入应用请求签名',
    signature: '签名值验证',
    'signed-content': '原文与签名一致',
    'certificate-validity': '证书在签名时有效',
    'certificate-chain': '证书链',
    timestamp: '时间戳验证',
    'timestamp-imprint': '时间戳与签名绑定',
    'evidence-hash': '存证哈希',
    'stored-bytes': '存储数据完整',
    'log-leaf': '日志叶子一致',
    'log-inclusion': '日志包含证明',
    checkpoint: '检查点签名',
    'digest-format': '摘要格式',
    file: '文件完整',
    record: '存证记录与存证哈希一致',
    patient: '患者信息与盲索引一致',
    original: '原文与记录一致',
    certificates: '证书与记录一致',
    log: '默克尔日志包含证明',
    reinforcement: '平台加固时间戳（覆盖存证哈希）',
  },
  hashNames: {
    original: '原文 SM3',
    signature: '签名值 SM3',
    certificates: '证书 SM3',
    timestamp: '时间戳 SM3',
    reinforcement: '加固时间戳 SM3',
    file: '文件 SM3',
    digest: '摘要值',
    evidence: '存证哈希（规范记录 SM3）',
  },
  pending: '待并入（尚无检查点）',
  none: '无',
  qrHint: '扫描二维码，或访问上方地址，打开公开核验页面；也可使用 yizheng verify 离线核验证据包。',
  sealNote: '平台以 SM2 私钥对本报告内容（规范 JSON）签名；证据包中附报告内容与平台证书链，可离线验证。',
  page: (n, total) => `第 ${n} 页 / 共 ${total} 页`,
  bytes: (n) => `${n.toLocaleString('zh-CN')} 字节`,
};

const en: ReportLabels = {
  title: {
    signature: 'Signature Evidence Certificate',
    digest: 'Digest Evidence Certificate',
    file: 'File Evidence Certificate',
  },
  subtitle: 'Electronic Evidence Report',
  sections: {
    record: '1. Record',
    signer: '2. Signature and certificate',
    timestamp: '3. Trusted timestamp',
    hashes: '4. Hashes',
    checks: '5. Verification',
    log: '6. Evidence log (Merkle tree)',
    verify: '7. Verification link and platform seal',
  },
  fields: {
    recordId: 'Record ID',
    kind: 'Kind',
    project: 'Project',
    application: 'Application',
    serialNumber: 'Business serial',
    businessType: 'Business type',
    sourceSystem: 'Source system',
    department: 'Department',
    patientName: 'Patient name',
    patientId: 'Patient ID',
    visitNumber: 'Visit number',
    receivedAt: 'Recorded at',
    fileName: 'File name',
    fileSize: 'File size',
    contentType: 'Content type',
    digestCategory: 'Category',
    digestAlgorithm: 'Digest algorithm',
    digestValue: 'Digest value',
    signer: 'Signer',
    signatureFormat: 'Signature format',
    signedAt: 'Signing time',
    certSubject: 'Subject',
    certIssuer: 'Issuer',
    certSerial: 'Serial number',
    certValidity: 'Validity',
    certSm3: 'SM3 fingerprint',
    genTime: 'Time',
    tsa: 'Authority',
    tsSerial: 'Serial number',
    tsPolicy: 'Policy',
    tsHash: 'Imprint algorithm',
    reinforcement: 'Platform reinforcement timestamp',
    logIndex: 'Log index',
    treeSize: 'Tree size',
    rootHash: 'Root hash',
    inclusionProof: 'Inclusion proof',
    checkpoint: 'Signed checkpoint',
    verifyUrl: 'Verify at',
    sealAlgorithm: 'Seal algorithm',
    sealContent: 'Report content SM3',
    sealKey: 'Platform key ID',
    sealSignature: 'Platform signature',
    generatedAt: 'Generated at',
  },
  kinds: { signature: 'Signature data', digest: 'Digest data', file: 'Electronic file' },
  status: { pass: 'Pass', fail: 'Fail', skip: 'N/A' },
  overall: {
    valid: 'Valid: the evidence is intact and its signatures verify.',
    invalid: 'Not valid: at least one check failed, see the table.',
  },
  checkHeader: { name: 'Check', status: 'Result', detail: 'Detail' },
  checkNames: {
    'request-signature': 'Application request signature',
    signature: 'Signature value',
    'signed-content': 'Content matches signature',
    'certificate-validity': 'Certificate valid at signing time',
    'certificate-chain': 'Certificate chain',
    timestamp: 'Timestamp token',
    'timestamp-imprint': 'Timestamp bound to signature',
    'evidence-hash': 'Evidence hash',
    'stored-bytes': 'Stored bytes intact',
    'log-leaf': 'Log leaf matches',
    'log-inclusion': 'Log inclusion proof',
    checkpoint: 'Checkpoint signature',
    'digest-format': 'Digest format',
    file: 'File intact',
    record: 'Record matches its evidence hash',
    patient: 'Patient fields match their index',
    original: 'Original matches the record',
    certificates: 'Certificates match the record',
    log: 'Merkle log inclusion',
    reinforcement: 'Platform reinforcement timestamp (over the evidence hash)',
  },
  hashNames: {
    original: 'Original SM3',
    signature: 'Signature SM3',
    certificates: 'Certificates SM3',
    timestamp: 'Timestamp SM3',
    reinforcement: 'Reinforcement timestamp SM3',
    file: 'File SM3',
    digest: 'Digest value',
    evidence: 'Evidence hash (canonical record SM3)',
  },
  pending: 'pending integration (no checkpoint yet)',
  none: 'none',
  qrHint:
    'Scan the QR code or open the address above for the public verification page; `yizheng verify` checks the evidence package offline.',
  sealNote:
    "The platform signs this report's content (canonical JSON) with its SM2 key; the evidence package carries the content and the platform's certificate chain for offline verification.",
  page: (n, total) => `Page ${n} of ${total}`,
  bytes: (n) => `${n.toLocaleString('en-US')} bytes`,
};

export function reportLabels(locale: ReportLocale): ReportLabels {
  return locale === 'en-US' ? en : zh;
}
