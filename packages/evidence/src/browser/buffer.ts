/**
 * The small part of Node's `Buffer` that `@yizheng/pki` uses (from/alloc/concat/compare, toString, equals), for
 * the browser build of the verifier; {@link installBuffer} sets it as `globalThis.Buffer` when there is none.
 */
type Encoding = 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary' | 'utf8' | 'utf-8';

function decodeString(s: string, enc: Encoding): Uint8Array {
  switch (enc) {
    case 'hex': {
      const n = s.length >> 1;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const pair = s.slice(2 * i, 2 * i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(pair)) return out.subarray(0, i);
        out[i] = parseInt(pair, 16);
      }
      return out;
    }
    case 'base64':
    case 'base64url': {
      const b = s.replace(/[\s=]/g, '').replace(/-/g, '+').replace(/_/g, '/');
      const bin = atob(b + '='.repeat((4 - (b.length % 4)) % 4));
      return Uint8Array.from(bin, (c) => c.charCodeAt(0));
    }
    case 'latin1':
    case 'binary':
      return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
    case 'utf8':
    case 'utf-8':
      return new TextEncoder().encode(s);
  }
}

export class BrowserBuffer extends Uint8Array {
  equals(other: Uint8Array): boolean {
    return compare(this, other) === 0;
  }

  compare(other: Uint8Array): -1 | 0 | 1 {
    return compare(this, other);
  }

  override toString(enc: Encoding = 'utf8'): string {
    switch (enc) {
      case 'hex':
        return Array.from(this, (b) => b.toString(16).padStart(2, '0')).join('');
      case 'base64':
      case 'base64url': {
        let bin = '';
        for (const b of this) bin += String.fromCharCode(b);
        const s = btoa(bin);
        return enc === 'base64' ? s : s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      }
      case 'latin1':
      case 'binary': {
        let s = '';
        for (const b of this) s += String.fromCharCode(b);
        return s;
      }
      case 'utf8':
      case 'utf-8':
        return new TextDecoder().decode(this);
    }
  }
}

function from(
  value: string | ArrayBufferLike | ArrayLike<number> | Iterable<number>,
  encOrOffset?: Encoding | number,
  length?: number,
): BrowserBuffer {
  if (typeof value === 'string') {
    const bytes = decodeString(value, typeof encOrOffset === 'string' ? encOrOffset : 'utf8');
    return new BrowserBuffer(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  }
  if (value instanceof ArrayBuffer) {
    const offset = typeof encOrOffset === 'number' ? encOrOffset : 0;
    return new BrowserBuffer(value, offset, length ?? value.byteLength - offset);
  }
  const items =
    ArrayBuffer.isView(value) || Array.isArray(value)
      ? (value as ArrayLike<number>)
      : Array.from(value as Iterable<number>);
  const copy = new BrowserBuffer(items.length);
  copy.set(items);
  return copy;
}

function concat(list: readonly Uint8Array[], total?: number): BrowserBuffer {
  const out = new BrowserBuffer(total ?? list.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of list) {
    if (o >= out.length) break;
    out.set(p.subarray(0, out.length - o), o);
    o += p.length;
  }
  return out;
}

function compare(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** What `Buffer` offers here: the static side. */
export const BufferPolyfill = {
  from,
  concat,
  compare,
  alloc: (n: number, fill = 0): BrowserBuffer => new BrowserBuffer(n).fill(fill),
  isBuffer: (v: unknown): v is BrowserBuffer => v instanceof BrowserBuffer,
  of: (...items: number[]): BrowserBuffer => from(items),
};

/** Sets `globalThis.Buffer` to {@link BufferPolyfill} unless the platform has one. */
export function installBuffer(): void {
  const g = globalThis as { Buffer?: unknown };
  if (g.Buffer === undefined) g.Buffer = BufferPolyfill;
}
