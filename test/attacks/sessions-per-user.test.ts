import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, cookie, createTestGate } from "../helpers/gate";
import { createKvStore } from "../../src/store/kv";

/** Real KV behind a counter of every operation a Worker pays for. */
function countingKv() {
  const counts = { get: 0, put: 0, delete: 0, list: 0 };
  const kv = env.SESSIONS;
  const namespace = new Proxy(kv, {
    get(target, name: keyof typeof counts) {
      const real = Reflect.get(target, name) as (...args: unknown[]) => unknown;
      if (!(name in counts) || typeof real !== "function") return real;
      return (...args: unknown[]) => {
        counts[name] += Array.isArray(args[0]) ? (args[0] as unknown[]).length : 1;
        return real.apply(target, args);
      };
    },
  });
  return {
    namespace,
    counts,
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    reset: () => Object.assign(counts, { get: 0, put: 0, delete: 0, list: 0 }),
  };
}

describe("sessions per user", () => {
  it("ends the least recently used session when a login would pass max_per_user, and says so", async () => {
    const gate = await createTestGate({ gate: { session: { max_per_user: 3 } } });
    const tokens = [];
    for (let i = 0; i < 3; i++) {
      tokens.push(await gate.login("busy-user"));
      gate.clock.advance(60_000);
    }
    // The first session is used again: the second is now the least recently used.
    expect((await gate.request("/dashboard", { headers: cookie(tokens[0]) })).status).toBe(200);
    gate.clock.advance(60_000);
    const fourth = await gate.login("busy-user");
    const statuses = await Promise.all(
      [...tokens, fourth].map(async (t) => (await gate.request("/dashboard", { headers: { ...cookie(t), Accept: "application/json" } })).status),
    );
    expect(statuses).toEqual([200, 401, 200, 200]);
    expect(gate.events("session.evicted")).toEqual([expect.objectContaining({ sub: "busy-user", reason: "max_per_user" })]);
  });

  it("defaults to 50, and refuses a max_per_user that is not a whole number from 1 to 1000", async () => {
    expect((await createTestGate()).config.session.maxPerUser).toBe(50);
    for (const bad of [0, -1, 1001, 2.5, "50"]) {
      await expect(createTestGate({ gate: { session: { max_per_user: bad } } })).rejects.toThrow(
        /GATE\.session\.max_per_user: expected a whole number from 1 to 1000/,
      );
    }
  });

  it("lists and ends 50 sessions of one user within a Worker's limits, counting every KV operation", async () => {
    const kv = countingKv();
    const gate = await createTestGate({ store: createKvStore(kv.namespace) });
    const headers = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    for (let i = 0; i < 50; i++) {
      await gate.request("/_gate/admin/sessions", {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify({ sub: "many" }),
      });
    }
    kv.reset();
    const listed = await gate.request("/_gate/admin/users/many/sessions", { headers });
    expect(((await listed.json()) as { sessions: unknown[] }).sessions).toHaveLength(50);
    const listing = kv.total();
    kv.reset();
    const ended = await gate.request("/_gate/admin/users/many/sessions", { method: "DELETE", headers });
    expect(await ended.json()).toEqual({ revoked: 50 });
    // A Worker may make 1,000 KV operations per invocation (and 50 subrequests on the free plan, which KV does not count).
    expect({ listing, ending: kv.total() }).toEqual({ listing: 1 + 50, ending: 1 + 50 + 150 });
  });
});
