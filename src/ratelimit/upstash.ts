import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Limiter } from "../config/types";
import type { LimiterBackend, LimitVerdict } from "./types";

/** How long a limiter may take before the request is treated as a limiter failure. */
const TIMEOUT_MS = 1_000;

/**
 * `redis` mode: one @upstash/ratelimit sliding window per limiter, over the
 * same client as the session store, so with auto-pipelining a limiter check
 * and the session look-up share one HTTP request. Each limiter keeps the
 * library's ephemeral cache of blocked keys: a blocked client is answered
 * from memory, with no round trip at all.
 */
export function createUpstashLimiters(redis: Redis, limiters: Iterable<Limiter>): LimiterBackend {
  const instances = new Map<string, { ratelimit: Ratelimit; blocked: Map<string, number>; prefix: string }>();
  for (const limiter of limiters) {
    const blocked = new Map<string, number>();
    const prefix = `rl:${limiter.name}`;
    const ratelimit = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(limiter.limit, `${limiter.period / 1_000} s`),
      prefix,
      ephemeralCache: blocked,
      timeout: TIMEOUT_MS,
      analytics: false,
    });
    instances.set(limiter.name, { ratelimit, blocked, prefix });
  }
  const instance = (limiter: Limiter) => {
    const found = instances.get(limiter.name);
    if (!found) throw new Error(`no rate limiter named ${limiter.name}`);
    return found;
  };
  return {
    async limit(limiter, key) {
      const result = await instance(limiter).ratelimit.limit(key);
      // On timeout the library lets the request pass; that is a failure of the limiter, not a verdict.
      if (result.reason === "timeout") throw new Error(`rate limiter ${limiter.name} timed out`);
      return { success: result.success, limit: result.limit, remaining: result.remaining, resetIn: result.reset - Date.now() };
    },
    peek(limiter, key): LimitVerdict | undefined {
      // The library keys its ephemeral cache as `<prefix>:<identifier>`, holding the window's end.
      const { blocked, prefix } = instance(limiter);
      const reset = blocked.get(`${prefix}:${key}`);
      return reset !== undefined && reset > Date.now() ? { success: false, limit: limiter.limit, remaining: 0, resetIn: reset - Date.now() } : undefined;
    },
  };
}
