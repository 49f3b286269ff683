import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Limiter } from "../../src/config/types";
import { createDurableLimiters } from "../../src/ratelimit/durable";
import { createDurableStore } from "../../src/store/durable";
import { T0, cookie, createClock, createTestGate } from "../helpers/gate";
import { countingNamespace, objectError, objects, wrappedNamespace } from "../store/durable-objects";
import { uniqueId } from "../store/fixtures";

const SECOND = 1_000;
let next = 1;
/** A fresh client address per test: limiter objects outlive a test. */
const freshIp = () => `198.20.${Math.floor(next / 250)}.${next++ % 250}`;
const routes = [{ path: "/login", access: "public", rate_limit: "login" }, { path: "/public/*", access: "public" }, { path: "/*" }];
const publicRoutes = [{ path: "/public/*", access: "public" }, { path: "/*" }];

/** A limiter of its own name, so no other test shares its objects. */
const limiterOf = (limit: number, period: number): Limiter => ({
  name: uniqueId("rl").replace(/[^a-z0-9]/gi, "_"),
  limit,
  period,
  key: "ip",
  onFailure: "open",
});

/**
 * @upstash/ratelimit's single-region `slidingWindow` (its Lua script and `limit`), written
 * out as the model: a request is refused when the previous window's count, weighted by the
 * share of it the sliding window still covers and rounded down, plus the current count
 * reaches the limit; a refused request is not counted; `reset` is the current window's end.
 */
function upstashModel(limit: number, period: number) {
  const counts = new Map<number, number>();
  return (now: number) => {
    const slot = Math.floor(now / period);
    const current = counts.get(slot) ?? 0;
    const previous = Math.floor((1 - (now % period) / period) * (counts.get(slot - 1) ?? 0));
    const reset = (slot + 1) * period;
    if (previous + current >= limit) return { success: false, remaining: 0, reset };
    counts.set(slot, current + 1);
    return { success: true, remaining: Math.max(0, limit - (current + 1 + previous)), reset };
  };
}

describe("the durable limiters' sliding window", () => {
  it("counts up to the limit, refuses the next request until the window ends, and says when it ends", async () => {
    const clock = createClock();
    const limits = createDurableLimiters(objects, () => clock.now);
    const limiter = limiterOf(3, 10 * SECOND);
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push(await limits.limit(limiter, "ip:a"));
    expect(verdicts).toEqual([
      { success: true, limit: 3, remaining: 2, resetIn: 10 * SECOND },
      { success: true, limit: 3, remaining: 1, resetIn: 10 * SECOND },
      { success: true, limit: 3, remaining: 0, resetIn: 10 * SECOND },
      { success: false, limit: 3, remaining: 0, resetIn: 10 * SECOND },
    ]);
    clock.advance(4 * SECOND);
    expect(await limits.limit(limiter, "ip:a")).toEqual({ success: false, limit: 3, remaining: 0, resetIn: 6 * SECOND });
  });

  it("weights the previous window by the share the sliding window still covers, and never counts a refused request", async () => {
    const clock = createClock();
    const limits = createDurableLimiters(objects, () => clock.now);
    const limiter = limiterOf(3, 10 * SECOND);
    const results = async (n: number) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push((await limits.limit(limiter, "ip:b")).success);
      return out;
    };
    expect(await results(8)).toEqual([true, true, true, false, false, false, false, false]);
    clock.advance(10 * SECOND + 4 * SECOND); // 40 % into the next window: floor(0.6 × 3) = 1 of the previous counts
    expect(await results(3)).toEqual([true, true, false]);
    clock.advance(3 * SECOND); // 70 %: floor(0.3 × 3) = 0, and 2 in this window
    expect(await results(2)).toEqual([true, false]);
    clock.advance(20 * SECOND); // two windows later nothing counts
    expect(await results(4)).toEqual([true, true, true, false]);
  });

  it("answers exactly as @upstash/ratelimit's sliding window on any sequence of requests", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 4_000 }), { minLength: 1, maxLength: 25 }),
        async (limit, gaps) => {
          const period = 5 * SECOND;
          const limiter = limiterOf(limit, period);
          const model = upstashModel(limit, period);
          let now = T0 + 1_234;
          const limits = createDurableLimiters(objects, () => now);
          for (const gap of gaps) {
            now += gap;
            const { reset, ...expected } = model(now);
            expect(await limits.limit(limiter, "ip:model")).toEqual({ ...expected, limit, resetIn: reset - now });
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("is global: two isolates' limiters share one count", async () => {
    const clock = createClock();
    const [a, b] = [createDurableLimiters(objects, () => clock.now), createDurableLimiters(objects, () => clock.now)];
    const limiter = limiterOf(3, 60 * SECOND);
    const outcomes = [];
    for (const backend of [a, b, a, b, a]) outcomes.push((await backend.limit(limiter, "ip:c")).success);
    expect(outcomes).toEqual([true, true, true, false, false]);
  });

  it("counts each key and each limiter on its own", async () => {
    const clock = createClock();
    const limits = createDurableLimiters(objects, () => clock.now);
    const [one, two] = [limiterOf(1, 60 * SECOND), limiterOf(1, 60 * SECOND)];
    expect((await limits.limit(one, "ip:d")).success).toBe(true);
    expect((await limits.limit(one, "ip:d")).success).toBe(false);
    expect((await limits.limit(one, "ip:e")).success).toBe(true);
    expect((await limits.limit(two, "ip:d")).success).toBe(true);
  });

  it("remembers a refusal until the window ends and answers it from memory, with no call", async () => {
    const clock = createClock();
    const counting = countingNamespace();
    const limits = createDurableLimiters(counting.namespace, () => clock.now);
    const limiter = limiterOf(1, 10 * SECOND);
    await limits.limit(limiter, "ip:f");
    expect(limits.peek(limiter, "ip:f")).toBeUndefined();
    await limits.limit(limiter, "ip:f");
    counting.reset();
    clock.advance(3 * SECOND);
    expect(limits.peek(limiter, "ip:f")).toEqual({ success: false, limit: 1, remaining: 0, resetIn: 7 * SECOND });
    expect(counting.started()).toEqual([]);
    clock.advance(7 * SECOND);
    expect(limits.peek(limiter, "ip:f")).toBeUndefined();
  });
});

