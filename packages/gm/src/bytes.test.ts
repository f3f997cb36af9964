import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';

/** The decoder it replaced: regex check, then parseInt per pair. */
function reference(hex: string): Uint8Array | 'refused' {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return 'refused';
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function decoded(hex: string): Uint8Array | 'refused' {
  try {
    return fromHex(hex);
  } catch {
    return 'refused';
  }
}

describe('fromHex', () => {
  it('decodes every byte in either case and round-trips toHex', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromHex(toHex(all))).toEqual(all);
    expect(fromHex(toHex(all).toUpperCase())).toEqual(all);
    expect(fromHex('')).toEqual(new Uint8Array(0));
  });

  it('refuses exactly what the regex decoder refused', () => {
    const cases = [
      '0',
      'abc',
      'g0',
      '0g',
      ' 0',
      '0 ',
      '0x',
      '-1',
      '+1',
      'ａ0',
      '0\u0100',
      '\u00ff0',
      '٠٠',
      '1\n',
    ];
    for (let c = 0; c < 0x180; c++) cases.push(`${String.fromCharCode(c)}a`, `a${String.fromCharCode(c)}`);
    for (const hex of cases) expect(decoded(hex), JSON.stringify(hex)).toEqual(reference(hex));
  });
});
