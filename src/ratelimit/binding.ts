import type { Env } from "../config/env";
import type { Limiter } from "../config/types";
import type { LimiterBackend } from "./types";
import { createLru } from "../util/lru";

/** Refused keys remembered per isolate. */
const BLOCKED_CACHE_SIZE = 10_000;

/**
 * `kv` mode: the Workers Rate Limiting binding `RATE_LIMIT_<NAME>` of each
 * limiter. The binding counts per Cloudflare location, over 10 or 60 s, and
 * only says yes or no: the window's end is not known, so the reset is reported
 * as a full period from now (an upper bound) and `remaining` as 0 when refused.
 *
 * A refusal is remembered until that announced reset, so a client that keeps
 * knocking during its `Retry-After` is refused from memory, with no binding
 * call and no store look-up, as @upstash/ratelimit's ephemeral cache does.
 */
export function createBindingLimiters(env: Env, now: () => number = Date.now): LimiterBackend {
  const blocked = createLru<string, number>(BLOCKED_CACHE_SIZE);
  return {
    async limit(limiter, key) {
      const binding = env[`RATE_LIMIT_${limiter.name.toUpperCase()}`] as RateLimit;
      const { success } = await binding.limit({ key });
      if (!success) blocked.set(`${limiter.name}:${key}`, now() + limiter.period);
      return { success, limit: limiter.limit, remaining: success ? limiter.limit : 0, resetIn: limiter.period };
    },
    peek(limiter, key) {
      const until = blocked.get(`${limiter.name}:${key}`);
      return until !== undefined && until > now() ? { success: false, limit: limiter.limit, remaining: 0, resetIn: until - now() } : undefined;
    },
  };
}
