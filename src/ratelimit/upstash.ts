import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Limiter } from "../config/types";
import type { LimiterBackend } from "./types";
import { createBlockedMemory } from "./blocked";

/** How long a limiter may take before the request is treated as a limiter failure. */
const TIMEOUT_MS = 1_000;

/**
 * `redis` mode: one @upstash/ratelimit sliding window per limiter, over the
 * same client as the session store, so with auto-pipelining a limiter check
 * and the session look-up share one HTTP request. A blocked client is answered
 * from memory until its window ends, with no round trip at all. The library
 * times windows on the wall clock (its `reset` is a `Date.now()` instant), so
 * `now` must be that clock; it is a parameter for this module's own tests.
 */
export function createUpstashLimiters(redis: Redis, limiters: Iterable<Limiter>, now: () => number = Date.now): LimiterBackend {
  const instances = new Map<string, Ratelimit>();
  for (const limiter of limiters) {
    const window = Ratelimit.slidingWindow(limiter.limit, `${limiter.period / 1_000} s`);
    instances.set(
      limiter.name,
      new Ratelimit({ redis, limiter: window, prefix: `rl:${limiter.name}`, ephemeralCache: false, timeout: TIMEOUT_MS, analytics: false }),
    );
  }
  const blocked = createBlockedMemory(now);
  return {
    async limit(limiter, key) {
      const ratelimit = instances.get(limiter.name);
      if (!ratelimit) throw new Error(`no rate limiter named ${limiter.name}`);
      const result = await ratelimit.limit(key);
      // On timeout the library lets the request pass; that is a failure of the limiter, not a verdict.
      if (result.reason === "timeout") throw new Error(`rate limiter ${limiter.name} timed out`);
      if (!result.success) blocked.remember(limiter, key, result.reset);
      return { success: result.success, limit: result.limit, remaining: result.remaining, resetIn: result.reset - now() };
    },
    peek: blocked.peek,
  };
}
