/**
 * Request loggers made on first use. Fastify gives every request a pino child logger bound to its request id;
 * making one costs a few µs, and at the levels a busy deployment runs (warn, error) most requests never log. This
 * child factory hands out a stand-in that makes the real child (with the same bindings and options) the first
 * time it logs at an enabled level, or is asked for its level or a child of its own; a call at a disabled level
 * does nothing, as pino's would. What is written is exactly what the eager child would have written.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type LogArgs = Parameters<FastifyBaseLogger['info']>;

/** What the stand-in needs of the parent (pino's `isLevelEnabled`). */
type Parent = FastifyBaseLogger & { isLevelEnabled(level: string): boolean };

function hasLevelCheck(logger: FastifyBaseLogger): logger is Parent {
  return typeof (logger as Partial<Parent>).isLevelEnabled === 'function';
}

class LazyChild {
  #child: FastifyBaseLogger | undefined;
  readonly #parent: Parent;
  readonly #bindings: Bindings;

  constructor(parent: Parent, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #real(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings));
  }

  #log(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: LogArgs): void {
    if (this.#child === undefined && !this.#parent.isLevelEnabled(level)) return;
    this.#real()[level](...args);
  }

  get level(): string {
    return this.#real().level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  fatal(...args: LogArgs): void {
    this.#log('fatal', args);
  }
  error(...args: LogArgs): void {
    this.#log('error', args);
  }
  warn(...args: LogArgs): void {
    this.#log('warn', args);
  }
  info(...args: LogArgs): void {
    this.#log('info', args);
  }
  debug(...args: LogArgs): void {
    this.#log('debug', args);
  }
  trace(...args: LogArgs): void {
    this.#log('trace', args);
  }
  silent(): void {
    // pino's silent level: never writes.
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: a stand-in where the child inherits everything, the eager child otherwise. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (Object.keys(options).length > 0 || !hasLevelCheck(logger)) return logger.child(bindings, options);
  return new LazyChild(logger, bindings);
}
