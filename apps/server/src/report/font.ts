import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { create, type Font } from 'fontkit';
import { woffToSfnt } from './woff.js';

/**
 * The report's CJK font: LXGW WenKai (霞鹜文楷, SIL OFL 1.1), shipped by the npm package `@fontsource/lxgw-wenkai`,
 * so a report renders Chinese on a fresh machine with nothing installed. pdfkit embeds only the glyphs used.
 * Parsing the 16 MB font takes ~100 ms: load once (at start) and pass the result to every render.
 */
export interface ReportFonts {
  regular: Font;
  bold: Font;
}

const FILES = {
  regular: '@fontsource/lxgw-wenkai/files/lxgw-wenkai-latin-500-normal.woff',
  bold: '@fontsource/lxgw-wenkai/files/lxgw-wenkai-latin-700-normal.woff',
} as const;

/** Text runs laid out per font and process, beyond which the cache starts again (labels repeat in every report). */
const LAYOUT_CACHE_SIZE = 4096;

interface Run {
  readonly positions: readonly object[];
}

/**
 * Memoises the font's text layout across documents: pdfkit caches layout per document only, and shaping the same
 * labels again is most of a report's cost. pdfkit scales the positions of a run it gets in place, so each call
 * returns a copy of the run with fresh position objects (glyphs are shared: fontkit caches them per font anyway).
 */
function withLayoutCache(font: Font): Font {
  const layout = font.layout.bind(font) as (text: string, ...rest: unknown[]) => Run;
  const cache = new Map<string, Run>();
  const copy = (run: Run): Run =>
    Object.assign(Object.create(Object.getPrototypeOf(run) as object) as Run, run, {
      positions: run.positions.map((p) => ({ ...p })),
    });
  font.layout = (text: string, ...rest: unknown[]): unknown => {
    if (rest.some((r) => r !== undefined)) return layout(text, ...rest);
    let run = cache.get(text);
    if (run === undefined) {
      if (cache.size >= LAYOUT_CACHE_SIZE) cache.clear();
      run = copy(layout(text));
      cache.set(text, run);
    }
    return copy(run);
  };
  return font;
}

interface DecodableGlyph {
  _decode(): unknown;
}

/**
 * Memoises each glyph's decoded outline: pdfkit subsets the font for every document, and fontkit's subsetter
 * decodes every used glyph again each time (only to find compound glyphs' components). fontkit keeps one glyph
 * object per glyph id and font, and the decoded outline is only read, so decoding once per process is enough.
 */
function withGlyphDecodeCache(font: Font): Font {
  const getGlyph = font.getGlyph.bind(font) as (id: number, ...rest: unknown[]) => DecodableGlyph | null;
  const patched = new WeakSet<DecodableGlyph>();
  font.getGlyph = (id: number, ...rest: unknown[]): DecodableGlyph | null => {
    const glyph = getGlyph(id, ...rest);
    if (glyph !== null && !patched.has(glyph)) {
      patched.add(glyph);
      const decode = glyph._decode.bind(glyph);
      let decoded: { value: unknown } | undefined;
      glyph._decode = () => (decoded ??= { value: decode() }).value;
    }
    return glyph;
  };
  return font;
}

export function loadReportFonts(): ReportFonts {
  const require = createRequire(import.meta.url);
  const load = (specifier: string): Font =>
    withGlyphDecodeCache(withLayoutCache(create(woffToSfnt(readFileSync(require.resolve(specifier))))));
  return { regular: load(FILES.regular), bold: load(FILES.bold) };
}
