import { describe, expect, it } from "vitest";
import { createClock, createTestGate, cookie, tokenFrom } from "../helpers/gate";
import { hashToken } from "../../src/session/token";
import { createDurableStore } from "../../src/store/durable";
import type { SessionStore } from "../../src/store/types";
import { objects, storedTokens } from "../store/durable-objects";

const MINUTE = 60_000;
const SECOND = 1_000;

type Gate = Awaited<ReturnType<typeof createTestGate>>;

async function sidOf(gate: Gate, token: string): Promise<string> {
  const response = await gate.request("/_gate/session", { headers: cookie(token) });
  return ((await response.json()) as { sid: string }).sid;
}

// The scenarios of rotation.test.ts (parametrised there over KV and Redis), on Durable Objects:
// rotation is a compare-and-set inside the user's object, as on Redis.
describe("scheduled rotation on Durable Objects", () => {
  it("converges 50 parallel requests at the boundary on exactly one successor", async () => {
    const gate = await createTestGate({ store: "durable" });
    const token = await gate.login("drot-parallel");
    const sid = await sidOf(gate, token);
    gate.clock.advance(15 * MINUTE);
    const responses = await Promise.all(Array.from({ length: 50 }, () => gate.request("/dashboard", { headers: cookie(token) })));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const successors = new Set(responses.map((r) => tokenFrom(r)));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect(successor).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(successor).not.toBe(token);
    expect((await storedTokens("drot-parallel", sid)).sort()).toEqual([await hashToken(token), await hashToken(successor!)].sort());
    expect(gate.events("session.rotated")).toHaveLength(1);
  });

  it("converges when the racing requests land on different isolates", async () => {
    const clock = createClock();
    const gates = await Promise.all(Array.from({ length: 5 }, () => createTestGate({ clock, store: "durable" })));
    const token = await gates[0].login("drot-isolates");
    const sid = await sidOf(gates[0], token);
    clock.advance(15 * MINUTE);
    const responses = await Promise.all(
      gates.flatMap((gate) => Array.from({ length: 10 }, () => gate.request("/dashboard", { headers: cookie(token) }))),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const successors = new Set(responses.map((r) => tokenFrom(r)));
    expect(successors.size).toBe(1);
    expect(await storedTokens("drot-isolates", sid)).toHaveLength(2);
    // Another isolate, which never saw either token, finds the successor at once.
    const fresh = await createTestGate({ clock, store: "durable" });
    expect((await fresh.request("/dashboard", { headers: cookie([...successors][0]!) })).status).toBe(200);
  });

  it("does not rotate before rotate_every", async () => {
    const gate = await createTestGate({ store: "durable" });
    const token = await gate.login("drot-early");
    gate.clock.advance(15 * MINUTE - SECOND);
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(response.status).toBe(200);
    expect(tokenFrom(response)).toBeUndefined();
  });

  it("accepts the old token inside the grace window and hands it the same successor", async () => {
    const gate = await createTestGate({ store: "durable" });
    const token = await gate.login("drot-grace");
    gate.clock.advance(15 * MINUTE);
    const successor = tokenFrom(await gate.request("/dashboard", { headers: cookie(token) }));
    gate.clock.advance(29 * SECOND);
    const late = await gate.request("/dashboard", { headers: cookie(token) });
    expect(late.status).toBe(200);
    expect(tokenFrom(late)).toBe(successor);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("drot-grace");
    const next = await gate.request("/dashboard", { headers: cookie(successor!) });
    expect(next.status).toBe(200);
    expect(tokenFrom(next)).toBeUndefined();
  });

  it("treats a rotated token after the grace window as theft and revokes the whole session", async () => {
    const gate = await createTestGate({ store: "durable" });
    const token = await gate.login("drot-reuse");
    gate.clock.advance(15 * MINUTE);
    const successor = tokenFrom(await gate.request("/dashboard", { headers: cookie(token) }))!;
    gate.clock.advance(31 * SECOND);
    const before = gate.origin.received.length;
    const replay = await gate.request("/api/data", { headers: cookie(token) });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ error: "unauthenticated" });
    expect(gate.events("session.reuse_detected")).toHaveLength(1);
    const victim = await gate.request("/api/data", { headers: cookie(successor) });
    expect(victim.status).toBe(401);
    expect(gate.origin.received.length).toBe(before);
  });

  it("detects reuse of a token two generations old, seen from another isolate", async () => {
    const clock = createClock();
    const [gate, other] = [await createTestGate({ clock, store: "durable" }), await createTestGate({ clock, store: "durable" })];
    const t0 = await gate.login("drot-two-gens");
    clock.advance(15 * MINUTE);
    const t1 = tokenFrom(await gate.request("/dashboard", { headers: cookie(t0) }))!;
    clock.advance(15 * MINUTE);
    const t2 = tokenFrom(await gate.request("/dashboard", { headers: cookie(t1) }))!;
    expect(new Set([t0, t1, t2]).size).toBe(3);
    expect((await other.request("/api/x", { headers: cookie(t0) })).status).toBe(401);
    expect(other.events("session.reuse_detected")).toHaveLength(1);
    expect((await gate.request("/api/x", { headers: cookie(t2) })).status).toBe(401);
  });

  it("keeps a browser logged in across many rotations", async () => {
    const gate = await createTestGate({ store: "durable" });
    let token = await gate.login("drot-many");
    const seen = new Set([token]);
    for (let i = 0; i < 6; i++) {
      gate.clock.advance(15 * MINUTE);
      const response = await gate.request("/dashboard", { headers: cookie(token) });
      expect(response.status).toBe(200);
      token = tokenFrom(response) ?? token;
      seen.add(token);
    }
    expect(seen.size).toBe(7);
    expect(gate.events("session.reuse_detected")).toHaveLength(0);
  });

  it("never rotates a bearer token", async () => {
    const gate = await createTestGate({ store: "durable" });
    const token = await gate.login("drot-bearer");
    gate.clock.advance(20 * MINUTE);
    const response = await gate.request("/api/data", { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(gate.events("session.rotated")).toHaveLength(0);
  });

  it("does not let a logout racing a rotation bring the session back", async () => {
    const gate = await createTestGate({ store: "durable" });
    const token = await gate.login("drot-logout-race");
    gate.clock.advance(15 * MINUTE);
    const logout = { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin" } };
    const responses = await Promise.all([
      ...Array.from({ length: 10 }, () => gate.request("/dashboard", { headers: cookie(token) })),
      gate.request("/_gate/logout", logout),
      ...Array.from({ length: 10 }, () => gate.request("/dashboard", { headers: cookie(token) })),
    ]);
    const successors = responses.map((r) => tokenFrom(r)).filter((t): t is string => !!t);
    for (const candidate of new Set([token, ...successors])) {
      expect((await gate.request("/api/data", { headers: cookie(candidate) })).status).toBe(401);
    }
  });

  it("refuses a rotation write that lands after a logout: no successor is handed out, every token is dead", async () => {
    const clock = createClock();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const real = createDurableStore(objects);
    const slow: SessionStore = { ...real, rotate: async (session, ttl) => (await held, real.rotate(session, ttl)) };
    const rotating = await createTestGate({ clock, store: slow, env: { SESSION_STORE: "durable" } });
    const other = await createTestGate({ clock, store: "durable" });
    const token = await rotating.login("drot-late-write");
    clock.advance(15 * MINUTE);
    const inFlight = rotating.request("/dashboard", { headers: cookie(token) });
    const logout = await other.request("/_gate/logout", { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin" } });
    expect(logout.status).toBe(204);
    release();
    expect(tokenFrom(await inFlight)).toBeUndefined();
    expect((await other.request("/api/data", { headers: cookie(token) })).status).toBe(401);
    expect((await rotating.request("/api/data", { headers: cookie(token) })).status).toBe(401);
  });
});
