/**
 * Helmet's security headers (CSP, HSTS, X-Frame-Options, …) on every response, computed once. `@fastify/helmet`
 * rebuilds its middleware from the options on every request (parsing the CSP directives each time, two hooks,
 * a closure per reply); our options are static, so the headers are too: this plugin asks `@fastify/helmet` for
 * them once, on a throwaway instance, and sets the same names and values (same spelling, same order) on the raw
 * response in one `onRequest` hook, where helmet set them. Routes that set one of these headers themselves
 * (the docs UI's own CSP) override it as they did under helmet.
 *
 * Only static options are accepted: a CSP directive computed per request (a function, or nonces) is refused at
 * startup, since one precomputed value could not follow it.
 */
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export type SecurityHeaders = readonly (readonly [name: string, value: string | string[]])[];

function assertStatic(options: FastifyHelmetOptions): void {
  if (options.enableCSPNonces === true) throw new Error('security headers: CSP nonces are per request');
  const csp = options.contentSecurityPolicy;
  const directives = typeof csp === 'object' ? (csp.directives ?? {}) : {};
  for (const [name, value] of Object.entries(directives))
    if (typeof value === 'function' || (Array.isArray(value) && value.some((v) => typeof v !== 'string')))
      throw new Error(`security headers: the CSP directive ${name} is computed per request`);
}

/** The headers `@fastify/helmet` sets with these options, in the order it sets them (original spelling). */
export async function helmetHeaders(options: FastifyHelmetOptions): Promise<SecurityHeaders> {
  assertStatic(options);
  const probe = Fastify({ logger: false });
  try {
    await probe.register(helmet, { ...options, global: true });
    let captured: SecurityHeaders = [];
    probe.get('/', (_request, reply) => {
      // Before the reply is written, the raw response holds exactly what helmet's hooks set on it.
      // getRawHeaderNames (Node ≥ 15.1) keeps the spelling; @types/node 20 does not declare it.
      const raw = reply.raw as typeof reply.raw & { getRawHeaderNames(): string[] };
      captured = raw.getRawHeaderNames().map((name) => {
        const v = raw.getHeader(name);
        return [name, Array.isArray(v) ? [...v] : String(v)] as const;
      });
      return '';
    });
    const res = await probe.inject('/');
    if (res.statusCode !== 200) throw new Error(`security headers: probe answered ${res.statusCode}`);
    return captured;
  } finally {
    await probe.close();
  }
}

function securityHeadersPlugin(
  app: FastifyInstance,
  options: { helmet: FastifyHelmetOptions },
): Promise<void> {
  return helmetHeaders(options.helmet).then((headers) => {
    const names = headers.map(([n]) => n);
    const values = headers.map(([, v]) => v);
    app.addHook('onRequest', (_request, reply, done) => {
      const raw = reply.raw;
      for (let i = 0; i < names.length; i++) raw.setHeader(names[i]!, values[i]!);
      done();
    });
  });
}

export default fp(securityHeadersPlugin, { name: 'yizheng-security-headers', fastify: '5.x' });
