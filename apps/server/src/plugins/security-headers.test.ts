import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import securityHeaders, { helmetHeaders } from './security-headers.js';

/** The server's options (app.ts) and a few others. */
const CASES: readonly FastifyHelmetOptions[] = [
  { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } },
  {},
  { contentSecurityPolicy: false, hsts: { maxAge: 60 }, frameguard: { action: 'deny' } },
];

async function server(register: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await register(app);
  app.get('/ok', () => ({ ok: true }));
  app.get('/own-csp', (_req, reply) =>
    reply.header('content-security-policy', "default-src 'none'").send('x'),
  );
  app.get('/boom', () => {
    throw new Error('boom');
  });
  await app.ready();
  return app;
}

const headersOf = async (app: FastifyInstance, url: string) => {
  const r = await app.inject(url);
  const rest = { ...r.headers };
  delete rest.date;
  return { status: r.statusCode, names: Object.keys(rest), headers: rest };
};

describe('security headers: the same as @fastify/helmet, computed once', () => {
  const apps: FastifyInstance[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });

  for (const [i, options] of CASES.entries()) {
    it(`case ${i}: every response carries helmet's headers, in helmet's order`, async () => {
      const withHelmet = await server(async (app) => {
        await app.register(helmet, { ...options, global: true });
      });
      const ours = await server(async (app) => {
        await app.register(securityHeaders as FastifyPluginAsync<{ helmet: FastifyHelmetOptions }>, {
          helmet: options,
        });
      });
      apps.push(withHelmet, ours);
      for (const url of ['/ok', '/own-csp', '/boom', '/missing']) {
        const expected = await headersOf(withHelmet, url);
        expect(expected.names.length).toBeGreaterThan(3);
        expect(await headersOf(ours, url)).toEqual(expected);
      }
    });
  }

  it('keeps the spelling helmet uses', async () => {
    const names = (await helmetHeaders(CASES[0]!)).map(([n]) => n);
    expect(names).toContain('Content-Security-Policy');
    expect(names).toContain('Strict-Transport-Security');
  });

  it('refuses options that vary per request', async () => {
    await expect(helmetHeaders({ enableCSPNonces: true })).rejects.toThrow(/per request/);
    await expect(
      helmetHeaders({
        contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-x'"] } },
      }),
    ).rejects.toThrow(/per request/);
  });
});
