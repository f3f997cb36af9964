/**
 * Coalesced reads: the lookups of concurrent requests queued in one turn of the event loop are answered by one
 * query per group (say one `WHERE app_id = ? AND dedupe_key IN (…)` per application) instead of one query each.
 * The read counterpart of the {@link GroupCommitWriter}: an idle server answers a lone lookup on the next turn.
 * A failed query rejects the lookups of its group only.
 */
export interface BatchLookupOptions<V> {
  /** Keys of one group per call, at most `maxKeys`; returns the found values by key. */
  load(group: string, keys: readonly string[]): Promise<ReadonlyMap<string, V>>;
  /** Largest IN list (default 500). */
  maxKeys?: number;
}

interface Waiting<V> {
  resolve(v: V | undefined): void;
  reject(e: unknown): void;
}

export class BatchLookup<V> {
  readonly #options: BatchLookupOptions<V>;
  /** group → key → waiters */
  #queued = new Map<string, Map<string, Waiting<V>[]>>();
  #scheduled = false;

  constructor(options: BatchLookupOptions<V>) {
    this.#options = options;
  }

  get(group: string, key: string): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      let keys = this.#queued.get(group);
      if (keys === undefined) {
        keys = new Map();
        this.#queued.set(group, keys);
      }
      const waiting = keys.get(key);
      if (waiting === undefined) keys.set(key, [{ resolve, reject }]);
      else waiting.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const queued = this.#queued;
    this.#queued = new Map();
    const max = this.#options.maxKeys ?? 500;
    for (const [group, keys] of queued) {
      const all = [...keys.keys()];
      for (let i = 0; i < all.length; i += max) {
        const chunk = all.slice(i, i + max);
        this.#options.load(group, chunk).then(
          (found) => {
            for (const k of chunk) for (const w of keys.get(k)!) w.resolve(found.get(k));
          },
          (e: unknown) => {
            for (const k of chunk) for (const w of keys.get(k)!) w.reject(e);
          },
        );
      }
    }
  }
}
