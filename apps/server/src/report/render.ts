/// <reference types="pdfkit" />
import { createRequire } from 'node:module';
import QRCode from 'qrcode';
import type { ReportFonts } from './font.js';
import { reportLabels, type ReportLabels } from './labels.js';
import { tuneDocument } from './pdf-tuning.js';
import { reportContent } from './seal.js';
import type { ReportCheck, ReportSeal, ReportView } from './view-model.js';

/**
 * An evidence report (凭证报告) as PDF bytes: a pure function of the view, its seal, the fonts and an optional
 * logo. A4 portrait, Chinese by default (view.locale), the CJK font embedded as a subset, hashes and signatures in
 * Courier. The signed report content (canonical JSON) is also attached to the PDF (`yizheng-report.json`), so the
 * PDF alone carries what its seal signs.
 */
export interface RenderOptions {
  fonts: ReportFonts;
  /** The unit's logo, PNG or JPEG bytes (config). */
  logo?: Uint8Array;
}

// pdfkit's typings are `export =` (CommonJS); under NodeNext without synthetic default imports it is loaded
// through require, typed by its own declaration.
const PDFDocument = createRequire(import.meta.url)('pdfkit') as new (
  options?: PDFKit.PDFDocumentOptions,
) => PDFKit.PDFDocument;

const PAGE = { width: 595.28, height: 841.89, left: 48, right: 48, top: 50, bottom: 60 } as const;
const CONTENT_WIDTH = PAGE.width - PAGE.left - PAGE.right;
const LABEL_WIDTH = 118;
const COLORS = {
  text: '#1f2329',
  muted: '#646a73',
  rule: '#d0d3d6',
  accent: '#1d4e89',
  pass: '#1a7f37',
  fail: '#c62828',
  skip: '#8a8f98',
  band: '#f2f4f7',
} as const;
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;

type Doc = PDFKit.PDFDocument;
type Value = { text: string; mono?: boolean; color?: string };

/** ISO-8601 UTC → `2026-12-01 21:11:18 (UTC+8)`, shown in Asia/Shanghai (no daylight saving). */
export function formatShanghai(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ')} (UTC+8)`;
}

export async function renderReport(
  view: ReportView,
  seal: ReportSeal,
  options: RenderOptions,
): Promise<Uint8Array> {
  const labels = reportLabels(view.locale);
  const created = new Date(Date.parse(view.generatedAt) || 0);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: PAGE.top, bottom: PAGE.bottom, left: PAGE.left, right: PAGE.right },
    bufferPages: true,
    autoFirstPage: false, // added below, after tuneDocument: its content stream is then deflated the same way
    lang: view.locale,
    displayTitle: true,
    info: {
      Title: `${labels.title[view.kind]} ${view.recordId}`,
      Author: view.unitName,
      Subject: view.recordId,
      Creator: 'Yizheng',
      Producer: 'Yizheng',
      CreationDate: created,
      ModDate: created,
    },
  });
  tuneDocument(doc);
  doc.addPage();
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  // pdfkit accepts a fontkit font object (it calls `.layout`); its typings only list paths and buffers.
  doc.registerFont('cjk', options.fonts.regular as unknown as Buffer);
  doc.registerFont('cjk-bold', options.fonts.bold as unknown as Buffer);

  header(doc, view, labels, options.logo);
  sections(doc, view, seal, labels);
  footers(doc, view, labels);

  const content = reportContent(view);
  doc.file(Buffer.from(content), {
    name: 'yizheng-report.json',
    type: 'application/json',
    description: 'Yizheng report content (canonical JSON) signed by the platform seal',
    creationDate: created,
    modifiedDate: created,
  });
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

