import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2 } from '@yizheng/gm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReportFonts, type ReportFonts } from './font.js';
import { maskIdentifier, maskName } from './mask.js';
import { formatShanghai, monoLines, renderReport } from './render.js';
import { sampleReportView } from './sample.js';
import { reportContent, sealReport, verifyReportSeal } from './seal.js';
import { woffToSfnt } from './woff.js';

let fonts: ReportFonts;
let dir: string;
const key = sm2.generateKeyPair().privateKey;

beforeAll(() => {
  fonts = loadReportFonts();
  dir = mkdtempSync(join(tmpdir(), 'yz-report-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The PDF's text as poppler's pdftotext extracts it (an independent PDF reader). */
function pdfText(pdf: Uint8Array, name: string): string {
  const file = join(dir, name);
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
}

describe('evidence report PDF', () => {
  it('renders a Chinese report that pdftotext reads back: record id, hashes, Chinese text, seal', async () => {
    const view = sampleReportView('zh-CN');
    const seal = sealReport({ view, privateKey: key });
    const pdf = await renderReport(view, seal, { fonts });
    expect(Buffer.from(pdf.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const text = pdfText(pdf, 'zh.pdf');
    expect(text).toContain(view.recordId);
    for (const h of view.hashes) expect(text).toContain(h.value);
    for (const h of view.log.inclusionProof) expect(text).toContain(h);
    expect(text).toContain('电子签名数据存证凭证');
    expect(text).toContain('示例市第一人民医院');
    expect(text).toContain('验证通过');
    expect(text).toContain('ZY20261201-000123');
    expect(text).toContain('110***********4518');
    expect(text).toContain(seal.contentSm3);
    expect(text).toContain('2026-12-01 10:15:30 (UTC+8)'); // signing time shown in Asia/Shanghai
    expect(text).not.toContain('Signature Evidence Certificate');
  });

  it('renders the same bytes every time (Courier shared across documents), each with its own font objects', async () => {
    const view = sampleReportView('zh-CN');
    const seal = sealReport({ view, privateKey: key });
    const first = await renderReport(view, seal, { fonts });
    const again = await Promise.all([1, 2].map(() => renderReport(view, seal, { fonts })));
    for (const pdf of again) expect(Buffer.from(pdf).equals(Buffer.from(first))).toBe(true);
    const latin = Buffer.from(first).toString('latin1');
    expect(latin).toMatch(/\/BaseFont \/Courier/);
    expect(latin.match(/\/BaseFont \/Courier/g)).toHaveLength(1); // one font object per document
    expect(latin).toContain('/FlateDecode');
    const text = pdfText(first, 'mono.pdf');
    for (const h of view.hashes) expect(text).toContain(h.value);
  });

  it('renders English when the view says en-US', async () => {
    const view = sampleReportView('en-US');
    const pdf = await renderReport(view, sealReport({ view, privateKey: key }), { fonts });
    const text = pdfText(pdf, 'en.pdf');
    expect(text).toContain('Signature Evidence Certificate');
    expect(text).toContain('Verification');
    expect(text).toContain(view.recordId);
    expect(text).not.toContain('验证通过');
  });

  it('shows a failed check and the not-valid banner', async () => {
    const view = { ...sampleReportView('zh-CN'), valid: false };
    view.checks = [...view.checks, { name: 'stored-bytes', status: 'fail', detail: '原文 SM3 不一致' }];
    const text = pdfText(
      await renderReport(view, sealReport({ view, privateKey: key }), { fonts }),
      'bad.pdf',
    );
    expect(text).toContain('验证未通过');
    expect(text).toContain('未通过');
    expect(text).toContain('原文 SM3 不一致');
  });

  it('embeds the CJK font as a subset (not the 16 MB font) and attaches the signed content', async () => {
    const view = sampleReportView('zh-CN');
    const pdf = Buffer.from(await renderReport(view, sealReport({ view, privateKey: key }), { fonts }));
    expect(pdf.length).toBeLessThan(400_000);
    const file = join(dir, 'att.pdf');
    writeFileSync(file, pdf);
    const fontsOut = execFileSync('pdffonts', [file], { encoding: 'utf8' });
    expect(fontsOut).toMatch(/LXGW/);
    expect(fontsOut).toMatch(/yes\s+yes/); // embedded, subset
    execFileSync('pdfdetach', ['-save', '1', '-o', join(dir, 'content.json'), file]);
    const attached = readFileSync(join(dir, 'content.json'));
    expect(new Uint8Array(attached)).toEqual(reportContent(view));
  });
});

describe('report seal', () => {
  it('verifies over the exact view and fails on any change or another key', () => {
    const view = sampleReportView('zh-CN');
    const seal = sealReport({ view, privateKey: key });
    expect(verifyReportSeal({ view, seal, publicKey: key.publicKey })).toBe(true);
    expect(verifyReportSeal({ view: { ...view, serialNumber: 'X' }, seal, publicKey: key.publicKey })).toBe(
      false,
    );
    const other = sm2.generateKeyPair().publicKey;
    expect(verifyReportSeal({ view, seal, publicKey: other })).toBe(false);
    const forged = {
      ...seal,
      signature: sealReport({ view: { ...view, valid: false }, privateKey: key }).signature,
    };
    expect(verifyReportSeal({ view, seal: forged, publicKey: key.publicKey })).toBe(false);
  });

  it('signs the canonical JSON (key order does not matter, absent fields are omitted)', () => {
    const view = sampleReportView('zh-CN');
    const reordered = Object.fromEntries(Object.entries(view).reverse()) as typeof view;
    expect(reportContent(reordered)).toEqual(reportContent(view));
    expect(new TextDecoder().decode(reportContent({ ...view, businessType: undefined }))).not.toContain(
      'businessType',
    );
  });
});

describe('masking and time', () => {
  it.each([
    ['张三', '张*'],
    ['欧阳娜娜', '欧**娜'],
    ['李', '*'],
  ])('maskName(%s) = %s', (name, masked) => expect(maskName(name)).toBe(masked));

  it.each([
    ['110101199003074518', '110***********4518'],
    ['A1234', '***34'],
    ['7', '*'],
  ])('maskIdentifier(%s) = %s', (id, masked) => expect(maskIdentifier(id)).toBe(masked));

  it('shows UTC times in Asia/Shanghai', () => {
    expect(formatShanghai('2026-12-31T16:30:00.000Z')).toBe('2027-01-01 00:30:00 (UTC+8)');
  });
});

describe('woffToSfnt', () => {
  it('rejects what is not WOFF and a truncated directory', () => {
    expect(() => woffToSfnt(new Uint8Array(100))).toThrow(/WOFF/);
    const head = new Uint8Array(44);
    head.set([0x77, 0x4f, 0x46, 0x46], 0);
    head[13] = 5; // five tables, no directory
    expect(() => woffToSfnt(head)).toThrow(/out of bounds/);
  });
});

describe('monospaced line breaking', () => {
  const width = 10 * 0.6 * 8.2; // ten Courier characters at 8.2 pt

  it('splits a long word at the line width and keeps every character', () => {
    const hex = '0123456789abcdef0123456789';
    expect(monoLines(hex, width)).toEqual(['0123456789', 'abcdef0123', '456789']);
  });

  it('breaks after spaces and slashes, keeps short lines whole and paragraphs apart', () => {
    expect(monoLines('ab cd efghi jk', width)).toEqual(['ab cd', 'efghi jk']);
    expect(monoLines('abc/defghij/kl', width)).toEqual(['abc/', 'defghij/kl']);
    expect(monoLines('one\n\ntwo', width)).toEqual(['one', '', 'two']);
    for (const line of monoLines('x'.repeat(95) + ' y/z '.repeat(9), width))
      expect(line.length).toBeLessThanOrEqual(10);
  });
});
