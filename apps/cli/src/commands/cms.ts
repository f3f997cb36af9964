import type { Command } from 'commander';
import { gmSm2Provider, verifySignedData } from '@yizheng/pki';
import { EXIT, type Io } from '../cli-error.js';
import { readInput, writeOutput } from '../files.js';
import { collect, failureLines, parseAt, readCertificateFiles } from './pki-input.js';

const POLICY = { sm2: gmSm2Provider } as const;

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
    .action(
      async (o: {
        in: string;
        content?: string;
        ca?: string[];
        certs?: string[];
        at?: string;
        out?: string;
      }) => {
        const at = parseAt(o.at);
        const cms = await readInput(io, o.in, 'SignedData');
        const content = o.content === undefined ? undefined : await readInput(io, o.content, 'content');
        const anchors = o.ca ? await readCertificateFiles(io, o.ca, 'trust anchor') : undefined;
        const certificates = await readCertificateFiles(io, o.certs, 'certificate');
        const base = {
          policy: POLICY,
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
}
