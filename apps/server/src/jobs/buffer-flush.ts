/** 缓存数据落库: flushes the Redis write buffer to the database (src/buffer), on an interval. */
import type { WriteBuffer } from '../buffer/write-buffer.js';
import type { Job } from './job.js';

export function bufferFlushJob(deps: { buffer: WriteBuffer; everyMs: number }): Job {
  return {
    id: 'buffer-flush',
    description: '缓存数据落库 — flush buffered API logs and statistics from Redis to the database',
    everyMs: deps.everyMs,
    // Not leased: flushes on several servers are safe (offsets advance conditionally), and a lease left by a
    // killed server would hold the flush back until it expired.
    exclusive: false,
    handler: ({ signal }) => deps.buffer.flush({ signal }),
  };
}
