import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger } from './request-logger.js';

/** A pino logger writing its lines (without the time) to an array. */
function capture(level: string): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level, timestamp: false, redact: ['req.headers.authorization'] },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}

const BOOM = new Error('boom');

/** The same calls on a request logger. */
function exercise(log: FastifyBaseLogger): void {
  log.trace('trace line');
  log.debug({ a: 1 }, 'debug line');
  log.info({ code: 'X', status: 400 }, 'request rejected');
  log.warn('warn %s', 'formatted');
  log.error({ err: BOOM }, 'request failed');
  log.info({ req: { headers: { authorization: 'secret' } } }, 'redacted');
  log.child({ sub: 1 }).error('from a grandchild');
  log.fatal('fatal line');
}

describe('request logger: made on first use, writes what the eager child writes', () => {
  for (const level of ['trace', 'info', 'warn', 'error', 'silent']) {
    it(`at level ${level}`, () => {
      const eager = capture(level);
      const lazy = capture(level);
      exercise(eager.logger.child({ reqId: 'req-1' }));
      const child = lazyChildLogger(lazy.logger, { reqId: 'req-1' }, {});
      exercise(child);
      expect(lazy.lines).toEqual(eager.lines);
      expect(child.level).toBe(level);
      // Errors are never lost, whatever the level above them.
      if (level !== 'silent') expect(lazy.lines.some((l) => l.msg === 'request failed')).toBe(true);
    });
  }

  it('makes no child while nothing is logged at an enabled level', () => {
    const { logger, lines } = capture('warn');
    let made = 0;
    const counting = Object.assign(Object.create(logger) as pino.Logger, {
      child: (...args: Parameters<pino.Logger['child']>) => {
        made++;
        return logger.child(...args);
      },
    });
    const child = lazyChildLogger(counting, { reqId: 'r' }, {});
    child.info('not written');
    child.debug('not written');
    expect(made).toBe(0);
    child.warn('written');
    child.error('written');
    expect(made).toBe(1);
    expect(lines.map((l) => l.reqId)).toEqual(['r', 'r']);
  });

  it('a route log level or serializers: the eager child', () => {
    const eager = capture('info');
    const lazy = capture('info');
    exercise(eager.logger.child({ reqId: 'q' }, { level: 'error' }));
    exercise(lazyChildLogger(lazy.logger, { reqId: 'q' }, { level: 'error' }));
    expect(lazy.lines).toEqual(eager.lines);
    expect(lazy.lines.length).toBe(3);
  });
});
