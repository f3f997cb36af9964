import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import {
  PkiError,
  buildTimeStampReq,
  gmSm2Provider,
  parseTimeStampReq,
  parseTimeStampResp,
  replyTimeStamp,
  verifyTimeStampToken,
  type ParsedTimeStampReq,
  type TspHash,
} from '@yizheng/pki';
import { EXIT, UsageError, type Io } from '../cli-error.js';
import { parseHexOption, readInput, writeOutput } from '../files.js';
import { readSigner } from './cms.js';
import { collect, failureLines, parseAt, readCertificateFiles, readCertificates } from './pki-input.js';

const POLICY = { sm2: gmSm2Provider } as const;
const HASHES: readonly TspHash[] = ['sm3', 'sha256', 'sha384', 'sha512'];
const OID_RE = /^[0-2](\.\d+)+$/;

function hashOption(v: string): TspHash {
  const h = HASHES.find((x) => x === v);
  if (h === undefined) throw new UsageError(`--hash must be one of ${HASHES.join(', ')}`);
  return h;
}

function oidOption(v: string | undefined, what: string): string | undefined {
  if (v !== undefined && !OID_RE.test(v)) throw new UsageError(`${what} must be an OID, e.g. 1.2.156.112.1`);
  return v;
}

async function readRequest(io: Io, path: string): Promise<{ der: Uint8Array; req: ParsedTimeStampReq }> {
  const der = await readInput(io, path, 'TimeStampReq');
  try {
    return { der, req: parseTimeStampReq(der) };
  } catch (e) {
    if (e instanceof PkiError) throw new UsageError(`TimeStampReq ${path}: ${e.code}: ${e.message}`);
    throw e;
  }
}

