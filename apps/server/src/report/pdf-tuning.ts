import { deflateSync } from 'node:zlib';

/**
 * Per-document costs pdfkit pays again for every report, taken out without touching node_modules (each document
 * is tuned right after it is created, through the objects pdfkit itself uses):
 *
 * - **Courier**: pdfkit builds a StandardFont, and with it an AFMFont from the font's metric data (glyph-name
 *   tables, kerning map), for every document that uses it, then measures each string glyph by glyph with a kerning
 *   lookup per pair. Courier has one advance (600/1000 em) and no kerning pairs, so the first document's parsed
 *   metrics are kept for the process; each later document gets its own StandardFont (its own id and dictionary,
 *   so nothing of one PDF leaks into another) that shares them, with `encode` / `widthOfString` answered from a
 *   per-character table built from those same metrics.
 * - **Compression**: every stream is deflated at zlib's level 1 instead of the default 6: the font subset and the
 *   page contents are most of the bytes and most of the time; the file grows by a few per cent.
 */

/** What pdfkit's StandardFont exposes that we use (pdfkit 0.20). */
interface AfmMetrics {
  encodeText(text: string): string[];
  characterToGlyph(code: number): string;
  widthOfGlyph(glyph: string): number;
  getKernPair(left: string, right: string | undefined): number;
}

interface Position {
  xAdvance: number;
  yAdvance: number;
  xOffset: number;
  yOffset: number;
  advanceWidth: number;
}

interface StandardFontLike {
  name: string;
  id: string;
  font: AfmMetrics;
  document: unknown;
  dictionary?: unknown;
  embedded?: boolean;
  encode(text: string): [string[], Position[]];
  widthOfString(text: string, size: number): number;
}

interface PdfReferenceLike {
  compress: boolean;
  buffer: Uint8Array[];
  data: { Filter?: string };
  finalize(): void;
}

interface TunableDoc {
  _font?: unknown;
  _fontFamilies: Record<string, unknown>;
  _fontCount: number;
  compress: boolean;
  ref(data?: object): PdfReferenceLike;
  font(name: string): unknown;
}

const MONO = 'Courier';
const DEFLATE_LEVEL = 1;

/** The first document's Courier, kept as the template, and its per-character code and advance. */
let template: StandardFontLike | undefined;
const hexOf = new Map<number, string>();
const advanceOf = new Map<number, number>();

function charInfo(metrics: AfmMetrics, code: number): void {
  if (advanceOf.has(code)) return;
  hexOf.set(code, metrics.encodeText(String.fromCharCode(code))[0] ?? code.toString(16));
  const glyph = metrics.characterToGlyph(code);
  advanceOf.set(code, metrics.widthOfGlyph(glyph));
}

/** Courier's metrics are one advance and no kerning; refuse to share anything else. */
function isFixedWithoutKerning(metrics: AfmMetrics): boolean {
  const probe = 'Aa0/+=-_~ ';
  let width: number | undefined;
  for (let i = 0; i < probe.length; i++) {
    const g = metrics.characterToGlyph(probe.charCodeAt(i));
    const w = metrics.widthOfGlyph(g);
    if (width !== undefined && w !== width) return false;
    width = w;
    if (metrics.getKernPair(g, metrics.characterToGlyph(probe.charCodeAt((i + 1) % probe.length))) !== 0)
      return false;
  }
  return true;
}

function fastMono(font: StandardFontLike): void {
  const metrics = font.font;
  font.encode = (text: string): [string[], Position[]] => {
    const encoded: string[] = [];
    const positions: Position[] = [];
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      charInfo(metrics, code);
      const advance = advanceOf.get(code)!;
      encoded.push(hexOf.get(code)!);
      positions.push({ xAdvance: advance, yAdvance: 0, xOffset: 0, yOffset: 0, advanceWidth: advance });
    }
    return [encoded, positions];
  };
  font.widthOfString = (text: string, size: number): number => {
    let width = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      charInfo(metrics, code);
      width += advanceOf.get(code)!;
    }
    return (width * size) / 1000;
  };
}

/** Puts this document's Courier in place, sharing the process's parsed metrics (see above). */
function shareCourier(doc: TunableDoc): void {
  if (template === undefined) {
    const previous = doc._font;
    doc.font(MONO);
    const first = doc._fontFamilies[MONO] as StandardFontLike | undefined;
    doc._font = previous;
    if (first === undefined || !isFixedWithoutKerning(first.font)) return;
    fastMono(first);
    template = first;
    return;
  }
  const font = Object.create(Object.getPrototypeOf(template) as object) as StandardFontLike;
  Object.assign(font, template, {
    document: doc,
    id: `F${++doc._fontCount}`,
    dictionary: undefined,
    embedded: false,
  });
  fastMono(font);
  doc._fontFamilies[MONO] = font;
}

/** Streams deflated at {@link DEFLATE_LEVEL} (pdfkit deflates at zlib's default). */
function fasterDeflate(doc: TunableDoc): void {
  if (!doc.compress) return;
  const ref = doc.ref.bind(doc);
  doc.ref = (data?: object): PdfReferenceLike => {
    const r = ref(data);
    if (!r.compress) return r;
    r.compress = false;
    const finalize = r.finalize.bind(r);
    r.finalize = () => {
      if (r.buffer.length > 0) {
        r.buffer = [deflateSync(Buffer.concat(r.buffer), { level: DEFLATE_LEVEL })];
        r.data.Filter = 'FlateDecode';
      }
      finalize();
    };
    return r;
  };
}

/** Applies both to a freshly created pdfkit document (before anything is drawn). */
export function tuneDocument(doc: PDFKit.PDFDocument): void {
  const d = doc as unknown as TunableDoc;
  shareCourier(d);
  fasterDeflate(d);
}
