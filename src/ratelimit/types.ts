import type { Limiter } from "../config/types";

/**
 * A limiter's answer for one key. `resetIn` is the time until the window
 * ends, in ms, measured on the backend's own clock.
 */
export interface LimitVerdict {
  success: boolean;
  limit: number;
  remaining: number;
  resetIn: number;
}

/**
 * What a rate limiting backend offers: `limit` counts one request and answers;
 * `peek` answers from memory alone, without a round trip, when the backend
 * already knows the key is blocked (and `undefined` otherwise).
 */
export interface LimiterBackend {
  limit(limiter: Limiter, key: string): Promise<LimitVerdict>;
  peek(limiter: Limiter, key: string): LimitVerdict | undefined;
}
