import type { Command } from 'commander';
import {
  PkiError,
  buildSignedData,
  gmSm2Provider,
  signerFromPrivateKey,
  toPem,
  verifySignedData,
  type Signer,
} from '@yizheng/pki';
import { EXIT, UsageError, type Io } from '../cli-error.js';
import { readInput, writeOutput } from '../files.js';
import { collect, failureLines, parseAt, readCertificateFiles, readCertificates } from './pki-input.js';

const POLICY = { sm2: gmSm2Provider } as const;

/** Reads a private key file (PEM or DER) into a Signer; an unreadable key is an input error (exit 2). */
export async function readSigner(io: Io, path: string, sm2Id: string | undefined): Promise<Signer> {
  const raw = await readInput(io, path, 'private key');
  try {
    return signerFromPrivateKey(raw, sm2Id === undefined ? {} : { sm2Id });
  } catch (e) {
    if (e instanceof PkiError) throw new UsageError(`private key ${path}: ${e.code}: ${e.message}`);
    throw e;
  }
}

export function registerCms(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program.command('cms').description('CMS SignedData (RFC 5652; SM2 per GM/T 0010), PKCS#7 .p7s');

  cmd
    .command('verify')
    .description(
      'verify every signer of a SignedData: prints "valid" and the signers (exit 0) or "invalid: <CODE>: <reason>" (exit 1)',
    )
    .requiredOption('--in <file>', 'SignedData (DER, BER or PEM), - for stdin')
    .option('--content <file>', 'the signed content, for a detached signature')
    .option('--ca <file>', 'trust anchor: validate each signer certificate path (repeatable)', collect)
    .option(
      '--certs <file>',
      'signer or intermediate certificates not included in the message (repeatable)',
      collect,
    )
    .option(
      '--at <iso8601>',
      'validation time for the certificate paths (default: each signingTime, else now)',
    )
    .option('--out <file>', 'write the encapsulated content here')
    .option('--sm2-id <id>', 'SM2 signer ID', '1234567812345678')
    .action(
      async (o: {
        in: string;
        content?: string;
        ca?: string[];
        certs?: string[];
        at?: string;
        out?: string;
        sm2Id: string;
      }) => {
        const at = parseAt(o.at);
        const cms = await readInput(io, o.in, 'SignedData');
        const content = o.content === undefined ? undefined : await readInput(io, o.content, 'content');
        const anchors = o.ca ? await readCertificateFiles(io, o.ca, 'trust anchor') : undefined;
        const certificates = await readCertificateFiles(io, o.certs, 'certificate');
        const base = {
          policy: { ...POLICY, sm2Id: o.sm2Id },
          certificates,
          ...(content === undefined ? {} : { content }),
          ...(anchors === undefined ? {} : { trustAnchors: anchors }),
        };
        const result = verifySignedData(cms, at === undefined ? base : { ...base, at });
        let failures = result.failures;
        if (anchors !== undefined && at === undefined && result.signers.some((s) => !s.signingTime)) {
          // Without --at a path is validated at the signer's signingTime; signers without one: now.
          const now = verifySignedData(cms, { ...base, at: new Date() });
          failures = [
            ...result.failures.filter((f) => f.signerIndex === undefined),
            ...result.signers.flatMap((s, i) =>
              s.signingTime === undefined ? (now.signers[i]?.failures ?? []) : s.failures,
            ),
          ];
        }
        if (failures.length > 0) {
          io.out(failureLines(failures));
          setExit(EXIT.INVALID);
          return;
        }
        io.out('valid\n');
        for (const s of result.signers) {
          const when = s.signingTime === undefined ? '' : `, signed ${s.signingTime.toISOString()}`;
          io.out(`  signer ${s.index}: ${s.certificate?.subject ?? '(unknown)'}${when}\n`);
        }
        if (anchors === undefined)
          io.err('note: no --ca given: signatures checked, certificate paths not validated\n');
        if (o.out !== undefined && result.content !== undefined) await writeOutput(o.out, result.content);
      },
    );

  cmd
    .command('sign')
    .description(
      'sign a file into a CMS SignedData (.p7s): SM3withSM2, RSA PKCS#1 v1.5 or ECDSA, from the key',
    )
    .requiredOption('--key <file>', 'private key (PKCS#8, PKCS#1 or SEC1; PEM or DER; unencrypted)')
    .requiredOption('--cert <file>', 'the signer certificate matching the key (DER or PEM)')
    .requiredOption('--in <file>', 'content to sign, - for stdin')
    .requiredOption('--out <file>', 'SignedData output')
    .option('--detached', 'leave the content out of the SignedData')
    .option('--certs <file>', 'more certificates to include, e.g. the intermediates (repeatable)', collect)
    .option('--no-attrs', 'sign the content itself, without signed attributes')
    .option(
      '--oids <rfc5652|gmt0010>',
      'content type OIDs (GM/T 0010 uses 1.2.156.10197.6.1.4.2.x)',
      'rfc5652',
    )
    .option('--sm2-id <id>', 'SM2 signer ID', '1234567812345678')
    .option('--pem', 'write PEM ("CMS") instead of DER')
    .action(
      async (o: {
        key: string;
        cert: string;
        in: string;
        out: string;
        detached?: boolean;
        certs?: string[];
        attrs: boolean;
        oids: string;
        sm2Id: string;
        pem?: boolean;
      }) => {
        if (o.oids !== 'rfc5652' && o.oids !== 'gmt0010')
          throw new UsageError('--oids must be rfc5652 or gmt0010');
        const signer = await readSigner(io, o.key, o.sm2Id);
        const [certificate] = await readCertificates(io, o.cert, 'signer certificate');
        if (certificate === undefined) throw new UsageError(`no certificate in ${o.cert}`);
        if (!Buffer.from(certificate.spki).equals(Buffer.from(signer.publicKeyInfo)))
          throw new UsageError(`the key ${o.key} does not belong to the certificate ${o.cert}`);
        const extra = await readCertificateFiles(io, o.certs, 'certificate');
        const content = await readInput(io, o.in, 'input');
        let cms: Uint8Array;
        try {
          cms = buildSignedData({
            content,
            detached: o.detached === true,
            signers: [{ signer, certificate, signedAttributes: o.attrs }],
            certificates: extra.map((c) => c.der),
            oids: o.oids,
          });
        } catch (e) {
          if (e instanceof PkiError) throw new UsageError(`${e.code}: ${e.message}`);
          throw e;
        }
        await writeOutput(o.out, o.pem === true ? toPem(cms, 'CMS') : cms);
        io.err(`wrote ${o.out}\n`);
      },
    );
}
