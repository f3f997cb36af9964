/**
 * The benches' load-generating HTTP client against a real node:http server: Content-Length and chunked bodies,
 * keep-alive reuse, reconnection after `Connection: close`, responses split across reads, and a connection
 * that dies mid-response rejecting the request instead of hanging it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawHttpConnection, serialiseRequest } from './http-client.js';

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('bench HTTP client', () => {
  let server: Server;
  let port = 0;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      void body(req).then((text) => {
        switch (req.url ?? '') {
          case '/echo':
            res
              .writeHead(201, { 'content-type': 'text/plain' })
              .end(`${req.method ?? ''} ${text} ${String(req.headers['x-a'])}`);
            break;
          case '/chunked':
            res.writeHead(200);
            res.write('part one, ');
            setTimeout(() => res.end('part two'), 5);
            break;
          case '/close':
            res.writeHead(200, { connection: 'close', 'content-length': '3' }).end('bye');
            break;
          case '/die':
            res.writeHead(200, { 'content-length': '100' });
            res.write('only a part');
            setTimeout(() => req.socket.destroy(), 5);
            break;
          default:
            res.writeHead(404).end();
        }
      });
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const req = (path: string, text = ''): Buffer =>
    serialiseRequest(`127.0.0.1:${port}`, 'POST', path, { 'x-a': 'yz' }, Buffer.from(text));

  it('reads Content-Length and chunked responses and keeps one connection alive across requests', async () => {
    const c = new RawHttpConnection('127.0.0.1', port);
    const a = await c.request(req('/echo', '病历'));
    expect(a.status).toBe(201);
    expect(a.body.toString('utf8')).toBe('POST 病历 yz');
    const b = await c.request(req('/chunked'));
    expect(b).toMatchObject({ status: 200 });
    expect(b.body.toString()).toBe('part one, part two');
    expect((await c.request(req('/nowhere'))).status).toBe(404);
    expect(sockets.size).toBe(1);
    c.close();
  });

  it('reconnects after Connection: close', async () => {
    const c = new RawHttpConnection('127.0.0.1', port);
    expect((await c.request(req('/close'))).body.toString()).toBe('bye');
    expect((await c.request(req('/echo', 'x'))).body.toString()).toBe('POST x yz');
    c.close();
  });

  it('a connection lost mid-response rejects the request; the next one connects again', async () => {
    const c = new RawHttpConnection('127.0.0.1', port);
    await expect(c.request(req('/die'))).rejects.toThrow(/closed before the response was complete/);
    expect((await c.request(req('/echo', 'again'))).status).toBe(201);
    c.close();
  });

  it('refuses a second request while one is in flight, and header values with CR, LF or beyond ASCII', async () => {
    const c = new RawHttpConnection('127.0.0.1', port);
    const first = c.request(req('/chunked'));
    await expect(c.request(req('/echo'))).rejects.toThrow(/already in flight/);
    await first;
    c.close();
    expect(() => serialiseRequest('h', 'GET', '/', { 'x-b': 'a\r\nx-c: d' }, Buffer.alloc(0))).toThrow(
      /CR or LF/,
    );
    expect(() => serialiseRequest('h', 'GET', '/', { 'x-b': '甲' }, Buffer.alloc(0))).toThrow(
      /printable ASCII/,
    );
  });
});
