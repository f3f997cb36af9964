import type { ReportLocale, ReportView } from './view-model.js';

/**
 * A realistic, fully populated report view (an SM2 CMS signature on an inpatient record with a timestamp and a
 * 20-hash inclusion proof): used by the renderer's tests, `npm run bench:report` and `yizheng demo` previews.
 */
export function sampleReportView(locale: ReportLocale = 'zh-CN'): ReportView {
  const hex = (seed: number): string =>
    Array.from({ length: 32 }, (_, i) => ((seed * 131 + i * 37) & 0xff).toString(16).padStart(2, '0')).join(
      '',
    );
  return {
    version: 1,
    locale,
    unitName: '示例市第一人民医院',
    recordId: 'sig_01JDZK8Q5V6M3T9XH2R7C4N1WE',
    kind: 'signature',
    project: { id: 'prj_emr', name: '电子病历存证' },
    application: { id: 'app_his01', name: '住院医生工作站（HIS）' },
    serialNumber: 'ZY20261201-000123',
    businessType: '住院病历首页签名',
    sourceSystem: 'EMR',
    department: '0301 心血管内科',
    patient: { name: '张*', id: '110***********4518', visitNumber: 'V2026120100031' },
    signer: '李医生（主治医师）',
    signatureFormat: 'CMS SignedData（SM2，分离式）',
    signedAt: '2026-12-01T02:15:30.123Z',
    receivedAt: '2026-12-01T02:15:31.456Z',
    certificate: {
      subject: 'CN=李医生, OU=心血管内科, O=示例市第一人民医院, C=CN',
      issuer: 'CN=示例医疗 CA SM2, O=示例数字证书认证中心, C=CN',
      serialNumber: '5f3a9c01d2e4b6a8',
      notBefore: '2025-06-01T00:00:00.000Z',
      notAfter: '2027-06-01T00:00:00.000Z',
      sm3: hex(1),
    },
    timestamp: {
      genTime: '2026-12-01T02:15:30.500Z',
      tsa: 'CN=医证时间戳服务 SM2, O=示例市第一人民医院, C=CN',
      serialNumber: '1024',
      policy: '1.2.156.112562.2.1.1',
      hashAlgorithm: 'SM3',
    },
    hashes: [
      { name: 'original', algorithm: 'SM3', value: hex(2) },
      { name: 'signature', algorithm: 'SM3', value: hex(3) },
      { name: 'certificates', algorithm: 'SM3', value: hex(4) },
      { name: 'timestamp', algorithm: 'SM3', value: hex(5) },
      { name: 'evidence', algorithm: 'SM3', value: hex(6) },
    ],
    checks: [
      { name: 'request-signature', status: 'pass' },
      { name: 'signature', status: 'pass', detail: 'SM3withSM2' },
      { name: 'signed-content', status: 'pass' },
      { name: 'certificate-validity', status: 'pass' },
      {
        name: 'certificate-chain',
        status: 'skip',
        detail: locale === 'zh-CN' ? '未配置信任根' : 'no trust store configured',
      },
      { name: 'timestamp', status: 'pass', detail: 'RFC 3161, SM2' },
      { name: 'evidence-hash', status: 'pass' },
      { name: 'log-inclusion', status: 'pass' },
    ],
    valid: true,
    log: {
      index: 1_048_575,
      treeSize: 1_048_600,
      rootHash: hex(7),
      inclusionProof: Array.from({ length: 20 }, (_, i) => hex(100 + i)),
      checkpoint: `yizheng.example/log\n1048600\n${Buffer.from(hex(7), 'hex').toString('base64')}\n\n— yizheng.example/log AbCd1234${Buffer.from(hex(8) + hex(9), 'hex').toString('base64')}\n`,
    },
    verifyUrl: 'http://yizheng.hospital.example:8080/verify/sig_01JDZK8Q5V6M3T9XH2R7C4N1WE',
    generatedAt: '2026-12-01T03:00:00.000Z',
  };
}
