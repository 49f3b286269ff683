import type { MiddlewareHandler } from "hono";
import { setMetric, timing } from "hono/timing";
import type { GateEnv } from "./context";

/**
 * `GATE_DEBUG_TIMING = "1"` (a debugging aid, off by default): every response
 * carries `Server-Timing: gate;dur=<ms>, origin;dur=<ms>`, through Hono's
 * `timing`. `origin` is the time spent waiting for the origin's response
 * headers (`ORIGIN_URL` or the `ORIGIN` service binding; measured in
 * src/proxy/forward.ts); `gate` is the rest of the time between the request
 * reaching the gate and its response leaving it, store round trips included.
 * Both come from `performance.now()`: under workerd (local, `wrangler dev`)
 * that is a wall clock, so at concurrency 1 `gate` is the gate's CPU time plus
 * its store waits (at higher concurrency it also includes other requests'
 * turns on the same thread). On Cloudflare the clock only advances at I/O (a
 * Spectre mitigation), so there `gate` shows the store waits and no CPU time
 * at all. Leave it off in production: it tells clients how long their token
 * took to check.
 */
export function debugTiming(): MiddlewareHandler<GateEnv> {
  const metrics = timing({ total: false, autoEnd: false });
  return async function debugTiming(c, next) {
    if ((c.env as { GATE_DEBUG_TIMING?: unknown } | undefined)?.GATE_DEBUG_TIMING !== "1") return next();
    const start = performance.now();
    await metrics(c as never, async () => {
      await next();
      const origin = c.get("originTime") ?? 0;
      setMetric(c as never, "gate", performance.now() - start - origin, undefined, 3);
      setMetric(c as never, "origin", origin, undefined, 3);
    });
  };
}
