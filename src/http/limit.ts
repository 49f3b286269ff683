import type { Context } from "hono";
import type { Limiter } from "../config/types";
import { GateError } from "../errors";
import type { Logger } from "../log";
import type { LimiterBackend, LimitVerdict } from "../ratelimit/types";
import type { GateEnv } from "./context";

/** The 429 for a refused verdict, with Retry-After and the RateLimit-* fields (seconds). */
export function rateLimited(verdict: LimitVerdict): GateError {
  const seconds = String(Math.max(1, Math.ceil(verdict.resetIn / 1_000)));
  return new GateError("rate_limited", {
    "Retry-After": seconds,
    "RateLimit-Limit": String(verdict.limit),
    "RateLimit-Remaining": String(Math.max(0, verdict.remaining)),
    "RateLimit-Reset": seconds,
  });
}

/** Checking limiters for keys: see {@link createLimitCheck}. */
export type LimitCheck = ReturnType<typeof createLimitCheck>;

/**
 * Checking one limiter for one key, the way admission needs it: a refusal the
 * backend remembers is answered from memory; otherwise the backend counts the
 * request. A failing backend is logged and, per the limiter's `on_failure`,
 * lets the request through or refuses it.
 */
export function createLimitCheck(backend: LimiterBackend, log: Logger) {
  function refuse(c: Context<GateEnv>, limiter: Limiter, key: string, verdict: LimitVerdict): never {
    log("ratelimit.blocked", { limiter: limiter.name, key: key.slice(0, key.indexOf(":")), ip: c.get("clientIp"), request_id: c.get("requestId") });
    throw rateLimited(verdict);
  }

  /** Throws the 429 when the backend already knows `key` is blocked; costs no round trip. */
  function refuseIfKnown(c: Context<GateEnv>, limiter: Limiter, key: string): void {
    const known = backend.peek(limiter, key);
    if (known) refuse(c, limiter, key, known);
  }

  return {
    refuseIfKnown,

    /** Counts the request against `limiter` for `key`; throws the 429 when it is over. */
    async check(c: Context<GateEnv>, limiter: Limiter, key: string): Promise<void> {
      refuseIfKnown(c, limiter, key);
      let verdict: LimitVerdict;
      try {
        verdict = await backend.limit(limiter, key);
      } catch (error) {
        log("ratelimit.error", { limiter: limiter.name, on_failure: limiter.onFailure, error: String(error), request_id: c.get("requestId") });
        if (limiter.onFailure === "open") return;
        verdict = { success: false, limit: limiter.limit, remaining: 0, resetIn: limiter.period };
      }
      if (!verdict.success) refuse(c, limiter, key, verdict);
    },
  };
}
