import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string): string => join(dir, name);
const openssl = (...args: string[]): string => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8' });

function cli(...argv: string[]): Promise<CliResult> {
  return runCli(argv, () => new TextEncoder().encode('abc'));
}

writeFileSync(p('msg.txt'), '知情同意书 consent form\n');
writeFileSync(p('abc.txt'), 'abc');

describe('yizheng sm3', () => {
  it('hashes a file and stdin (GB/T 32905 example "abc")', async () => {
    const want = '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0\n';
    expect(await cli('sm3', p('abc.txt'))).toMatchObject({ code: 0, out: want });
    expect(await cli('sm3', '-')).toMatchObject({ code: 0, out: want });
  });

  it('computes HMAC-SM3 identical to openssl', async () => {
    const key = '000102030405060708090a0b0c0d0e0f';
    const r = await cli('sm3', '--hmac-key', key, p('msg.txt'));
    const ref = openssl('mac', '-digest', 'SM3', '-macopt', `hexkey:${key}`, '-in', p('msg.txt'), 'HMAC')
      .trim()
      .toLowerCase();
    expect(r.out.trim()).toBe(ref);
  });

  it('exit 2 on a missing file or a bad key', async () => {
    expect((await cli('sm3', p('nope'))).code).toBe(2);
    expect((await cli('sm3', '--hmac-key', 'xyz', p('abc.txt'))).code).toBe(2);
  });
});

describe('yizheng sm2', () => {
  it('keygen writes keys openssl reads; sign → openssl verifies; openssl sign → verify', async () => {
    expect((await cli('sm2', 'keygen', '--out', p('k.pem'), '--pubout', p('pub.pem'))).code).toBe(0);
    expect(openssl('pkey', '-in', p('k.pem'), '-pubout')).toBe(readFileSync(p('pub.pem'), 'utf8'));

    expect(
      (await cli('sm2', 'sign', '--key', p('k.pem'), '--in', p('msg.txt'), '--out', p('s.der'))).code,
    ).toBe(0);
    const v = spawnSync(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-rawin',
        '-digest',
        'sm3',
        '-pkeyopt',
        'distid:1234567812345678',
        '-pubin',
        '-inkey',
        p('pub.pem'),
        '-in',
        p('msg.txt'),
        '-sigfile',
        p('s.der'),
      ],
      { encoding: 'utf8' },
    );
    expect(v.stdout).toContain('Signature Verified Successfully');

    openssl(
      'pkeyutl',
      '-sign',
      '-rawin',
      '-digest',
      'sm3',
      '-pkeyopt',
      'distid:doctor-9',
      '-inkey',
      p('k.pem'),
      '-in',
      p('msg.txt'),
      '-out',
      p('o.der'),
    );
    expect(
      await cli(
        'sm2',
        'verify',
        '--pubkey',
        p('pub.pem'),
        '--in',
        p('msg.txt'),
        '--sig',
        p('o.der'),
        '--id',
        'doctor-9',
      ),
    ).toMatchObject({ code: 0, out: 'valid\n' });
    const wrong = await cli(
      'sm2',
      'verify',
      '--pubkey',
      p('pub.pem'),
      '--in',
      p('msg.txt'),
      '--sig',
      p('o.der'),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/^invalid: /);
  });

  it('keys from `openssl genpkey -algorithm SM2` work; raw signatures; malformed signature → exit 1', async () => {
    openssl('genpkey', '-algorithm', 'SM2', '-out', p('ok.pem'));
    openssl('pkey', '-in', p('ok.pem'), '-pubout', '-out', p('opub.pem'));
    expect(
      (
        await cli(
          'sm2',
          'sign',
          '--key',
          p('ok.pem'),
          '--in',
          p('msg.txt'),
          '--out',
          p('raw.sig'),
          '--format',
          'raw',
        )
      ).code,
    ).toBe(0);
    expect(readFileSync(p('raw.sig')).length).toBe(64);
    expect(
      (
        await cli(
          'sm2',
          'verify',
          '--pubkey',
          p('opub.pem'),
          '--in',
          p('msg.txt'),
          '--sig',
          p('raw.sig'),
          '--format',
          'raw',
        )
      ).code,
    ).toBe(0);
    writeFileSync(p('junk.sig'), 'not a signature');
    const r = await cli(
      'sm2',
      'verify',
      '--pubkey',
      p('opub.pem'),
      '--in',
      p('msg.txt'),
      '--sig',
      p('junk.sig'),
    );
    expect(r).toMatchObject({ code: 1 });
    expect(r.out).toContain('GM_INVALID_SIGNATURE_ENCODING');
  });

  it('exit 2 for usage errors, unreadable files and unusable keys', async () => {
    expect((await cli('sm2', 'verify', '--in', p('msg.txt'))).code).toBe(2);
    expect(
      (await cli('sm2', 'sign', '--key', p('missing.pem'), '--in', p('msg.txt'), '--out', p('x'))).code,
    ).toBe(2);
    expect(
      (await cli('sm2', 'sign', '--key', p('msg.txt'), '--in', p('msg.txt'), '--out', p('x'))).code,
    ).toBe(2);
    expect(
      (
        await cli(
          'sm2',
          'sign',
          '--key',
          p('k.pem'),
          '--in',
          p('msg.txt'),
          '--out',
          p('x'),
          '--format',
          'pem',
        )
      ).code,
    ).toBe(2);
    expect((await cli('sm2', 'frobnicate')).code).toBe(2);
  });

  it('encrypts for openssl and decrypts openssl ciphertexts (asn1); c1c3c2 round trip; tamper → exit 1', async () => {
    openssl('pkeyutl', '-encrypt', '-pubin', '-inkey', p('pub.pem'), '-in', p('msg.txt'), '-out', p('o.ct'));
    expect(
      (
        await cli(
          'sm2',
          'decrypt',
          '--key',
          p('k.pem'),
          '--in',
          p('o.ct'),
          '--out',
          p('o.pt'),
          '--format',
          'asn1',
        )
      ).code,
    ).toBe(0);
    expect(readFileSync(p('o.pt'), 'utf8')).toBe(readFileSync(p('msg.txt'), 'utf8'));
    expect(
      (
        await cli(
          'sm2',
          'encrypt',
          '--pubkey',
          p('pub.pem'),
          '--in',
          p('msg.txt'),
          '--out',
          p('y.ct'),
          '--format',
          'asn1',
        )
      ).code,
    ).toBe(0);
    openssl('pkeyutl', '-decrypt', '-inkey', p('k.pem'), '-in', p('y.ct'), '-out', p('y.pt'));
    expect(readFileSync(p('y.pt'), 'utf8')).toBe(readFileSync(p('msg.txt'), 'utf8'));
    expect(
      (await cli('sm2', 'encrypt', '--pubkey', p('pub.pem'), '--in', p('msg.txt'), '--out', p('z.ct'))).code,
    ).toBe(0);
    const ct = readFileSync(p('z.ct'));
    ct[ct.length - 1]! ^= 1;
    writeFileSync(p('z.ct'), ct);
    const r = await cli('sm2', 'decrypt', '--key', p('k.pem'), '--in', p('z.ct'), '--out', p('z.pt'));
    expect(r.code).toBe(1);
    expect(r.out).toContain('GM_DECRYPT_FAILED');
  });
});

