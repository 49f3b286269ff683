import type { MiddlewareHandler } from "hono";
import type { GateEnv } from "./context";

/**
 * Origin time per request id, filled by the `fetch` wrapper below. The gate
 * sends its own `X-Request-Id` with every forwarded request, which is how a
 * subrequest is matched to the request that made it; store subrequests
 * (Upstash) carry no such header and count as the gate's own work.
 */
const originTime = new Map<string, number>();
let fetchWrapped = false;

/** Wraps the global `fetch` once per isolate so origin subrequests are timed. */
function timeOriginFetches(): void {
  if (fetchWrapped) return;
  fetchWrapped = true;
  const original = globalThis.fetch;
  globalThis.fetch = async function timedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const id = input instanceof Request ? input.headers.get("x-request-id") : null;
    if (id === null) return original(input, init);
    const start = performance.now();
    try {
      return await original(input, init);
    } finally {
      originTime.set(id, (originTime.get(id) ?? 0) + performance.now() - start);
    }
  } as typeof fetch;
}

const ms = (value: number) => value.toFixed(3);

/**
 * `GATE_DEBUG_TIMING = "1"` (a debugging aid, off by default): every response
 * carries `Server-Timing: gate;dur=<ms>, origin;dur=<ms>`. `origin` is the time
 * spent waiting for the origin's response headers (`ORIGIN_URL`; a service
 * binding `ORIGIN` is not timed and counts as gate time); `gate` is the rest of
 * the time between the request reaching the gate and its response leaving it,
 * store round trips included. Both come from `performance.now()`: under
 * workerd (local, `wrangler dev`) that is a wall clock, so at concurrency 1
 * `gate` is the gate's CPU time plus its store waits (at higher concurrency it
 * also includes other requests' turns on the same thread). On Cloudflare the
 * clock only advances at I/O (a Spectre mitigation), so there `gate` shows the
 * store waits and no CPU time at all. Leave it off in production: it tells
 * clients how long their token took to check.
 */
export function debugTiming(): MiddlewareHandler<GateEnv> {
  return async function debugTiming(c, next) {
    if ((c.env as { GATE_DEBUG_TIMING?: unknown } | undefined)?.GATE_DEBUG_TIMING !== "1") return next();
    timeOriginFetches();
    const start = performance.now();
    await next();
    const total = performance.now() - start;
    const id = c.get("requestId");
    const origin = (id !== undefined && originTime.get(id)) || 0;
    if (id !== undefined) originTime.delete(id);
    try {
      c.res.headers.append("Server-Timing", `gate;dur=${ms(total - origin)}, origin;dur=${ms(origin)}`);
    } catch {
      // Immutable headers (a 101 passed through untouched): no timing for this one.
    }
  };
}
