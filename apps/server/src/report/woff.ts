import { inflateSync } from 'node:zlib';

/**
 * WOFF 1.0 (W3C, 2012) → the SFNT (TrueType/OpenType) font it wraps.
 *
 *   WOFFHeader { signature 'wOFF', flavor, length, numTables, reserved, totalSfntSize, ... } (44 bytes)
 *   TableDirectoryEntry { tag, offset, compLength, origLength, origChecksum } (20 bytes each)
 *   a table is zlib-compressed when compLength < origLength, stored as is when equal.
 *
 * fontkit reads WOFF directly but inflates a table on every access, which makes subsetting a CJK font (one
 * `glyf` read per glyph) take minutes; unwrapping once at load time makes it milliseconds.
 */
export function woffToSfnt(woff: Uint8Array): Buffer {
  const w = Buffer.from(woff.buffer, woff.byteOffset, woff.byteLength);
  if (w.length < 44 || w.readUInt32BE(0) !== 0x774f4646) throw new Error('not a WOFF 1.0 font');
  const flavor = w.readUInt32BE(4);
  const numTables = w.readUInt16BE(12);
  if (numTables === 0 || 44 + numTables * 20 > w.length)
    throw new Error('WOFF table directory out of bounds');
  const tables: { tag: number; checksum: number; data: Buffer }[] = [];
  for (let i = 0; i < numTables; i++) {
    const o = 44 + i * 20;
    const tag = w.readUInt32BE(o);
    const offset = w.readUInt32BE(o + 4);
    const compLength = w.readUInt32BE(o + 8);
    const origLength = w.readUInt32BE(o + 12);
    const checksum = w.readUInt32BE(o + 16);
    if (offset + compLength > w.length || compLength > origLength)
      throw new Error('WOFF table out of bounds');
    const raw = w.subarray(offset, offset + compLength);
    const data = compLength < origLength ? inflateSync(raw, { maxOutputLength: origLength }) : raw;
    if (data.length !== origLength) throw new Error('WOFF table length mismatch');
    tables.push({ tag, checksum, data });
  }
  // SFNT offset table: searchRange = 16 · 2^floor(log2 numTables), entrySelector = floor(log2 numTables).
  let entrySelector = 0;
  while (1 << (entrySelector + 1) <= numTables) entrySelector++;
  const searchRange = (1 << entrySelector) * 16;
  const headerSize = 12 + 16 * numTables;
  const total = tables.reduce((n, t) => n + ((t.data.length + 3) & ~3), headerSize);
  const out = Buffer.alloc(total);
  out.writeUInt32BE(flavor, 0);
  out.writeUInt16BE(numTables, 4);
  out.writeUInt16BE(searchRange, 6);
  out.writeUInt16BE(entrySelector, 8);
  out.writeUInt16BE(numTables * 16 - searchRange, 10);
  let offset = headerSize;
  tables.forEach((t, i) => {
    const o = 12 + i * 16;
    out.writeUInt32BE(t.tag, o);
    out.writeUInt32BE(t.checksum, o + 4);
    out.writeUInt32BE(offset, o + 8);
    out.writeUInt32BE(t.data.length, o + 12);
    t.data.copy(out, offset);
    offset += (t.data.length + 3) & ~3;
  });
  return out;
}
