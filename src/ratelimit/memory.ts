import { createBlockedMemory } from "./blocked";
import type { LimiterBackend } from "./types";

/**
 * A fixed-window limiter in memory on an injected clock, for unit tests only.
 * Like the real backends it remembers the keys it refused until their window
 * ends, so `peek` answers as theirs do.
 */
export function createMemoryLimiters(now: () => number = Date.now): LimiterBackend {
  const windows = new Map<string, { count: number; reset: number }>();
  const blocked = createBlockedMemory(now);
  return {
    async limit(limiter, key) {
      const id = `${limiter.name}:${key}`;
      const current = windows.get(id);
      const window = current && current.reset > now() ? current : { count: 0, reset: now() + limiter.period };
      windows.set(id, window);
      window.count += 1;
      const success = window.count <= limiter.limit;
      if (!success) blocked.remember(limiter, key, window.reset);
      return { success, limit: limiter.limit, remaining: Math.max(0, limiter.limit - window.count), resetIn: window.reset - now() };
    },
    peek: blocked.peek,
  };
}
