import { describe, expect, it } from "vitest";
import { createDurableLimiters } from "../../src/ratelimit/durable";
import { createDurableStore } from "../../src/store/durable";
import { cookie, createClock, createTestGate, tokenFrom } from "../helpers/gate";
import { countingNamespace } from "./durable-objects";

const limits = { default: { limit: 5, period: "1m", key: "ip" } };
let next = 1;
const freshIp = () => `198.21.${Math.floor(next / 250)}.${next++ % 250}`;

/**
 * A durable gate whose calls to the objects are recorded (what the Worker sends; the
 * objects' own calls among themselves are not seen), warmed up as roundtrips.test.ts
 * warms the Redis gate: the assertion keyset is read once per isolate, then cached.
 */
async function countingGate(gate: Record<string, unknown> = { rate_limits: limits }) {
  const clock = createClock();
  const counting = countingNamespace();
  const subject = await createTestGate({
    clock,
    env: { SESSION_STORE: "durable" },
    store: createDurableStore(counting.namespace),
    limits: createDurableLimiters(counting.namespace, () => clock.now),
    gate,
  });
  const warm = await subject.login(`dc-warm-${crypto.randomUUID()}`, [], { headers: { "CF-Connecting-IP": freshIp() } });
  await subject.request("/dashboard", { headers: { ...cookie(warm), "CF-Connecting-IP": freshIp() } });
  /** The calls `work` makes, as `role.method`, in the order they started. */
  async function calls(work: () => Promise<unknown>): Promise<string[]> {
    counting.reset();
    await work();
    return counting.started();
  }
  return Object.assign(subject, { calls, counting });
}

describe("Durable Object calls per request", () => {
  it("makes one session call on the hot path, issued with the limiter's in the same tick", async () => {
    const gate = await countingGate();
    const token = await gate.login("dc-hot", [], { headers: { "CF-Connecting-IP": freshIp() } });
    const ip = freshIp();
    const calls = await gate.calls(async () => {
      expect((await gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": ip } })).status).toBe(200);
    });
    expect(calls.sort()).toEqual(["rl.hit", "usr.lookup"]);
    // Both calls were on their way before either answered: one round trip of latency, not two.
    const phases = gate.counting.calls.map((c) => c.phase);
    expect(phases.slice(0, 2)).toEqual(["start", "start"]);
  });

  it("makes one call on the hot path without any limiter", async () => {
    const gate = await countingGate({});
    const token = await gate.login("dc-nolimit");
    expect(await gate.calls(() => gate.request("/dashboard", { headers: cookie(token) }))).toEqual(["usr.lookup"]);
  });

  it("makes one call for a token another isolate issued: its directory shard forwards to the user object", async () => {
    const clock = createClock();
    const issuer = await createTestGate({ clock, store: "durable" });
    const gate = await countingGate({});
    const token = await issuer.login("dc-elsewhere");
    expect(await gate.calls(() => gate.request("/dashboard", { headers: cookie(token) }))).toEqual(["dir.resolve"]);
    expect(await gate.calls(() => gate.request("/dashboard", { headers: cookie(token) }))).toEqual(["usr.lookup"]);
  });

  it("makes none for a client the limiter already refused", async () => {
    const gate = await countingGate();
    const token = await gate.login("dc-blocked", [], { headers: { "CF-Connecting-IP": freshIp() } });
    const ip = freshIp();
    for (let i = 0; i < 6; i++) await gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": ip } });
    const calls = await gate.calls(async () => {
      expect((await gate.request("/dashboard", { headers: { ...cookie(token), "CF-Connecting-IP": ip } })).status).toBe(429);
    });
    expect(calls).toEqual([]);
  });

  it("makes two for a rotation: the look-up, then the compare-and-set", async () => {
    const gate = await countingGate({});
    const token = await gate.login("dc-rotate");
    gate.clock.advance(15 * 60_000);
    await gate.request("/_gate/jwks.json"); // refreshes the cached keyset, which fifteen minutes aged
    const calls = await gate.calls(async () => {
      expect(tokenFrom(await gate.request("/dashboard", { headers: cookie(token) }))).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });
    expect(calls).toEqual(["usr.lookup", "usr.rotate"]);
  });

  it("makes two for a login (the manager lists the user's sessions for max_per_user first), three when one is evicted", async () => {
    const gate = await countingGate({ session: { max_per_user: 2 } });
    expect(await gate.calls(() => gate.login("dc-login"))).toEqual(["usr.list", "usr.create"]);
    const second = await gate.login("dc-login");
    expect(await gate.calls(() => gate.login("dc-login"))).toEqual(["usr.list", "usr.revoke", "usr.create"]);
    expect(await gate.calls(() => gate.request("/_gate/sessions", { headers: cookie(second) }))).toEqual(["usr.lookup", "usr.list"]);
  });

  it("makes one to end all of a user's sessions, however many, after the one that lists them", async () => {
    const gate = await countingGate({});
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) tokens.push(await gate.login("dc-everywhere"));
    gate.origin.reply(() => new Response(null, { status: 204, headers: { "X-Gate-Logout": "user" } }));
    const calls = await gate.calls(() =>
      gate.request("/settings/logout-everywhere", { method: "POST", headers: { ...cookie(tokens[0]), "Sec-Fetch-Site": "same-origin" } }),
    );
    expect(calls).toEqual(["usr.lookup", "usr.list", "usr.revoke"]);
    gate.origin.reply((_r, seen) => Response.json(seen));
    for (const token of tokens) expect((await gate.request("/api/me", { headers: cookie(token) })).status).toBe(401);
  });
});
