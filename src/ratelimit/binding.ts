import type { LimiterBackend } from "./types";
import { createBlockedMemory } from "./blocked";

/**
 * `kv` mode: the Workers Rate Limiting binding `RATE_LIMIT_<NAME>` of each
 * limiter (checked by the config parser and kept on the limiter). The binding
 * counts per Cloudflare location, over 10 or 60 s, and only says yes or no:
 * the window's end is not known, so the reset is reported as a full period
 * from now (an upper bound) and `remaining` as 0 when refused. A refusal is
 * remembered until that announced reset.
 */
export function createBindingLimiters(now: () => number = Date.now): LimiterBackend {
  const blocked = createBlockedMemory(now);
  return {
    async limit(limiter, key) {
      if (!limiter.binding) throw new Error(`rate limiter ${limiter.name} has no binding`);
      const { success } = await limiter.binding.limit({ key });
      if (!success) blocked.remember(limiter, key, now() + limiter.period);
      return { success, limit: limiter.limit, remaining: success ? limiter.limit : 0, resetIn: limiter.period };
    },
    peek: blocked.peek,
  };
}
