/**
 * Group commit: concurrent writes (evidence records, request nonces, API-log entries) are coalesced into one
 * database transaction. Items queue up; when fewer flushes than `concurrency` (default 1) are running, the next
 * one starts on the following turn of the event loop with everything queued so far (at most `maxItems`); items
 * arriving while the flushes run wait for the next one. So an idle server commits a lone item at once, and a busy
 * one amortises one commit (one fsync, one log append) over many items.
 *
 * Each caller gets its own result. If the batch transaction fails (one item violating a unique index, say), the
 * whole transaction rolls back and every item of the batch is retried on its own, so one bad item never sinks
 * the others and each caller learns its own outcome.
 */
export interface GroupCommitOptions<I, R> {
  /** Largest number of items in one transaction. */
  maxItems: number;
  /** Writes all items in ONE transaction, returning one result per item in order; throws to fall back. */
  writeMany(items: readonly I[]): Promise<R[]>;
  /** Writes one item in its own transaction (the fallback). */
  writeOne(item: I): Promise<R>;
  /** Most items waiting (default 50,000); beyond it submit() rejects with `overloaded()` (back-pressure). */
  maxQueued?: number;
  overloaded?: () => Error;
  /** What is written, for error messages (default "evidence"). */
  name?: string;
  /** Called when a batch falls back to per-item writes (for logging). */
  onFallback?(error: unknown, size: number): void;
  /**
   * Flushes running at once (default 1). More than one only where batches need no order among themselves
   * (each transaction serialises on its own locks, if any): a batch then starts while the one before waits for
   * its commit, instead of after it.
   */
  concurrency?: number;
}

interface Pending<I, R> {
  item: I;
  resolve(r: R): void;
  reject(e: unknown): void;
}

export class GroupCommitWriter<I, R> {
  readonly #options: GroupCommitOptions<I, R>;
  #queue: Pending<I, R>[] = [];
  #running = 0;
  #scheduled = false;
  #idle: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: GroupCommitOptions<I, R>) {
    if (!Number.isInteger(options.maxItems) || options.maxItems < 1)
      throw new RangeError('maxItems must be ≥ 1');
    const c = options.concurrency ?? 1;
    if (!Number.isInteger(c) || c < 1) throw new RangeError('concurrency must be ≥ 1');
    this.#options = options;
  }

  /** Queues one item; resolves with its result once its transaction has committed. */
  submit(item: I): Promise<R> {
    const name = this.#options.name ?? 'evidence';
    if (this.#closed) return Promise.reject(new Error(`the ${name} writer is closed`));
    if (this.#queue.length >= (this.#options.maxQueued ?? 50_000))
      return Promise.reject(this.#options.overloaded?.() ?? new Error(`the ${name} writer is overloaded`));
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Stops accepting items and waits for the queued ones to be written. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#running > 0 || this.#scheduled || this.#queue.length > 0) await this.#idle;
  }

  #schedule(): void {
    const limit = this.#options.concurrency ?? 1;
    if (this.#running >= limit || this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    const previous = this.#idle;
    this.#idle = new Promise<void>((done) => {
      setImmediate(() => {
        this.#scheduled = false;
        const flushed = this.#flush();
        // Another flush may start as soon as this one has taken its batch (up to the limit).
        this.#schedule();
        void Promise.all([flushed, previous]).finally(() => {
          done();
          this.#schedule();
        });
      });
    });
  }

  async #flush(): Promise<void> {
    this.#running++;
    const batch = this.#queue.splice(0, this.#options.maxItems);
    try {
      if (batch.length === 1) {
        await this.#one(batch[0]!);
        return;
      }
      let results: R[];
      try {
        results = await this.#options.writeMany(batch.map((p) => p.item));
      } catch (e) {
        this.#options.onFallback?.(e, batch.length);
        for (const p of batch) await this.#one(p);
        return;
      }
      batch.forEach((p, i) => {
        p.resolve(results[i]!);
      });
    } finally {
      this.#running--;
    }
  }

  async #one(p: Pending<I, R>): Promise<void> {
    try {
      p.resolve(await this.#options.writeOne(p.item));
    } catch (e) {
      p.reject(e);
    }
  }
}
