import { describe, expect, it } from "vitest";
import { createTestGate } from "../helpers/gate";

const routes = [{ path: "/public/*", access: "public" }, { path: "/*" }];
let next = 1;
const freshIp = () => `198.19.${Math.floor(next / 250)}.${next++ % 250}`;

describe("rate limits in redis mode (@upstash/ratelimit over the REST bridge)", () => {
  it("answers 429 at the limit with Retry-After and RateLimit-*, and lets the client in again after the window", async () => {
    const gate = await createTestGate({ store: "redis", gate: { rate_limits: { default: { limit: 3, period: "2s", key: "ip" } }, routes } });
    const ip = freshIp();
    const send = () => gate.request("/public/x", { headers: { "CF-Connecting-IP": ip } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send()).status);
    const blocked = await send();
    expect([...statuses, blocked.status]).toEqual([200, 200, 200, 429]);
    expect(await blocked.json()).toEqual({ error: "rate_limited" });
    const retryAfter = Number(blocked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(blocked.headers.get("ratelimit-limit")).toBe("3");
    expect(blocked.headers.get("ratelimit-remaining")).toBe("0");
    expect(blocked.headers.get("ratelimit-reset")).toBe(String(retryAfter));
    expect(gate.origin.received).toHaveLength(3);
    // A sliding window: after two full windows nothing of the burst counts any more.
    await new Promise((resolve) => setTimeout(resolve, 4_100));
    expect((await send()).status).toBe(200);
  });

  it("counts each client address on its own and ignores forged forwarding headers", async () => {
    const gate = await createTestGate({ store: "redis", gate: { rate_limits: { default: { limit: 2, period: "1m", key: "ip" } }, routes } });
    const [a, b] = [freshIp(), freshIp()];
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const forged = { "CF-Connecting-IP": a, "X-Forwarded-For": `203.0.113.${i}`, "X-Real-IP": `203.0.113.${i}`, Forwarded: `for=203.0.113.${i}` };
      statuses.push((await gate.request("/public/x", { headers: forged })).status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect((await gate.request("/public/x", { headers: { "CF-Connecting-IP": b } })).status).toBe(200);
  });

  it("fails open by default when Redis cannot be reached, and logs it", async () => {
    const gate = await createTestGate({ store: "redis", gate: { rate_limits: { default: { limit: 2, period: "1m", key: "ip" } }, routes } });
    await gate.redis!.mode("http500");
    const response = await gate.request("/public/x", { headers: { "CF-Connecting-IP": freshIp() } });
    expect(response.status).toBe(200);
    expect(gate.events("ratelimit.error")).toEqual([expect.objectContaining({ limiter: "default", on_failure: "open" })]);
  });

  it("fails closed when told to", async () => {
    const gate = await createTestGate({
      store: "redis",
      gate: { rate_limits: { default: { limit: 2, period: "1m", key: "ip", on_failure: "closed" } }, routes },
    });
    await gate.redis!.mode("http500");
    const response = await gate.request("/public/x", { headers: { "CF-Connecting-IP": freshIp() } });
    expect(response.status).toBe(429);
    expect(gate.origin.received).toHaveLength(0);
  });
});
