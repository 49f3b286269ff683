import type { Config } from "../config/types";
import type { LimiterBackend } from "../ratelimit/types";
import type { SessionStore } from "./types";
import { createKvStore } from "./kv";
import { createBindingLimiters } from "../ratelimit/binding";
import { createDurableStore } from "./durable";
import { createDurableLimiters } from "../ratelimit/durable";

/** The session store and the rate limiting backend of one gate. */
export interface Backends {
  store: SessionStore;
  limits: LimiterBackend;
}

/**
 * The session store and the rate limiting backend for the configured store:
 * KV with Workers Rate Limiting bindings, Durable Objects for both, or Upstash
 * Redis (src/store/select-redis.ts, loaded only in that mode).
 */
export async function selectBackends(config: Config): Promise<Backends> {
  const { store } = config;
  if (store.kind === "kv") return { store: createKvStore(store.namespace), limits: createBindingLimiters() };
  // Durable Objects: the store and exact global limiters, over the one namespace (store/durable.ts).
  if (store.kind === "durable") return { store: createDurableStore(store.namespace), limits: createDurableLimiters(store.namespace) };
  const { redisBackends } = await import("./select-redis");
  return redisBackends(store, config);
}
