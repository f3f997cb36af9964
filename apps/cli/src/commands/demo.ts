/**
 * `yizheng demo` — a first-time user sees the whole product in a minute. Creates a demo project and application
 * (the same services as `yizheng project create` / `app create`, on the data directory's database), a test PKI
 * (`@yizheng/pki/testing`: an SM2 root and doctors' leaf certificates with Chinese names), and pushes realistic
 * records through the signed API: SM2 CMS signature data with a timestamp of the platform TSA (`POST /tsa`, SM3)
 * over each signature value, digests, and a few files (multipart). Every receipt is checked against the
 * platform key. Then it prints where to look.
 *
 * Against a running server (`--url`, default http://127.0.0.1:8080) sharing the data directory, or with
 * `--in-process`, a server started here on the data directory (an ephemeral port) and stopped at the end. Each
 * run creates a new demo project (DEMO-<time>), so re-running never collides.
 */
import type { Command } from 'commander';
import { sm2, sm3, type Sm2PrivateKey, type Sm2PublicKey } from '@yizheng/gm';
import { canonicalJson, type CanonicalValue } from '@yizheng/evidence';
import {
  buildSignedData,
  buildTimeStampReq,
  gmSm2Provider,
  parseSignedData,
  parseTimeStampResp,
} from '@yizheng/pki';
import { TestPki, type TestCertificate } from '@yizheng/pki/testing';
import { applications, projects, SIGNATURE_USER_ID, startServer, stringToSign } from '@yizheng/server';
import { UsageError, type Io } from '../cli-error.js';
import { asUsageError, configFrom, dataDirOption, withServices } from './server.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const DOCTORS = [
  { CN: '张伟', OU: '心血管内科' },
  { CN: '王芳', OU: '呼吸内科' },
  { CN: '李娜', OU: '普通外科' },
  { CN: '刘洋', OU: '急诊科' },
  { CN: '陈静', OU: '儿科' },
] as const;
const PATIENTS = ['赵敏', '钱程', '孙丽', '周杰', '吴昊', '郑爽', '冯磊', '褚欣'] as const;
const BUSINESS = ['入院记录', '病程记录', '医嘱单', '检验报告', '出院小结', '手术记录'] as const;

interface DemoOptions {
  url?: string;
  inProcess?: boolean;
  dataDir?: string;
  records?: string;
}

export interface DemoResult {
  projectId: string;
  appId: string;
  signatures: number;
  digests: number;
  files: number;
  receiptsValid: number;
  firstRecordId: string;
}

interface ReceiptJson {
  id: string;
  signature: { value: string; userId: string };
  [k: string]: unknown;
}

function receiptValid(publicKey: Sm2PublicKey, receipt: ReceiptJson): boolean {
  const { signature, ...body } = receipt;
  try {
    return sm2.verify(
      publicKey,
      utf8(canonicalJson(body as unknown as CanonicalValue)),
      new Uint8Array(Buffer.from(signature.value, 'base64')),
      { id: signature.userId },
    );
  } catch {
    return false;
  }
}

class SignedClient {
  #nonce = 0;
  constructor(
    readonly base: string,
    readonly appId: string,
    readonly key: Sm2PrivateKey,
  ) {}

  async send(method: 'GET' | 'POST', url: string, body?: Uint8Array, type?: string): Promise<Response> {
    const timestamp = String(Date.now());
    const nonce = `demo-${process.pid}-${Date.now()}-${++this.#nonce}`;
    const bytes = body ?? new Uint8Array(0);
    const message = stringToSign({ method, url, timestamp, nonce, body: bytes });
    const signature = sm2.sign(this.key, message, { id: SIGNATURE_USER_ID });
    return fetch(this.base + url, {
      method,
      headers: {
        'x-yz-app': this.appId,
        'x-yz-timestamp': timestamp,
        'x-yz-nonce': nonce,
        'x-yz-signature': b64(signature),
        ...(type === undefined ? {} : { 'content-type': type }),
      },
      ...(body === undefined ? {} : { body: Buffer.from(body) }),
    });
  }

