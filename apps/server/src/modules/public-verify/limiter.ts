/**
 * A fixed-window request limit per client address for the public routes (no login, so no account to charge):
 * at most `max` requests a minute per address; at most `maxClients` addresses tracked (the oldest window is
 * dropped first), so a flood of addresses cannot grow memory.
 */
export interface PublicLimiter {
  /** Counts a request; false when over the limit. */
  take(client: string, now: number): boolean;
}

export function createLimiter(max: number, maxClients = 10_000, windowMs = 60_000): PublicLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(client, now) {
      let w = windows.get(client);
      if (w === undefined || now - w.start >= windowMs) {
        if (w !== undefined) windows.delete(client);
        while (windows.size >= maxClients) {
          const oldest = windows.keys().next();
          if (oldest.done) break;
          windows.delete(oldest.value);
        }
        w = { start: now, count: 0 };
        windows.set(client, w);
      }
      w.count++;
      return w.count <= max;
    },
  };
}
