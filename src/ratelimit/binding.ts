import type { Env } from "../config/env";
import type { Limiter } from "../config/types";
import type { LimiterBackend } from "./types";

/**
 * `kv` mode: the Workers Rate Limiting binding `RATE_LIMIT_<NAME>` of each
 * limiter. The binding counts per Cloudflare location, over 10 or 60 s, and
 * only says yes or no: the window's end is not known, so the reset is reported
 * as a full period from now (an upper bound) and `remaining` as 0 when refused.
 */
export function createBindingLimiters(env: Env): LimiterBackend {
  return {
    async limit(limiter, key) {
      const binding = env[`RATE_LIMIT_${limiter.name.toUpperCase()}`] as RateLimit;
      const { success } = await binding.limit({ key });
      return { success, limit: limiter.limit, remaining: success ? limiter.limit : 0, resetIn: limiter.period };
    },
    peek: () => undefined,
  };
}