export function registerTs(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program
    .command('ts')
    .description('RFC 3161 timestamps (GB/T 20520): query, reply offline, verify');

  cmd
    .command('query')
    .description('make a TimeStampReq for a file (as `openssl ts -query` does)')
    .requiredOption('--data <file>', 'the data to timestamp, - for stdin')
    .requiredOption('--out <file>', 'TimeStampReq output (DER, .tsq)')
    .option('--hash <alg>', `imprint hash: ${HASHES.join(', ')}`, 'sha256')
    .option('--policy <oid>', 'ask for this TSA policy')
    .option('--no-nonce', 'leave the random 64-bit nonce out')
    .option('--no-cert', 'do not ask the TSA to include its certificate')
    .action(
      async (o: {
        data: string;
        out: string;
        hash: string;
        policy?: string;
        nonce: boolean;
        cert: boolean;
      }) => {
        const hash = hashOption(o.hash);
        const policy = oidOption(o.policy, '--policy');
        const data = await readInput(io, o.data, 'data');
        const built = buildTimeStampReq({
          data,
          hash,
          certReq: o.cert,
          algorithmPolicy: POLICY,
          ...(o.nonce ? { nonce: true as const } : {}),
          ...(policy === undefined ? {} : { policy }),
        });
        await writeOutput(o.out, built.der);
        io.out(`imprint: ${hash} ${Buffer.from(built.hashedMessage).toString('hex')}\n`);
        if (built.nonce !== undefined) io.out(`nonce: ${built.nonce.toString(16)}\n`);
      },
    );

  cmd
    .command('reply')
    .description(
      'answer a TimeStampReq offline with a TSA key and certificate (a rejection is still written)',
    )
    .requiredOption('--query <file>', 'TimeStampReq (DER or PEM), - for stdin')
    .requiredOption('--key <file>', 'TSA private key (PEM or DER)')
    .requiredOption('--cert <file>', 'TSA certificate (critical extendedKeyUsage timeStamping)')
    .requiredOption('--out <file>', 'TimeStampResp output (DER, .tsr)')
    .option('--policy <oid>', 'the TSA policy', '1.2.156.112.1')
    .option('--chain <file>', 'intermediate certificates to include when asked for (repeatable)', collect)
    .option('--serial <n>', 'serial number (decimal or 0x hex; default: random 64 bits)')
    .option('--time <iso8601>', 'genTime (default: now)')
    .option('--accuracy <seconds>', 'accuracy in seconds', '1')
    .action(
      async (o: {
        query: string;
        key: string;
        cert: string;
        out: string;
        policy: string;
        chain?: string[];
        serial?: string;
        time?: string;
        accuracy: string;
      }) => {
        const policy = oidOption(o.policy, '--policy') ?? o.policy;
        if (o.serial !== undefined && !/^(\d+|0x[0-9a-fA-F]+)$/.test(o.serial))
          throw new UsageError('--serial must be a non-negative integer (decimal or 0x hex)');
        if (!/^\d+$/.test(o.accuracy)) throw new UsageError('--accuracy must be whole seconds');
        const serialNumber =
          o.serial === undefined ? BigInt(`0x${randomBytes(8).toString('hex')}`) >> 1n : BigInt(o.serial);
        const genTime = parseAt(o.time) ?? new Date();
        const { der } = await readRequest(io, o.query);
        const signer = await readSigner(io, o.key, undefined);
        const [certificate] = await readCertificates(io, o.cert, 'TSA certificate');
        if (certificate === undefined) throw new UsageError(`no certificate in ${o.cert}`);
        if (!Buffer.from(certificate.spki).equals(Buffer.from(signer.publicKeyInfo)))
          throw new UsageError(`the key ${o.key} does not belong to the certificate ${o.cert}`);
        const chain = await readCertificateFiles(io, o.chain, 'chain certificate');
        let resp: Uint8Array;
        try {
          resp = replyTimeStamp({
            request: der,
            tsa: { signer, certificate, chain },
            serialNumber,
            genTime,
            policy,
            accuracy: { seconds: Number(o.accuracy) },
          });
        } catch (e) {
          if (e instanceof PkiError) throw new UsageError(`${e.code}: ${e.message}`);
          throw e;
        }
        await writeOutput(o.out, resp);
        const status = parseTimeStampResp(resp);
        io.out(
          `status: ${status.statusName ?? status.status}${status.failInfo.length > 0 ? ` (${status.failInfo.join(', ')})` : ''}\n`,
        );
        if (status.token !== undefined)
          io.out(`serial: ${serialNumber.toString(16)}\ngenTime: ${genTime.toISOString()}\n`);
      },
    );

  cmd
    .command('verify')
    .description(
      'verify a timestamp (TimeStampResp or bare token) over a file: "valid" (exit 0) or "invalid: <CODE>: <reason>" (exit 1)',
    )
    .requiredOption('--in <file>', 'TimeStampResp or TimeStampToken (DER or PEM), - for stdin')
    .option('--data <file>', 'the data that was timestamped')
    .option('--digest <hex>', 'its digest, under the token’s imprint algorithm (instead of --data)')
    .option('--ca <file>', 'trust anchor: validate the TSA certificate path at genTime (repeatable)', collect)
    .option(
      '--untrusted <file>',
      'intermediates, or the TSA certificate when the token lacks it (repeatable)',
      collect,
    )
    .option('--query <file>', 'the TimeStampReq sent: the nonce and policy must match')
    .action(
      async (o: {
        in: string;
        data?: string;
        digest?: string;
        ca?: string[];
        untrusted?: string[];
        query?: string;
      }) => {
        if ((o.data === undefined) === (o.digest === undefined))
          throw new UsageError('give exactly one of --data and --digest');
        const token = await readInput(io, o.in, 'timestamp');
        const data = o.data === undefined ? undefined : await readInput(io, o.data, 'data');
        const digest = o.digest === undefined ? undefined : parseHexOption(o.digest, '--digest');
        const anchors = o.ca ? await readCertificateFiles(io, o.ca, 'trust anchor') : undefined;
        const intermediates = await readCertificateFiles(io, o.untrusted, 'certificate');
        const query = o.query === undefined ? undefined : (await readRequest(io, o.query)).req;
        const r = verifyTimeStampToken({
          token,
          policy: POLICY,
          intermediates,
          ...(data === undefined ? {} : { data }),
          ...(digest === undefined ? {} : { digest }),
          ...(anchors === undefined ? {} : { trustAnchors: anchors }),
          ...(query?.nonce === undefined ? {} : { nonce: query.nonce }),
          ...(query?.policy === undefined ? {} : { requestPolicy: query.policy }),
        });
        if (!r.valid) {
          io.out(failureLines(r.failures));
          setExit(EXIT.INVALID);
          return;
        }
        io.out('valid\n');
        if (r.genTime) io.out(`  genTime: ${r.genTime.toISOString()}\n`);
        if (r.serialNumber !== undefined) io.out(`  serial: ${r.serialNumber.toString(16)}\n`);
        if (r.policy !== undefined) io.out(`  policy: ${r.policy}\n`);
        if (r.tsaCertificate) io.out(`  TSA: ${r.tsaCertificate.subject}\n`);
        if (anchors === undefined)
          io.err('note: no --ca given: the TSA certificate path was not validated\n');
      },
    );
}