function header(doc: Doc, view: ReportView, labels: ReportLabels, logo: Uint8Array | undefined): void {
  const top = PAGE.top - 14;
  let nameX = PAGE.left;
  if (logo !== undefined) {
    doc.image(Buffer.from(logo), PAGE.left, top, { fit: [36, 36] });
    nameX += 44;
  }
  doc
    .font('cjk-bold')
    .fontSize(11)
    .fillColor(COLORS.text)
    .text(view.unitName, nameX, top + 4, { width: 300 });
  doc
    .font('cjk')
    .fontSize(8)
    .fillColor(COLORS.muted)
    .text(labels.subtitle, nameX, top + 20, { width: 300 });
  doc
    .font('Courier')
    .fontSize(8)
    .fillColor(COLORS.muted)
    .text(view.recordId, PAGE.left, top + 6, { width: CONTENT_WIDTH, align: 'right' });
  rule(doc, top + 42, COLORS.accent, 1.2);

  doc
    .font('cjk-bold')
    .fontSize(20)
    .fillColor(COLORS.accent)
    .text(labels.title[view.kind], PAGE.left, top + 56, { width: CONTENT_WIDTH, align: 'center' });
  const bannerY = doc.y + 10;
  const color = view.valid ? COLORS.pass : COLORS.fail;
  doc.save().roundedRect(PAGE.left, bannerY, CONTENT_WIDTH, 26, 4).fillOpacity(0.08).fill(color).restore();
  doc
    .save()
    .roundedRect(PAGE.left, bannerY, CONTENT_WIDTH, 26, 4)
    .lineWidth(0.8)
    .strokeColor(color)
    .stroke()
    .restore();
  doc
    .font('cjk-bold')
    .fontSize(11)
    .fillColor(color)
    .text(view.valid ? labels.overall.valid : labels.overall.invalid, PAGE.left + 12, bannerY + 7, {
      width: CONTENT_WIDTH - 24,
    });
  doc.y = bannerY + 38;
  doc.x = PAGE.left;
}

function sections(doc: Doc, view: ReportView, seal: ReportSeal, labels: ReportLabels): void {
  const f = labels.fields;
  const t = (text: string | undefined): Value | undefined =>
    text === undefined || text === '' ? undefined : { text };
  const mono = (text: string | undefined): Value | undefined =>
    text === undefined || text === '' ? undefined : { text, mono: true };
  const time = (iso: string | undefined): Value | undefined =>
    iso === undefined ? undefined : { text: formatShanghai(iso) };

  section(doc, labels.sections.record);
  rows(doc, [
    [f.recordId, mono(view.recordId)],
    [f.kind, t(labels.kinds[view.kind])],
    [f.project, t(named(view.project, view.locale))],
    [f.application, t(named(view.application, view.locale))],
    [f.serialNumber, t(view.serialNumber)],
    [f.businessType, t(view.businessType)],
    [f.sourceSystem, t(view.sourceSystem)],
    [f.department, t(view.department)],
    [f.patientName, t(view.patient?.name)],
    [f.patientId, t(view.patient?.id)],
    [f.visitNumber, t(view.patient?.visitNumber)],
    [f.fileName, t(view.file?.name)],
    [f.fileSize, view.file === undefined ? undefined : { text: labels.bytes(view.file.size) }],
    [f.contentType, t(view.file?.contentType)],
    [f.digestCategory, t(view.digest?.category)],
    [f.digestAlgorithm, t(view.digest?.algorithm)],
    [f.digestValue, mono(view.digest?.value)],
    [f.receivedAt, time(view.receivedAt)],
  ]);

  if (view.signer !== undefined || view.certificate !== undefined || view.signedAt !== undefined) {
    section(doc, labels.sections.signer);
    const c = view.certificate;
    rows(doc, [
      [f.signer, t(view.signer)],
      [f.signatureFormat, t(view.signatureFormat)],
      [f.signedAt, time(view.signedAt)],
      [f.certSubject, t(c?.subject)],
      [f.certIssuer, t(c?.issuer)],
      [f.certSerial, mono(c?.serialNumber)],
      [
        f.certValidity,
        c === undefined
          ? undefined
          : { text: `${formatShanghai(c.notBefore)} — ${formatShanghai(c.notAfter)}` },
      ],
      [f.certSm3, mono(c?.sm3)],
    ]);
  }

  section(doc, labels.sections.timestamp);
  const ts = view.timestamp;
  if (ts === undefined) {
    if (view.reinforcementTimestamp === undefined)
      rows(doc, [[f.genTime, { text: labels.none, color: COLORS.muted }]]);
  } else {
    rows(doc, [
      [f.genTime, time(ts.genTime)],
      [f.tsa, t(ts.tsa)],
      [f.tsSerial, mono(ts.serialNumber)],
      [f.tsPolicy, mono(ts.policy)],
      [f.tsHash, t(ts.hashAlgorithm)],
    ]);
  }
  const rt = view.reinforcementTimestamp;
  if (rt !== undefined)
    rows(doc, [
      [f.reinforcement, time(rt.genTime)],
      [f.tsa, t(rt.tsa)],
      [f.tsSerial, mono(rt.serialNumber)],
      [f.tsPolicy, mono(rt.policy)],
      [f.tsHash, t(rt.hashAlgorithm)],
    ]);

  section(doc, labels.sections.hashes);
  rows(
    doc,
    view.hashes.map((h) => [labels.hashNames[h.name] ?? h.name, { text: h.value, mono: true }] as const),
  );

  section(doc, labels.sections.checks);
  checksTable(doc, view.checks, labels);

  section(doc, labels.sections.log);
  rows(doc, [
    [f.logIndex, { text: String(view.log.index), mono: true }],
    [
      f.treeSize,
      view.log.treeSize === undefined
        ? { text: labels.pending, color: COLORS.muted }
        : { text: String(view.log.treeSize), mono: true },
    ],
    [f.rootHash, mono(view.log.rootHash)],
    [
      f.inclusionProof,
      view.log.inclusionProof.length === 0
        ? { text: labels.none, color: COLORS.muted }
        : {
            text: view.log.inclusionProof.map((h, i) => `${String(i).padStart(2, ' ')}  ${h}`).join('\n'),
            mono: true,
          },
    ],
    [f.checkpoint, mono(view.log.checkpoint?.trimEnd())],
  ]);

  section(doc, labels.sections.verify, 150);
  verifyBlock(doc, view, seal, labels);
}