  async json(method: 'GET' | 'POST', url: string, value?: unknown): Promise<unknown> {
    const r = await this.send(
      method,
      url,
      value === undefined ? undefined : utf8(JSON.stringify(value)),
      value === undefined ? undefined : 'application/json',
    );
    const text = await r.text();
    if (r.status >= 300) throw new UsageError(`${method} ${url}: HTTP ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  }
}

function multipart(parts: { name: string; filename?: string; type: string; data: Uint8Array }[]): {
  body: Uint8Array;
  type: string;
} {
  const boundary = `yz-demo-${Date.now()}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const file = p.filename === undefined ? '' : `; filename="${p.filename}"`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${file}\r\nContent-Type: ${p.type}\r\n\r\n`,
      ),
      Buffer.from(p.data),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: new Uint8Array(Buffer.concat(chunks)), type: `multipart/form-data; boundary=${boundary}` };
}

/** An RFC 3161 token of the platform TSA (SM3 imprint) over `data`. */
async function platformTimestamp(base: string, data: Uint8Array): Promise<Uint8Array> {
  const req = buildTimeStampReq({
    data,
    hash: 'sm3',
    certReq: true,
    algorithmPolicy: { sm2: gmSm2Provider },
  });
  const r = await fetch(`${base}/tsa`, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: Buffer.from(req.der),
  });
  if (r.status !== 200) throw new UsageError(`POST /tsa: HTTP ${r.status}`);
  const resp = parseTimeStampResp(new Uint8Array(await r.arrayBuffer()));
  if (resp.token === undefined)
    throw new UsageError(`the platform TSA refused: ${[...resp.failInfo, ...resp.statusStrings].join('; ')}`);
  return resp.token;
}

function parseCount(v: string | undefined): number {
  if (v === undefined) return 300;
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 10_000)
    throw new UsageError('--records must be a whole number from 1 to 10000');
  return Number(v);
}

/** Runs the demo against `base` (a server on the same data directory). */
export async function runDemo(options: {
  base: string;
  dataDir: string | undefined;
  records: number;
  io: Io;
  now?: () => number;
}): Promise<DemoResult> {
  const { base, io, records } = options;
  const now = options.now ?? Date.now;
  const stamp = new Date(now()).toISOString().replace(/\D/g, '').slice(0, 17);
  const { project, created } = await withServices({ dataDir: options.dataDir }, async (ctx) => {
    const p = await projects.createProject({ ctx, number: `DEMO-${stamp}`, name: `医证演示项目 ${stamp}` });
    const a = await applications.createApplication({
      ctx,
      project: p.id,
      name: '演示电子病历系统',
      vendor: '医证演示',
      defaultTags: ['演示'],
    });
    return { project: p, created: a };
  });
  io.out(`demo project ${project.number} (${project.id}), application ${created.application.id}\n`);
  const client = new SignedClient(base, created.application.id, sm2.importPrivateKey(created.privateKeyPem!));

  // The test PKI: an SM2 root and one leaf per doctor.
  const pki = new TestPki({ seed: `yizheng-demo-${stamp}`, kind: 'sm2', now: new Date(now() - 86_400_000) });
  const root = pki.root({ subject: { C: 'CN', O: '医证演示医院', CN: '医证演示根证书' } });
  const doctors: TestCertificate[] = DOCTORS.map((d) =>
    root.leaf({ subject: { C: 'CN', O: '医证演示医院', OU: d.OU, CN: d.CN } }),
  );

  const receipts: ReceiptJson[] = [];
  let signatures = 0;
  let digests = 0;
  let files = 0;
  const fileCount = Math.min(5, Math.max(1, Math.floor(records / 50)));
  for (let i = 0; i < records; i++) {
    const patient = PATIENTS[i % PATIENTS.length]!;
    const business = BUSINESS[i % BUSINESS.length]!;
    const doctorIndex = i % doctors.length;
    const doctor = doctors[doctorIndex]!;
    const dept = DOCTORS[doctorIndex]!.OU;
    const serialNumber = `DEMO-${stamp}-${String(i + 1).padStart(5, '0')}`;
    const common = {
      serialNumber,
      businessType: business,
      sourceSystem: 'EMR',
      department: { code: String(301 + doctorIndex).padStart(4, '0'), name: dept },
    };
    const original = utf8(
      `${business}：患者${patient}，就诊号 V-${10000 + i}，${dept}，记录医生${DOCTORS[doctorIndex]!.CN}。`,
    );
    if (i < fileCount) {
      const content = utf8(`%PDF-1.4\n% 医证演示 ${business} ${serialNumber}\n`.repeat(20));
      const meta = { ...common, patient: { id: `P${100000 + i}`, name: patient } };
      const m = multipart([
        { name: 'meta', type: 'application/json', data: utf8(JSON.stringify(meta)) },
        { name: 'file', filename: `${business}-${i + 1}.pdf`, type: 'application/pdf', data: content },
      ]);
      const r = await client.send('POST', '/api/v1/files', m.body, m.type);
      const text = await r.text();
      if (r.status !== 201)
        throw new UsageError(`POST /api/v1/files: HTTP ${r.status} ${text.slice(0, 300)}`);
      receipts.push(JSON.parse(text) as ReceiptJson);
      files++;
    } else if (i % 4 === 3) {
      receipts.push(
        (await client.json('POST', '/api/v1/digests', {
          ...common,
          category: '检验数据',
          algorithm: 'sm3',
          value: hex(sm3(original)),
        })) as ReceiptJson,
      );
      digests++;
    } else {
      const cms = buildSignedData({
        content: original,
        detached: true,
        signers: [{ signer: doctor.signer, certificate: doctor.cert }],
      });
      const token = await platformTimestamp(base, parseSignedData(cms).signers[0]!.signature);
      receipts.push(
        (await client.json('POST', '/api/v1/signatures', {
          ...common,
          patient: { id: `P${100000 + i}`, name: patient, visitNumber: `V-${10000 + i}` },
          signer: DOCTORS[doctorIndex]!.CN,
          signature: { format: 'cms', value: b64(cms) },
          original: b64(original),
          timestampToken: b64(token),
        })) as ReceiptJson,
      );
      signatures++;
    }
  }
  const key = (await client.json('GET', '/api/v1/receipts/key')) as { publicKeyPem: string };
  const publicKey = sm2.importPublicKey(key.publicKeyPem);
  const receiptsValid = receipts.filter((r) => receiptValid(publicKey, r)).length;
  const shown = receipts[files] ?? receipts[0]!;
  const first = shown.id;
  const path = `${base}/api/v1/${String(shown.kind)}s/${first}`;
  io.out(
    `pushed ${signatures} signatures (SM2 CMS + platform TSA timestamp), ${digests} digests, ${files} files; ` +
      `${receiptsValid}/${receipts.length} receipts verify with the platform key\n\n`,
  );
  io.out(`where to look:\n`);
  io.out(`  console:          ${base}/console/  (project ${project.number})\n`);
  io.out(`  evidence report:  GET ${path}/report  (signed API)\n`);
  io.out(`  evidence package: GET ${path}/package, then\n`);
  io.out(
    `                    curl -o root.pem ${base}/ca/root.pem && yizheng verify PACKAGE.zip --root root.pem\n`,
  );
  io.out(`  API docs:         ${base}/api/docs\n`);
  return {
    projectId: project.id,
    appId: created.application.id,
    signatures,
    digests,
    files,
    receiptsValid,
    firstRecordId: first,
  };
}

export function registerDemo(program: Command, io: Io): void {
  program
    .command('demo')
    .description(
      'create a demo project, application and test PKI and push a few hundred signed records (SM2 CMS with ' +
        'timestamps, digests, files) through the signed API; prints where to look',
    )
    .option('--url <url>', 'a running server sharing the data directory (default http://127.0.0.1:8080)')
    .option('--in-process', 'start a server here on the data directory instead (stopped at the end)')
    .option('--records <n>', 'how many records to push (default 300)')
    .option(...dataDirOption)
    .action(async (o: DemoOptions) => {
      const records = parseCount(o.records);
      if (o.inProcess && o.url !== undefined)
        throw new UsageError('--url and --in-process exclude each other');
      if (!o.inProcess) {
        const base = (o.url ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
        const up = await fetch(`${base}/healthz`).then(
          (r) => r.status < 500,
          () => false,
        );
        if (!up)
          throw new UsageError(
            `no Yizheng server answers at ${base}: start one (npm start / yizheng start) or use --in-process`,
          );
        await runDemo({ base, dataDir: o.dataDir, records, io });
        return;
      }
      let app: Awaited<ReturnType<typeof startServer>>;
      try {
        app = await startServer(
          { ...configFrom({ dataDir: o.dataDir }), host: '127.0.0.1', port: 0 },
          { signals: false, logger: false },
        );
      } catch (e) {
        throw asUsageError(e);
      }
      try {
        const address = app.server.address();
        const port = typeof address === 'object' && address !== null ? address.port : 0;
        await runDemo({ base: `http://127.0.0.1:${port}`, dataDir: o.dataDir, records, io });
        io.out('(the in-process server is stopped now: run `yizheng start` to look around)\n');
      } finally {
        await app.close();
      }
    });
}
