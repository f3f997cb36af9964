/**
 * A minimal HTTP/1.1 keep-alive client for load generation, as wrk's is: each connection sends one request,
 * already serialised to bytes, and reads its whole response before the next (no pipelining). It parses only
 * the status line and the framing headers (Content-Length, chunked Transfer-Encoding, Connection: close), so
 * the load generator, which shares the machine's cores with the server and its database, costs a small part
 * of what `node:http` costs per request (about 0.1 ms here), and what the benches measure is the server.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
}

/** The request as bytes: request line, `Host`, the given headers, `Content-Length` and the body. */
export function serialiseRequest(
  host: string,
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: Buffer,
): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Error(`header ${k}: CR or LF`);
    if (/[^\x20-\x7e\t]/.test(k + v)) throw new Error(`header ${k}: not printable ASCII`);
    head += `${k}: ${v}\r\n`;
  }
  head += `content-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** One keep-alive connection; reconnects when the server closed it. */
export class RawHttpConnection {
  #socket: Socket | undefined;
  #buffered: Buffer = Buffer.alloc(0);
  #waiting: { resolve(r: RawResponse): void; reject(e: Error): void } | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  request(bytes: Buffer): Promise<RawResponse> {
    if (this.#waiting !== undefined) return Promise.reject(new Error('a request is already in flight'));
    return new Promise<RawResponse>((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#connected().write(bytes);
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #connected(): Socket {
    if (this.#socket !== undefined) return this.#socket;
    const s = connect({ host: this.host, port: this.port, noDelay: true });
    s.on('data', (chunk: Buffer) => {
      if (this.#socket !== s) return;
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
      this.#parse();
    });
    // Events of a socket this connection has already let go of (closed after `Connection: close`) are ignored.
    const fail = (e: Error): void => {
      if (this.#socket !== s) return;
      this.#socket = undefined;
      this.#buffered = Buffer.alloc(0);
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.reject(e);
    };
    s.on('error', fail);
    s.on('close', () => fail(new Error('connection closed before the response was complete')));
    this.#socket = s;
    return s;
  }

  /** Completes the waiting request when its whole response has arrived. */
  #parse(): void {
    const b = this.#buffered;
    const headEnd = b.indexOf(CRLFCRLF);
    if (headEnd < 0) return;
    const head = b.toString('latin1', 0, headEnd);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    if (!Number.isInteger(status)) {
      this.#socket?.destroy(new Error(`bad status line: ${head.slice(0, 80)}`));
      return;
    }
    const bodyStart = headEnd + 4;
    let body: Buffer;
    let end: number;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (length) {
      end = bodyStart + Number(length[1]);
      if (b.length < end) return;
      body = b.subarray(bodyStart, end);
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts: Buffer[] = [];
      let p = bodyStart;
      for (;;) {
        const lineEnd = b.indexOf('\r\n', p);
        if (lineEnd < 0) return;
        const size = parseInt(b.toString('latin1', p, lineEnd), 16);
        if (!Number.isFinite(size)) {
          this.#socket?.destroy(new Error('bad chunk size'));
          return;
        }
        const dataEnd = lineEnd + 2 + size;
        if (b.length < dataEnd + 2) return;
        if (size === 0) {
          end = dataEnd + 2; // no trailers from our server
          break;
        }
        parts.push(b.subarray(lineEnd + 2, dataEnd));
        p = dataEnd + 2;
      }
      body = Buffer.concat(parts);
    } else {
      this.#socket?.destroy(new Error('a response without Content-Length or chunked framing'));
      return;
    }
    this.#buffered = b.length === end ? Buffer.alloc(0) : b.subarray(end);
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.resolve({ status, body }); // a view: received chunks are never reused, only replaced
  }
}
