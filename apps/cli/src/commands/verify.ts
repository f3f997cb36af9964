/**
 * `yizheng verify PACKAGE.zip [--root ROOT.pem] [--lang zh-CN|en-US] [--json]`: checks an evidence package
 * offline (`@yizheng/evidence`), with no server: every part's SM3, the signature and signer path, every RFC 3161
 * token, the log proof and signed checkpoint, the platform chain and seals. Exit 0 valid, 1 invalid (each failed
 * check named on stdout, in Chinese or English, and by its stable name in --json), 2 unreadable input or usage error.
 */
import type { Command } from 'commander';
import { checkLabel, isEvidenceError, verifyEvidencePackage, type PackageCheck } from '@yizheng/evidence';
import { PkiError } from '@yizheng/pki';
import { EXIT, UsageError, type Io } from '../cli-error.js';
import { readInput, readKeyFile } from '../files.js';

type Lang = 'zh-CN' | 'en-US';

const WORDS = {
  'zh-CN': {
    title: '证据包核验',
    record: '数据编号',
    valid: '结论：证据包完整有效。',
    invalid: '结论：证据包未通过核验。未通过的部分：',
    unpinned: '提示：未指定 --root，平台证书链仅做了自洽检查，未锚定到可信根证书。',
    status: { pass: '通过', fail: '未通过', skip: '跳过' },
  },
  'en-US': {
    title: 'Evidence package verification',
    record: 'Record',
    valid: 'Result: the package is intact and valid.',
    invalid: 'Result: the package is NOT valid. Failed parts:',
    unpinned: 'Note: no --root given: the platform chain is consistent but not pinned to a trusted root.',
    status: { pass: 'pass', fail: 'FAIL', skip: 'skip' },
  },
} as const;

function line(c: PackageCheck, lang: Lang): string {
  const mark = c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '–';
  return `  ${mark} ${WORDS[lang].status[c.status].padEnd(4)}  ${c.part} · ${checkLabel(c.check, lang)} [${c.check}] ${c.detail}\n`;
}

export function registerVerify(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('verify')
    .description('verify an evidence package (zip) offline: exit 0 valid, 1 invalid, 2 unreadable')
    .argument('<package>', 'the evidence package (.zip), - for stdin')
    .option('--root <file>', "the platform's root certificate (PEM or DER) to pin trust to")
    .option('--lang <lang>', 'zh-CN or en-US', 'zh-CN')
    .option('--json', 'print the machine-readable result')
    .action(async (path: string, o: { root?: string; lang: string; json?: boolean }) => {
      if (o.lang !== 'zh-CN' && o.lang !== 'en-US') throw new UsageError('--lang must be zh-CN or en-US');
      const lang: Lang = o.lang;
      const zip = await readInput(io, path, 'evidence package');
      const root = o.root === undefined ? undefined : await readKeyFile(io, o.root, 'root certificate');
      let result;
      try {
        result = verifyEvidencePackage(zip, root === undefined ? {} : { root });
      } catch (e) {
        if (isEvidenceError(e)) throw new UsageError(`${path}: ${e.code}: ${e.message}`);
        if (e instanceof PkiError)
          throw new UsageError(`root certificate ${o.root ?? ''}: ${e.code}: ${e.message}`);
        throw e;
      }
      if (o.json === true) io.out(`${JSON.stringify(result, null, 2)}\n`);
      else {
        const w = WORDS[lang];
        io.out(`${w.title}: ${path}\n${w.record}: ${result.recordId ?? '?'} (${result.kind ?? '?'})\n`);
        for (const c of result.checks) io.out(line(c, lang));
        io.out(result.valid ? `${w.valid}\n` : `${w.invalid} ${result.failedParts.join(', ')}\n`);
        if (!result.rootPinned) io.out(`${w.unpinned}\n`);
      }
      setExit(result.valid ? EXIT.OK : EXIT.INVALID);
    });
}
