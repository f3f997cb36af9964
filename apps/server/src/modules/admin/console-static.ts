/**
 * Serves the built web console (apps/web/dist, made by `npm run build`) at `/console/`, with `/` redirecting
 * there. Client-side routes fall back to index.html. Absent build → the routes are not registered (logged).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** apps/web/dist, from apps/server/src or apps/server/dist alike. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../../web/dist', import.meta.url));

export async function serveConsole(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): Promise<void> {
  if (!existsSync(`${dir}/index.html`)) {
    app.log.info({ dir }, 'console not built (npm run build): /console/ not served');
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/console/',
    index: 'index.html',
    wildcard: false,
    maxAge: 0,
    setHeaders: (res, path) => {
      // Hashed assets are immutable; index.html must always be revalidated.
      void res.header(
        'cache-control',
        /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  app.get('/', { schema: { hide: true } }, (_req, reply) => reply.redirect('/console/'));
  app.get('/console', { schema: { hide: true } }, (_req, reply) => reply.redirect('/console/'));
  // Client-side routes (history mode) get index.html; real files are matched first (registered above).
  app.get('/console/*', { schema: { hide: true } }, (_req, reply) =>
    reply.type('text/html').sendFile('index.html'),
  );
}
