import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { cookie, createClock, createTestGate } from "../helpers/gate";
import { createBindingLimiters } from "../../src/ratelimit/binding";
import { createKvStore } from "../../src/store/kv";
import type { SessionStore } from "../../src/store/types";

const tight = { default: { limit: 3, period: "10s", key: "ip" }, login: { limit: 2, period: "1m", key: "ip" } };
const bindings = { RATE_LIMIT_DEFAULT: env.RATE_LIMIT_TIGHT, RATE_LIMIT_LOGIN: env.RATE_LIMIT_TIGHT_LOGIN };
const routes = [{ path: "/login", access: "public", rate_limit: "login" }, { path: "/public/*", access: "public" }, { path: "/*" }];
let nextIp = 1;
/** A fresh client address per test: the bindings' counters outlive a test. */
const freshIp = () => `192.0.2.${nextIp++}`;

describe("rate limits in kv mode (Workers Rate Limiting bindings)", () => {
  it("answers 429 with Retry-After and RateLimit-* at the limit, without reaching the origin", async () => {
    const gate = await createTestGate({ gate: { rate_limits: tight, routes }, env: bindings });
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
    expect(blocked.headers.get("x-frame-options")).toBe("DENY");
    expect(gate.origin.received).toHaveLength(3);
    expect(gate.events("ratelimit.blocked")).toEqual([expect.objectContaining({ limiter: "default", ip })]);
  });

  it("counts each client address on its own", async () => {
    const gate = await createTestGate({ gate: { rate_limits: tight, routes }, env: bindings });
    const [a, b] = [freshIp(), freshIp()];
    for (let i = 0; i < 3; i++) await gate.request("/public/x", { headers: { "CF-Connecting-IP": a } });
    expect((await gate.request("/public/x", { headers: { "CF-Connecting-IP": a } })).status).toBe(429);
    expect((await gate.request("/public/x", { headers: { "CF-Connecting-IP": b } })).status).toBe(200);
  });

  it("ignores a forged X-Forwarded-For, X-Real-IP and Forwarded", async () => {
    const gate = await createTestGate({ gate: { rate_limits: tight, routes }, env: bindings });
    const ip = freshIp();
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const forged = {
        "CF-Connecting-IP": ip,
        "X-Forwarded-For": `198.51.100.${i}`,
        "X-Real-IP": `198.51.100.${i}`,
        Forwarded: `for=198.51.100.${i}`,
      };
      statuses.push((await gate.request("/public/x", { headers: forged })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it("applies a route's limiter on top of the default one", async () => {
    const gate = await createTestGate({ gate: { rate_limits: tight, routes }, env: bindings });
    const ip = freshIp();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await gate.request("/login", { headers: { "CF-Connecting-IP": ip } })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(gate.events("ratelimit.blocked")).toEqual([expect.objectContaining({ limiter: "login" })]);
  });

  it("carries a rotated cookie on a 429, so the client keeps its successor", async () => {
    const gate = await createTestGate({ gate: { rate_limits: tight, routes }, env: bindings });
    const ip = freshIp();
    const token = await gate.login("rl-rotate", [], { headers: { "CF-Connecting-IP": freshIp() } });
    for (let i = 0; i < 3; i++) await gate.request("/public/x", { headers: { "CF-Connecting-IP": ip } });
    gate.clock.advance(15 * 60_000);
    const blocked = await gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": ip } });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-session=[A-Za-z0-9_-]{43}; /)]);
  });

  it("refuses to start in kv mode without a limiter's binding, or with a period the bindings cannot count", async () => {
    const { parseConfig } = await import("../../src/config/parse");
    const parsed = parseConfig({ ...env, GATE: { rate_limits: { search: { limit: 5, period: "5m" } } } });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problems).toEqual([
      'GATE.rate_limits.search.period: expected "10s" or "1m" in kv mode (Workers Rate Limiting periods), got "5m"',
      "GATE.rate_limits.search: expected a rate limiting binding named RATE_LIMIT_SEARCH in wrangler.toml ([[ratelimits]]) in kv mode",
    ]);
  });
});

describe("a client the binding has refused", () => {
  it("is refused from memory for its Retry-After, without asking the binding or the store", async () => {
    let lookups = 0;
    const kv = createKvStore(env.SESSIONS);
    const counting: SessionStore = { ...kv, lookup: (hash) => (lookups++, kv.lookup(hash)) };
    const clock = createClock();
    const limits = createBindingLimiters(() => clock.now);
    const gate = await createTestGate({ gate: { rate_limits: tight, routes }, env: bindings, store: counting, limits, clock });
    const token = await gate.login("rl-memory", [], { headers: { "CF-Connecting-IP": freshIp() } });
    const ip = freshIp();
    const send = () => gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": ip } });
    for (let i = 0; i < 4; i++) await send();
    lookups = 0;
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(lookups).toBe(0);
    gate.clock.advance(10_000);
    const later = await send();
    expect(lookups).toBe(1);
    expect([200, 429]).toContain(later.status);
  });
});
