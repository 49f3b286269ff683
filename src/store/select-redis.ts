import { Redis } from "@upstash/redis/cloudflare";
import type { Config, StoreConfig } from "../config/types";
import { createUpstashLimiters } from "../ratelimit/upstash";
import { createRedisStore } from "./redis";
import type { Backends } from "./select";

/** How long one request to Upstash may take before the store counts as unreachable. */
export const REDIS_TIMEOUT_MS = 2_000;

/**
 * Redis mode: one Upstash client shared by the store and @upstash/ratelimit,
 * auto-pipelined so that they share round trips. This module (and the
 * Upstash packages with it) is loaded only when `SESSION_STORE = "redis"`:
 * a gate on KV or Durable Objects never evaluates them at startup.
 */
export function redisBackends(store: Extract<StoreConfig, { kind: "redis" }>, config: Config): Backends {
  const redis = new Redis({
    url: store.url,
    token: store.token,
    enableAutoPipelining: true,
    // Values are parsed and checked by the store itself (store/record.ts), never trusted as JSON.
    automaticDeserialization: false,
    enableTelemetry: false,
    // An outage answers 503 quickly instead of hanging the request in retries.
    retry: { retries: 1, backoff: () => 50 },
    // A function, not a signal: the client then rejects on timeout (a bare signal makes
    // it invent a 200 "Aborted" answer), and each request gets a fresh timer.
    signal: () => AbortSignal.timeout(REDIS_TIMEOUT_MS),
  });
  return { store: createRedisStore(redis), limits: createUpstashLimiters(redis, config.rateLimits.values()) };
}