function named(item: { id: string; name: string }, locale: ReportView['locale']): string {
  return locale === 'zh-CN' ? `${item.name}（${item.id}）` : `${item.name} (${item.id})`;
}

function section(doc: Doc, title: string, keepWithNext = 60): void {
  ensureSpace(doc, 26 + keepWithNext);
  const y = doc.y + 8;
  doc
    .save()
    .rect(PAGE.left, y + 2, 3, 12)
    .fill(COLORS.accent)
    .restore();
  doc
    .font('cjk-bold')
    .fontSize(12)
    .fillColor(COLORS.accent)
    .text(title, PAGE.left + 9, y, { width: CONTENT_WIDTH - 9 });
  doc.y = y + 20;
  doc.x = PAGE.left;
}

function rows(doc: Doc, entries: readonly (readonly [string, Value | undefined])[]): void {
  const valueX = PAGE.left + LABEL_WIDTH;
  const valueWidth = CONTENT_WIDTH - LABEL_WIDTH - 6;
  for (const [label, value] of entries) {
    if (value === undefined) continue;
    setValueFont(doc, value);
    const lines = value.mono === true ? monoLines(value.text, valueWidth) : undefined;
    const valueHeight =
      lines === undefined
        ? textHeight(doc, value.text, valueWidth, 1)
        : lines.length * (doc.currentLineHeight(true) + 1);
    doc.font('cjk').fontSize(9);
    const labelHeight = textHeight(doc, label, LABEL_WIDTH - 8);
    const height = Math.max(valueHeight + (value.mono === true ? 1.5 : 0), labelHeight) + 7;
    ensureSpace(doc, height);
    const y = doc.y;
    doc.fillColor(COLORS.muted);
    textAt(doc, label, PAGE.left + 4, y + 3.5, LABEL_WIDTH - 8);
    setValueFont(doc, value);
    doc.fillColor(value.color ?? COLORS.text);
    if (lines === undefined) textAt(doc, value.text, valueX, y + 3.5, valueWidth, 1);
    else {
      // Courier sits higher than the CJK font at the same baseline position: nudge it onto the label's line.
      const step = doc.currentLineHeight(true) + 1;
      lines.forEach((line, i) => doc.text(line, valueX, y + 5 + i * step, { lineBreak: false }));
    }
    rule(doc, y + height, COLORS.rule, 0.4);
    doc.y = y + height;
    doc.x = PAGE.left;
  }
}

