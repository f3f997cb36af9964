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

export function loadReportFonts(): ReportFonts {
  const require = createRequire(import.meta.url);
  const load = (specifier: string): Font => create(woffToSfnt(readFileSync(require.resolve(specifier))));
  return { regular: load(FILES.regular), bold: load(FILES.bold) };
}
