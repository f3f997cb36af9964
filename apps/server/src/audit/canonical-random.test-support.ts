/** Random canonical-JSON inputs for equivalence tests: strings full of escapes, unicode and lone surrogates. */
import type { CanonicalValue } from './canonical-json.js';
import { seeded } from '../testing/seeded.js';

export { seeded };

const PIECES = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '/',
  '\n',
  '\r',
  '\t',
  '\b',
  '\f',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u2028',
  '\u2029',
  'é',
  '患者',
  '张医生',
  '病历',
  '😀',
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\ufeff',
  '\uffff',
  '{"a":1}',
  '</script>',
];

export function randomString(rnd: () => number, max = 12): string {
  let s = '';
  const n = Math.floor(rnd() * max);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rnd() * PIECES.length)]!;
  return s;
}

export function randomInteger(rnd: () => number): number {
  const r = rnd();
  if (r < 0.1) return 0;
  if (r < 0.2) return Number.MAX_SAFE_INTEGER;
  if (r < 0.3) return -Number.MAX_SAFE_INTEGER;
  return Math.floor((rnd() - 0.5) * 2 ** Math.floor(rnd() * 53));
}

export function randomValue(rnd: () => number, depth: number): CanonicalValue {
  const r = rnd();
  if (depth <= 0 || r < 0.5) {
    if (r < 0.1) return null;
    if (r < 0.15) return rnd() < 0.5;
    if (r < 0.25) return randomInteger(rnd);
    return randomString(rnd);
  }
  const n = Math.floor(rnd() * 5);
  if (r < 0.75) return Array.from({ length: n }, () => randomValue(rnd, depth - 1));
  const o: Record<string, CanonicalValue> = {};
  for (let i = 0; i < n; i++) o[randomString(rnd, 4)] = randomValue(rnd, depth - 1);
  return o;
}