/** Whether `text` is one line at `width` in the current font (then pdfkit's line wrapper is not needed). */
function oneLine(doc: Doc, text: string, width: number): boolean {
  return !text.includes('\n') && doc.widthOfString(text) <= width;
}

/** `heightOfString` at `width`, without running the line wrapper for text that fits on one line. */
function textHeight(doc: Doc, text: string, width: number, lineGap = 0): number {
  return oneLine(doc, text, width)
    ? doc.currentLineHeight(true) + lineGap
    : doc.heightOfString(text, { width, lineGap });
}

/** `text` at (x, y) wrapped to `width`; a text that fits on one line is drawn as it is, without the wrapper. */
function textAt(doc: Doc, text: string, x: number, y: number, width: number, lineGap = 0): void {
  if (oneLine(doc, text, width)) doc.text(text, x, y, { lineBreak: false });
  else doc.text(text, x, y, { width, lineGap });
}

/** Courier's advance: every glyph is 600/1000 em wide. */
const MONO_ADVANCE = 0.6;
const MONO_SIZE = 8.2;

/**
 * Monospaced text broken into lines of `width` as pdfkit's line wrapper breaks it — after spaces and slashes, and inside a
 * word longer than a line — computed from the fixed advance instead of measuring every prefix of a long word
 * (hashes and signatures are single words: pdfkit's wrapper measures them character by character).
 */
export function monoLines(text: string, width: number, fontSize = MONO_SIZE): string[] {
  const max = Math.max(1, Math.floor((width + 1e-6) / (MONO_ADVANCE * fontSize)));
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/(?<=[ /])/)) {
      if (line.length + word.trimEnd().length <= max) {
        line += word;
        continue;
      }
      if (line !== '') out.push(line.trimEnd());
      line = word;
      while (line.trimEnd().length > max) {
        out.push(line.slice(0, max));
        line = line.slice(max);
      }
    }
    out.push(line.trimEnd());
  }
  return out;
}

function setValueFont(doc: Doc, value: Value): void {
  if (value.mono === true) doc.font('Courier').fontSize(MONO_SIZE);
  else doc.font('cjk').fontSize(9.5);
}

function checksTable(doc: Doc, checks: readonly ReportCheck[], labels: ReportLabels): void {
  const cols = [180, 58, CONTENT_WIDTH - 238] as const;
  const x = [PAGE.left, PAGE.left + cols[0], PAGE.left + cols[0] + cols[1]] as const;
  const headerRow = (): void => {
    const y = doc.y;
    doc.save().rect(PAGE.left, y, CONTENT_WIDTH, 18).fill(COLORS.band).restore();
    doc.font('cjk-bold').fontSize(9).fillColor(COLORS.text);
    doc.text(labels.checkHeader.name, x[0] + 4, y + 4, { width: cols[0] - 8 });
    doc.text(labels.checkHeader.status, x[1] + 4, y + 4, { width: cols[1] - 8 });
    doc.text(labels.checkHeader.detail, x[2] + 4, y + 4, { width: cols[2] - 8 });
    doc.y = y + 18;
  };
  ensureSpace(doc, 40);
  headerRow();
  for (const check of checks) {
    const name = labels.checkNames[check.name] ?? check.name;
    const detail = check.detail ?? '';
    doc.font('cjk').fontSize(9);
    const height =
      Math.max(
        textHeight(doc, name, cols[0] - 8),
        detail === '' ? 0 : textHeight(doc, detail, cols[2] - 8),
        12,
      ) + 7;
    if (doc.y + height > PAGE.height - PAGE.bottom) {
      doc.addPage();
      headerRow();
    }
    const y = doc.y;
    doc.fillColor(COLORS.text);
    textAt(doc, name, x[0] + 4, y + 3.5, cols[0] - 8);
    const color = check.status === 'pass' ? COLORS.pass : check.status === 'fail' ? COLORS.fail : COLORS.skip;
    const mark = check.status === 'pass' ? '✓ ' : check.status === 'fail' ? '✗ ' : '– ';
    doc.font('cjk-bold').fillColor(color);
    textAt(doc, `${mark}${labels.status[check.status]}`, x[1] + 4, y + 3.5, cols[1] - 8);
    if (detail !== '') {
      doc.font('cjk').fillColor(COLORS.muted);
      textAt(doc, detail, x[2] + 4, y + 3.5, cols[2] - 8);
    }
    rule(doc, y + height, COLORS.rule, 0.4);
    doc.y = y + height;
  }
  doc.x = PAGE.left;
}

