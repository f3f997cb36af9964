/** The part of fontkit (a pdfkit dependency, no published types) that the report renderer uses. */
declare module 'fontkit' {
  export interface Font {
    readonly postscriptName: string;
    readonly familyName: string;
    readonly numGlyphs: number;
    layout(text: string, ...rest: unknown[]): unknown;
    getGlyph(id: number, ...rest: unknown[]): unknown;
    hasGlyphForCodePoint(codePoint: number): boolean;
  }
  export function create(buffer: Uint8Array, postscriptName?: string): Font;
}
