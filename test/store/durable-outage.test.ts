import { describe, expect, it } from "vitest";
import { createDurableLimiters } from "../../src/ratelimit/durable";
import { createDurableStore } from "../../src/store/durable";
import { cookie, createClock, createTestGate } from "../helpers/gate";
import { objectError, wrappedNamespace } from "./durable-objects";

const limits = { rate_limits: { default: { limit: 100, period: "1m", key: "ip" } } };

/** What every session-route request must look like while the objects are unreachable. */
async function expectUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(await response.json()).toEqual({ error: "unavailable" });
  expect(response.headers.get("retry-after")).toBe("5");
  expect(response.headers.getSetCookie()).toEqual([]);
}

/** A gate over the real objects whose every call fails, the way `fail` says, while `down` is set. */
async function switchableGate(fail: () => Promise<unknown>) {
  const state = { down: false };
  const namespace = wrappedNamespace((_call, send) => (state.down ? fail() : send()));
  const clock = createClock();
  const gate = await createTestGate({
    clock,
    env: { SESSION_STORE: "durable" },
    store: createDurableStore(namespace),
    limits: createDurableLimiters(namespace, () => clock.now),
    gate: limits,
  });
  return Object.assign(gate, { state });
}

const overloaded = objectError("Durable Object is overloaded. Too many requests queued.", { overloaded: true });
const FAILURES: Array<[string, () => Promise<unknown>]> = [
  ["overloaded (the error carries .overloaded)", () => Promise.reject(overloaded)],
  ["disconnected (.retryable, retried once, in vain)", () => Promise.reject(objectError("Network connection lost.", { retryable: true }))],
  ["reset by a deploy", () => Promise.reject(objectError("Durable Object reset because its code was updated."))],
  ["hanging (never answering: the 2 s deadline ends the wait)", () => new Promise(() => {})],
  [
    "throwing synchronously",
    () => {
      throw new Error("Your account is generating too much load on Durable Objects. Please back off and try again later.");
    },
  ],
];

describe("a Durable Objects outage", () => {
  it.each(FAILURES)(
    "when calls fail %s: 503 on session routes, cookie kept, public routes served without identity, and recovery",
    async (_, fail) => {
      const gate = await switchableGate(fail);
      const token = await gate.login("d-outage");
      expect((await gate.request("/dashboard", { headers: cookie(token) })).status).toBe(200);
      gate.state.down = true;
      await expectUnavailable(await gate.request("/dashboard", { headers: cookie(token) }));
      await expectUnavailable(await gate.request("/api/data", { headers: { Authorization: `Bearer ${token}` } }));
      await expectUnavailable(await gate.request("/_gate/sessions", { headers: cookie(token) }));
      const before = gate.origin.received.length;
      const publicPage = await gate.request("/public/page", { headers: cookie(token) });
      expect(publicPage.status).toBe(200);
      expect(gate.origin.received).toHaveLength(before + 1);
      expect(gate.origin.last().headers["x-gate-user"]).toBeUndefined();
      expect(publicPage.headers.getSetCookie()).toEqual([]);
      const health = await gate.request("/_gate/health");
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: "unavailable" });
      expect(gate.events("store.error")).toEqual(expect.arrayContaining([expect.objectContaining({ backend: "durable", operation: "lookup" })]));
      expect(gate.events("ratelimit.error")).toEqual(expect.arrayContaining([expect.objectContaining({ limiter: "default", on_failure: "open" })]));
      gate.state.down = false;
      expect((await gate.request("/dashboard", { headers: cookie(token) })).status).toBe(200);
      expect((await gate.request("/_gate/health")).status).toBe(200);
    },
    30_000, // the hanging case waits out the 2 s deadline on each of its calls
  );

  it("logs the runtime's reason, not the request's data", async () => {
    const gate = await switchableGate(() => Promise.reject(overloaded));
    const token = await gate.login("d-outage-log");
    gate.state.down = true;
    await gate.request("/dashboard", { headers: cookie(token) });
    const [logged] = gate.events("store.error");
    expect(logged).toMatchObject({
      backend: "durable",
      operation: "lookup",
      error: "durable lookup: Error: Durable Object is overloaded. Too many requests queued.",
    });
    expect(JSON.stringify(gate.logs)).not.toContain(token);
  });

  it("answers 503 to a login it cannot store, and sets no cookie", async () => {
    const gate = await switchableGate(() => Promise.reject(overloaded));
    gate.state.down = true;
    await expect(gate.login("d-outage-login")).rejects.toThrow(/set no cookie \(status 503\)/);
  });
});
