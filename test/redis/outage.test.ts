import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";

const limits = { rate_limits: { default: { limit: 100, period: "1m", key: "ip" } } };

/** What every session-route request must look like while the store is down. */
async function expectUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(await response.json()).toEqual({ error: "unavailable" });
  expect(response.headers.get("retry-after")).toBe("5");
  expect(response.headers.getSetCookie()).toEqual([]);
}

describe("a Redis outage", () => {
  it("answers 503 on session routes, keeps the cookie, serves public routes, and recovers when Redis returns", async () => {
    const gate = await createTestGate({ store: "redis", redisOutagePair: true, gate: limits });
    const token = await gate.login("outage-user");
    await gate.redis!.redisServer("stop");
    try {
      await expectUnavailable(await gate.request("/dashboard", { headers: cookie(token) }));
      await expectUnavailable(await gate.request("/api/data", { headers: { Authorization: `Bearer ${token}` } }));
      const navigation = await gate.request("/dashboard", { headers: { ...cookie(token), Accept: "text/html" } });
      expect(navigation.status).toBe(503);
      const before = gate.origin.received.length;
      const publicPage = await gate.request("/public/page", { headers: cookie(token) });
      expect(publicPage.status).toBe(200);
      expect(gate.origin.received).toHaveLength(before + 1);
      expect(gate.origin.last().headers["x-gate-user"]).toBeUndefined();
      expect(publicPage.headers.getSetCookie()).toEqual([]);
      const health = await gate.request("/_gate/health");
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: "unavailable" });
      expect(gate.events("store.error").length).toBeGreaterThan(0);
    } finally {
      await gate.redis!.redisServer("start");
    }
    expect((await gate.request("/_gate/health")).status).toBe(200);
    // The throwaway redis-server comes back empty (no persistence): a new login works at once.
    const fresh = await gate.login("outage-user-after");
    expect((await gate.request("/dashboard", { headers: cookie(fresh) })).status).toBe(200);
  });

  it.each([
    ["answers HTTP 500", "http500"],
    ["answers garbage instead of JSON", "garbage"],
    ["does not answer at all", "hang"],
  ] as const)(
    "treats a bridge that %s as an outage, and recovers",
    async (_, mode) => {
      const gate = await createTestGate({ store: "redis", gate: limits });
      const token = await gate.login(`outage-${mode}`);
      await gate.redis!.mode(mode);
      await expectUnavailable(await gate.request("/dashboard", { headers: cookie(token) }));
      expect((await gate.request("/public/page")).status).toBe(200);
      expect((await gate.request("/_gate/health")).status).toBe(503);
      await gate.redis!.mode("normal");
      expect((await gate.request("/dashboard", { headers: cookie(token) })).status).toBe(200);
      expect((await gate.request("/_gate/health")).status).toBe(200);
    },
    20_000,
  );

  it("refuses a logout it cannot carry out with 503, keeping the cookie, and logs the user out once the store is back", async () => {
    const gate = await createTestGate({ store: "redis", gate: limits });
    const token = await gate.login("outage-logout");
    await gate.redis!.mode("http500");
    const headers = { ...cookie(token), "Sec-Fetch-Site": "same-origin" };
    const forms: Record<string, string>[] = [{}, { "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Mode": "navigate" }];
    for (const extra of forms) {
      const refused = await gate.request("/_gate/logout", { method: "POST", headers: { ...headers, ...extra } });
      expect(refused.status).toBe(503);
      expect(refused.headers.getSetCookie()).toEqual([]);
      expect(refused.headers.get("clear-site-data")).toBeNull();
    }
    await gate.redis!.mode("normal");
    expect((await gate.request("/dashboard", { headers: cookie(token) })).status).toBe(200); // nothing was half done
    expect((await gate.request("/_gate/logout", { method: "POST", headers })).status).toBe(204);
    expect((await gate.request("/dashboard", { headers: cookie(token) })).status).toBe(401);
  });
});
