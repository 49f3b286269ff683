import type { GatehouseSessions, SessionObjects } from "../store/durable-object";
import { DURABLE_TIMEOUT_MS } from "../store/durable";
import { OBJECT } from "../store/durable-layout";
import { withDeadline } from "../util/deadline";
import type { LimiterBackend } from "./types";
import { createBlockedMemory } from "./blocked";

/**
 * `durable` mode: exact, global limits, each limiter and key (`ip:…`,
 * `sid:…`, `user:…`) counted by an object of its own (`rl:<limiter>:<key>`),
 * with the sliding window of @upstash/ratelimit (store/durable-window.ts), so
 * redis and durable mode refuse the same requests. One object per key spreads
 * the load: only a single client's own traffic meets one object's ~1,000
 * requests per second, and once refused it is answered from this isolate's
 * memory until its window ends, with no call at all. The call is issued in the
 * same tick as the session look-up (http/admit.ts), so it adds no round trip
 * of latency. Windows are numbered on `now`, the Worker's clock, as the
 * library's are; it is a parameter for tests.
 */
export function createDurableLimiters(binding: SessionObjects, now: () => number = Date.now): LimiterBackend {
  const namespace = binding as unknown as DurableObjectNamespace<GatehouseSessions>;
  const blocked = createBlockedMemory(now);
  return {
    async limit(limiter, key) {
      const at = now();
      const stub = namespace.get(namespace.idFromName(OBJECT.limiter(limiter.name, key)));
      const hit = await withDeadline(stub.hit(limiter.limit, limiter.period, at), DURABLE_TIMEOUT_MS, "durable rate limit");
      if (!hit.success) blocked.remember(limiter, key, hit.reset);
      return { success: hit.success, limit: limiter.limit, remaining: hit.remaining, resetIn: hit.reset - at };
    },
    peek: blocked.peek,
  };
}
