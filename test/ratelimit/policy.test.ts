import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import { createMemoryLimiters } from "../../src/ratelimit/memory";
import type { LimiterBackend } from "../../src/ratelimit/types";

const routes = (limited: boolean) => [
  { path: "/login", access: "public" },
  { path: "/public/*", access: "public" },
  { path: "/api/*", ...(limited ? { rate_limit: "api" } : {}) },
  { path: "/*" },
];
const failing: LimiterBackend = { limit: () => Promise.reject(new Error("limiter backend down")), peek: () => undefined };

/** A gate on the in-memory store and limiters, which follow the test clock. */
async function gateWith(rateLimits: Record<string, unknown>, limits?: LimiterBackend) {
  return createTestGate({
    store: "memory",
    gate: { rate_limits: rateLimits, routes: routes("api" in rateLimits) },
    env: { SESSION_STORE: "redis", UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1", UPSTASH_REDIS_REST_TOKEN: "unused" },
    limits,
  });
}

describe("rate limit policy", () => {
  it("lets a client through again once the window has passed", async () => {
    const gate = await gateWith({ default: { limit: 2, period: "1m", key: "ip" } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await gate.request("/public/x")).status);
    expect(statuses).toEqual([200, 200, 429]);
    gate.clock.advance(60_000);
    expect((await gate.request("/public/x")).status).toBe(200);
  });

  it("counts refused tokens in failed_auth and answers 429 past its limit", async () => {
    const gate = await gateWith({ failed_auth: { limit: 2, period: "10m", key: "ip" } });
    const guess = (n: number) => cookie(String(n).padStart(43, "A"));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await gate.request("/api/x", { headers: guess(i) })).status);
    expect(statuses).toEqual([401, 401, 429]);
    expect(gate.origin.received).toHaveLength(0);
    expect((await gate.request("/public/x")).status).toBe(200);
  });

  it("keys a session limiter by session and a user limiter by user", async () => {
    const gate = await gateWith({ api: { limit: 2, period: "1m", key: "user" } });
    const laptop = await gate.login("rl-user");
    const phone = await gate.login("rl-user");
    const other = await gate.login("rl-other");
    const statuses = [laptop, phone, laptop].map((token) => gate.request("/api/x", { headers: cookie(token) }).then((r) => r.status));
    expect(await Promise.all(statuses)).toEqual([200, 200, 429]);
    expect((await gate.request("/api/x", { headers: cookie(other) })).status).toBe(200);

    const perSession = await gateWith({ api: { limit: 1, period: "1m", key: "session" } });
    const a = await perSession.login("rl-sess");
    const b = await perSession.login("rl-sess");
    expect((await perSession.request("/api/x", { headers: cookie(a) })).status).toBe(200);
    expect((await perSession.request("/api/x", { headers: cookie(b) })).status).toBe(200);
    expect((await perSession.request("/api/x", { headers: cookie(a) })).status).toBe(429);
  });

  it("fails open when told to, and logs the failure", async () => {
    const gate = await gateWith({ default: { limit: 1, period: "1m", key: "ip", on_failure: "open" } }, failing);
    expect((await gate.request("/public/x")).status).toBe(200);
    expect(gate.events("ratelimit.error")).toEqual([expect.objectContaining({ limiter: "default", on_failure: "open" })]);
  });

  it("fails closed when told to", async () => {
    const gate = await gateWith({ default: { limit: 1, period: "1m", key: "ip", on_failure: "closed" } }, failing);
    const response = await gate.request("/public/x");
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("60");
    expect(gate.origin.received).toHaveLength(0);
    expect(gate.events("ratelimit.error")).toEqual([expect.objectContaining({ on_failure: "closed" })]);
  });

  it("refuses a client the limiter already knows is blocked without asking the store", async () => {
    let asked = 0;
    const memory = createMemoryLimiters();
    const knowing: LimiterBackend = {
      limit: (limiter, key) => (asked++, memory.limit(limiter, key)),
      peek: (limiter) => ({ success: false, limit: limiter.limit, remaining: 0, resetIn: 5_000 }),
    };
    const gate = await gateWith({ default: { limit: 1, period: "1m", key: "ip" } }, knowing);
    const response = await gate.request("/public/x");
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(asked).toBe(0);
  });
});