function verifyBlock(doc: Doc, view: ReportView, seal: ReportSeal, labels: ReportLabels): void {
  const qrSize = 104;
  const y = doc.y + 4;
  drawQr(doc, view.verifyUrl, PAGE.left + 2, y, qrSize);
  const x = PAGE.left + qrSize + 16;
  const width = PAGE.width - PAGE.right - x;
  doc.font('cjk').fontSize(9).fillColor(COLORS.muted).text(labels.fields.verifyUrl, x, y);
  doc
    .font('Courier')
    .fontSize(8.2)
    .fillColor(COLORS.accent)
    .text(view.verifyUrl, x, doc.y + 1, {
      width,
      link: view.verifyUrl,
    });
  doc
    .font('cjk')
    .fontSize(8.5)
    .fillColor(COLORS.muted)
    .text(labels.qrHint, x, doc.y + 6, { width });
  doc.y = Math.max(doc.y, y + qrSize) + 10;
  doc.x = PAGE.left;
  rows(doc, [
    [labels.fields.sealAlgorithm, { text: seal.algorithm, mono: true }],
    [labels.fields.sealKey, { text: seal.keyId, mono: true }],
    [labels.fields.sealContent, { text: seal.contentSm3, mono: true }],
    [labels.fields.sealSignature, { text: seal.signature, mono: true }],
    [labels.fields.generatedAt, { text: formatShanghai(view.generatedAt) }],
  ]);
  ensureSpace(doc, 30);
  doc
    .font('cjk')
    .fontSize(8)
    .fillColor(COLORS.muted)
    .text(labels.sealNote, PAGE.left, doc.y + 6, { width: CONTENT_WIDTH });
}

/** The QR code as vector rectangles (one per horizontal run of dark modules), quiet zone included in `size`. */
function drawQr(doc: Doc, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 2;
  const m = size / (n + quiet * 2);
  doc.save().rect(x, y, size, size).fill('#ffffff');
  for (let r = 0; r < n; r++) {
    let c = 0;
    while (c < n) {
      if (qr.modules.get(r, c)) {
        const start = c;
        while (c < n && qr.modules.get(r, c)) c++;
        doc.rect(x + (quiet + start) * m, y + (quiet + r) * m, (c - start) * m + 0.01, m + 0.01);
      } else c++;
    }
  }
  doc.fill('#000000').restore();
}

function footers(doc: Doc, view: ReportView, labels: ReportLabels): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0; // writing inside the bottom margin must not start a new page
    const y = PAGE.height - 40;
    rule(doc, y - 6, COLORS.rule, 0.5);
    doc.font('cjk').fontSize(7.5).fillColor(COLORS.muted);
    doc.text(`${view.unitName} · ${labels.subtitle}`, PAGE.left, y, {
      width: CONTENT_WIDTH / 2,
      lineBreak: false,
    });
    doc.text(labels.page(i - range.start + 1, range.count), PAGE.left + CONTENT_WIDTH / 2, y, {
      width: CONTENT_WIDTH / 2,
      align: 'right',
      lineBreak: false,
    });
    doc.page.margins.bottom = bottom;
  }
}

function ensureSpace(doc: Doc, height: number): void {
  if (doc.y + height > PAGE.height - PAGE.bottom) {
    doc.addPage();
    doc.x = PAGE.left;
  }
}

function rule(doc: Doc, y: number, color: string, width: number): void {
  doc
    .save()
    .moveTo(PAGE.left, y)
    .lineTo(PAGE.width - PAGE.right, y)
    .lineWidth(width)
    .strokeColor(color)
    .stroke()
    .restore();
}