describe('yizheng sm4', () => {
  const key = '0123456789abcdeffedcba9876543210';
  const iv = '000102030405060708090a0b0c0d0e0f';

  it.each(['cbc', 'ctr', 'ecb'])('%s matches `openssl enc` both ways', async (mode) => {
    const ivArgs = mode === 'ecb' ? [] : ['--iv', iv];
    expect(
      (
        await cli(
          'sm4',
          'encrypt',
          '--mode',
          mode,
          '--key',
          key,
          ...ivArgs,
          '--in',
          p('msg.txt'),
          '--out',
          p(`${mode}.ct`),
        )
      ).code,
    ).toBe(0);
    const oIv = mode === 'ecb' ? [] : ['-iv', iv];
    openssl('enc', '-d', `-sm4-${mode}`, '-K', key, ...oIv, '-in', p(`${mode}.ct`), '-out', p(`${mode}.pt`));
    expect(readFileSync(p(`${mode}.pt`), 'utf8')).toBe(readFileSync(p('msg.txt'), 'utf8'));
    openssl('enc', `-sm4-${mode}`, '-K', key, ...oIv, '-in', p('msg.txt'), '-out', p(`${mode}.o`));
    expect(
      (
        await cli(
          'sm4',
          'decrypt',
          '--mode',
          mode,
          '--key',
          key,
          ...ivArgs,
          '--in',
          p(`${mode}.o`),
          '--out',
          p(`${mode}.back`),
        )
      ).code,
    ).toBe(0);
    expect(readFileSync(p(`${mode}.back`), 'utf8')).toBe(readFileSync(p('msg.txt'), 'utf8'));
  });

  it('gcm seals and opens; a flipped byte → exit 1; bad key or missing iv → exit 2', async () => {
    expect(
      (await cli('sm4', 'encrypt', '--mode', 'gcm', '--key', key, '--in', p('msg.txt'), '--out', p('g.ct')))
        .code,
    ).toBe(0);
    expect(
      (await cli('sm4', 'decrypt', '--mode', 'gcm', '--key', key, '--in', p('g.ct'), '--out', p('g.pt')))
        .code,
    ).toBe(0);
    expect(readFileSync(p('g.pt'), 'utf8')).toBe(readFileSync(p('msg.txt'), 'utf8'));
    const ct = readFileSync(p('g.ct'));
    ct[ct.length - 5]! ^= 1;
    writeFileSync(p('g.ct'), ct);
    expect(
      (await cli('sm4', 'decrypt', '--mode', 'gcm', '--key', key, '--in', p('g.ct'), '--out', p('g2.pt')))
        .code,
    ).toBe(1);
    expect(
      (
        await cli(
          'sm4',
          'encrypt',
          '--mode',
          'cbc',
          '--key',
          'abcd',
          '--iv',
          iv,
          '--in',
          p('msg.txt'),
          '--out',
          p('q'),
        )
      ).code,
    ).toBe(2);
    expect(
      (await cli('sm4', 'encrypt', '--mode', 'cbc', '--key', key, '--in', p('msg.txt'), '--out', p('q')))
        .code,
    ).toBe(2);
  });
});

describe('yizheng engines / start', () => {
  it('reports the active engine and why', async () => {
    const r = await cli('engines');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/SM2 engine: (native|js)/);
    expect(r.out).toContain('chosen:');
  });

  it('start refuses a bad configuration with exit 2 and the code (the server itself: commands/server.test.ts)', async () => {
    const r = await cli('start', '--port', 'http');
    expect(r.code).toBe(2);
    expect(r.err).toContain('CONFIG_INVALID');
  });
});