describe("rate limits in durable mode", () => {
  const tight = { default: { limit: 3, period: "10s", key: "ip" }, login: { limit: 2, period: "1m", key: "ip" } };

  it("answers 429 at the limit with Retry-After and RateLimit-*, without reaching the origin", async () => {
    const gate = await createTestGate({ store: "durable", gate: { rate_limits: tight, routes } });
    const ip = freshIp();
    for (let i = 0; i < 3; i++) expect((await gate.request("/public/page", { headers: { "CF-Connecting-IP": ip } })).status).toBe(200);
    const blocked = await gate.request("/public/page", { headers: { "CF-Connecting-IP": ip } });
    expect(blocked.status).toBe(429);
    expect(await blocked.json()).toEqual({ error: "rate_limited" });
    expect(Object.fromEntries([...blocked.headers].filter(([name]) => /^(retry-after|ratelimit-)/.test(name)))).toEqual({
      "retry-after": "10",
      "ratelimit-limit": "3",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "10",
    });
    expect(gate.origin.received).toHaveLength(3);
    expect(gate.events("ratelimit.blocked")).toEqual([expect.objectContaining({ limiter: "default", ip })]);
  });

  it("counts each address on its own, ignores forged forwarding headers, and applies a route's limiter on top", async () => {
    const gate = await createTestGate({ store: "durable", gate: { rate_limits: tight, routes } });
    const [a, b, c] = [freshIp(), freshIp(), freshIp()];
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const forged = { "CF-Connecting-IP": a, "X-Forwarded-For": `203.0.113.${i}`, "X-Real-IP": `203.0.113.${i}`, Forwarded: `for=203.0.113.${i}` };
      statuses.push((await gate.request("/public/x", { headers: forged })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await gate.request("/public/x", { headers: { "CF-Connecting-IP": b } })).status).toBe(200);
    const logins = [];
    for (let i = 0; i < 3; i++) logins.push((await gate.request("/login", { headers: { "CF-Connecting-IP": c } })).status);
    expect(logins).toEqual([200, 200, 429]);
    expect(gate.events("ratelimit.blocked").at(-1)).toMatchObject({ limiter: "login" });
  });

  it("is exact across isolates, and lets the client in again as the window slides on", async () => {
    const clock = createClock();
    const [one, two] = [
      await createTestGate({ store: "durable", clock, gate: { rate_limits: tight, routes } }),
      await createTestGate({ store: "durable", clock, gate: { rate_limits: tight, routes } }),
    ];
    const ip = freshIp();
    const send = (gate: typeof one) => gate.request("/public/x", { headers: { "CF-Connecting-IP": ip } });
    const statuses = [];
    for (const gate of [one, two, one, two]) statuses.push((await send(gate)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    clock.advance(20 * SECOND);
    expect((await send(one)).status).toBe(200);
  });

  it("counts a session-keyed limiter per session, whichever isolate serves it", async () => {
    const clock = createClock();
    const perSession = { default: { limit: 2, period: "1m", key: "session" } };
    const [one, two] = [
      await createTestGate({ store: "durable", clock, gate: { rate_limits: perSession } }),
      await createTestGate({ store: "durable", clock, gate: { rate_limits: perSession } }),
    ];
    const token = await one.login(uniqueId("rl-session"), [], { headers: { "CF-Connecting-IP": freshIp() } });
    const statuses = [];
    for (const gate of [one, two, one])
      statuses.push((await gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": freshIp() } })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("fails open by default when the objects cannot be reached, and logs it; fails closed when told to", async () => {
    const down = wrappedNamespace(() => Promise.reject(objectError("Durable Object is overloaded. Too many requests queued.", { overloaded: true })));
    const make = (onFailure: "open" | "closed") =>
      createTestGate({
        store: createDurableStore(objects),
        limits: createDurableLimiters(down),
        env: { SESSION_STORE: "durable" },
        gate: { rate_limits: { default: { limit: 2, period: "1m", key: "ip", on_failure: onFailure } }, routes: publicRoutes },
      });
    const open = await make("open");
    expect((await open.request("/public/x", { headers: { "CF-Connecting-IP": freshIp() } })).status).toBe(200);
    expect(open.events("ratelimit.error")).toEqual([expect.objectContaining({ limiter: "default", on_failure: "open" })]);
    const closed = await make("closed");
    expect((await closed.request("/public/x", { headers: { "CF-Connecting-IP": freshIp() } })).status).toBe(429);
    expect(closed.origin.received).toHaveLength(0);
  });

  it("accepts any period in durable mode, not only the bindings' 10 s and 1 m", async () => {
    const gate = await createTestGate({
      store: "durable",
      gate: { rate_limits: { default: { limit: 1, period: "5m", key: "ip" } }, routes: publicRoutes },
    });
    const ip = freshIp();
    expect((await gate.request("/public/x", { headers: { "CF-Connecting-IP": ip } })).status).toBe(200);
    const blocked = await gate.request("/public/x", { headers: { "CF-Connecting-IP": ip } });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("300");
  });
});
