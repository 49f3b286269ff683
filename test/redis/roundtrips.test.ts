import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";

const limits = { default: { limit: 5, period: "1m", key: "ip" } };
let next = 1;
const freshIp = () => `198.18.0.${next++}`;

/**
 * A Redis-backed gate whose bridge requests can be counted, warmed up so that
 * Redis knows every script (the first EVALSHA of a script Redis has not seen
 * costs one more request, NOSCRIPT then EVAL, once per Redis server).
 */
async function countingGate(gate: Record<string, unknown> = { rate_limits: limits }) {
  const subject = await createTestGate({ store: "redis", gate });
  const headers = () => ({ "CF-Connecting-IP": freshIp() });
  const warm = await subject.login(`rt-warm-${crypto.randomUUID()}`, [], { headers: headers() });
  await subject.request("/dashboard", { headers: { ...cookie(warm), ...headers() } });
  subject.clock.advance(15 * 60_000);
  await subject.request("/dashboard", { headers: { ...cookie(warm), ...headers() } });
  return subject;
}

/** Bridge requests made while `work` runs. */
async function roundTrips(gate: Awaited<ReturnType<typeof countingGate>>, work: () => Promise<unknown>): Promise<number> {
  await gate.redis!.resetStats();
  await work();
  return (await gate.redis!.stats()).requests;
}

describe("store round trips per request (Redis over the Upstash REST API)", () => {
  it("makes exactly one on the hot path: valid session, no rotation due, under the limit", async () => {
    const gate = await countingGate();
    const token = await gate.login("rt-hot", [], { headers: { "CF-Connecting-IP": freshIp() } });
    const ip = freshIp();
    const trips = await roundTrips(gate, async () => {
      const response = await gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": ip } });
      expect(response.status).toBe(200);
    });
    expect(trips).toBe(1);
  });

  it("makes exactly one for a request without a token (the limiter alone)", async () => {
    const gate = await countingGate();
    expect(await roundTrips(gate, () => gate.request("/public/page", { headers: { "CF-Connecting-IP": freshIp() } }))).toBe(1);
  });

  it("makes two when the token is due for rotation: the check, then the rotation", async () => {
    const gate = await countingGate();
    const token = await gate.login("rt-rotate", [], { headers: { "CF-Connecting-IP": freshIp() } });
    gate.clock.advance(15 * 60_000);
    // Fifteen idle minutes also age this isolate's cached assertion keyset past its 5-minute
    // limit; a busy isolate refreshes it in the background. Refresh it first, as traffic would.
    await gate.request("/_gate/jwks.json", { headers: { "CF-Connecting-IP": freshIp() } });
    const ip = freshIp();
    const trips = await roundTrips(gate, async () => {
      const response = await gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": ip } });
      expect(response.headers.getSetCookie()).toHaveLength(1);
    });
    expect(trips).toBe(2);
  });

  it("makes none for a client the limiter already knows is blocked", async () => {
    const gate = await countingGate();
    const token = await gate.login("rt-blocked", [], { headers: { "CF-Connecting-IP": freshIp() } });
    const ip = freshIp();
    for (let i = 0; i < 6; i++) await gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": ip } });
    const trips = await roundTrips(gate, async () => {
      const response = await gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": ip } });
      expect(response.status).toBe(429);
    });
    expect(trips).toBe(0);
  });

  it("makes one for the hot path without any limiter configured", async () => {
    const gate = await countingGate({});
    const token = await gate.login("rt-nolimit");
    expect(await roundTrips(gate, () => gate.request("/dashboard", { headers: cookie(token) }))).toBe(1);
  });
});
