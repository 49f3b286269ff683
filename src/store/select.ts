import { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config/types";
import type { LimiterBackend } from "../ratelimit/types";
import type { SessionStore } from "./types";
import { createKvStore } from "./kv";
import { createRedisStore } from "./redis";
import { createUpstashLimiters } from "../ratelimit/upstash";
import { createBindingLimiters } from "../ratelimit/binding";

/** How long one request to Upstash may take before the store counts as unreachable. */
export const REDIS_TIMEOUT_MS = 2_000;

/** The session store and the rate limiting backend of one gate. */
export interface Backends {
  store: SessionStore;
  limits: LimiterBackend;
}

/**
 * The session store and the rate limiting backend for the configured store:
 * KV with Workers Rate Limiting bindings, or one Upstash Redis client shared
 * by the store and @upstash/ratelimit, auto-pipelined so that they share round trips.
 */
export function selectBackends(config: Config): Backends {
  const { store } = config;
  if (store.kind === "kv") return { store: createKvStore(store.namespace), limits: createBindingLimiters() };
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
