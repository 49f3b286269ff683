import type { Limiter } from "../config/types";
import { createLru } from "../util/lru";
import type { LimitVerdict } from "./types";

/** Refused keys remembered per isolate. */
const BLOCKED_CACHE_SIZE = 10_000;

/**
 * What a backend remembers of the keys it refused, until their window ends,
 * so a client that keeps knocking during its `Retry-After` is refused from
 * memory, with no round trip and no store look-up. Both backends keep their
 * own (rather than reading @upstash/ratelimit's private cache key format).
 */
export function createBlockedMemory(now: () => number) {
  const blocked = createLru<string, number>(BLOCKED_CACHE_SIZE);
  return {
    /** Remembers a refusal of `key` by `limiter` until `resetAt` (Unix ms). */
    remember(limiter: Limiter, key: string, resetAt: number): void {
      blocked.set(`${limiter.name}:${key}`, resetAt);
    },
    /** The refusal still in force for `key`, if any. */
    peek(limiter: Limiter, key: string): LimitVerdict | undefined {
      const until = blocked.get(`${limiter.name}:${key}`);
      const time = now();
      return until !== undefined && until > time ? { success: false, limit: limiter.limit, remaining: 0, resetIn: until - time } : undefined;
    },
  };
}
