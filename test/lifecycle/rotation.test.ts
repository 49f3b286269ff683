import { env } from "cloudflare:test";
import { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import { createClock, createTestGate, cookie, redisBridge, tokenFrom } from "../helpers/gate";
import { hashToken } from "../../src/session/token";
import { createKvStore } from "../../src/store/kv";
import { createRedisStore } from "../../src/store/redis";
import type { SessionStore } from "../../src/store/types";

const MINUTE = 60_000;
const SECOND = 1_000;

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** A client over the shared Redis bridge, configured as src/store/select.ts does. */
function redisClient(): Redis {
  const { url, token } = redisBridge();
  return new Redis({ url, token, enableAutoPipelining: true, automaticDeserialization: false, enableTelemetry: false });
}

/** The two backends the lifecycle must hold on, each with a way to see what it stored. */
const BACKENDS = [
  {
    name: "KV",
    store: "kv" as const,
    makeStore: (): SessionStore => createKvStore(env.SESSIONS),
    /** Every token pointer stored for a session, by listing `tok:` keys. */
    async storedTokens(sid: string): Promise<string[]> {
      const hashes: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await env.SESSIONS.list({ prefix: "tok:", cursor });
        for (const key of page.keys) {
          const value = await env.SESSIONS.get<{ sid: string }>(key.name, "json");
          if (value?.sid === sid) hashes.push(key.name.slice(4));
        }
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
      return hashes;
    },
  },
  {
    name: "Redis",
    store: "redis" as const,
    makeStore: (): SessionStore => createRedisStore(redisClient()),
    async storedTokens(sid: string): Promise<string[]> {
      const redis = redisClient();
      // SCAN may return a key more than once when the keyspace rehashes during the
      // iteration (other test files write meanwhile): collect distinct keys.
      const keys = new Set<string>();
      let cursor = "0";
      do {
        const [next, page] = await redis.scan(cursor, { match: "tok:*", count: 1000 });
        cursor = String(next);
        for (const key of page) keys.add(key);
      } while (cursor !== "0");
      const hashes: string[] = [];
      for (const key of keys) {
        const value = await redis.get<string>(key);
        // Other files write deliberately broken records into the shared Redis (test/store/fixtures.ts): skip what does not parse.
        if (value && (parsed(value) as { sid?: string } | undefined)?.sid === sid) hashes.push(key.slice(4));
      }
      return hashes;
    },
  },
];

async function sidOf(gate: Awaited<ReturnType<typeof createTestGate>>, token: string): Promise<string> {
  const response = await gate.request("/_gate/session", { headers: cookie(token) });
  return ((await response.json()) as { sid: string }).sid;
}

describe.each(BACKENDS)("scheduled rotation on $name", ({ store, makeStore, storedTokens }) => {
  it("converges 50 parallel requests at the boundary on exactly one successor", async () => {
    const gate = await createTestGate({ store });
    const token = await gate.login("rot-parallel");
    const sid = await sidOf(gate, token);
    gate.clock.advance(15 * MINUTE);
    const responses = await Promise.all(Array.from({ length: 50 }, () => gate.request("/dashboard", { headers: cookie(token) })));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const successors = new Set(responses.map((r) => tokenFrom(r)));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect(successor).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(successor).not.toBe(token);
    expect((await storedTokens(sid)).sort()).toEqual([await hashToken(token), await hashToken(successor!)].sort());
    expect(gate.events("session.rotated")).toHaveLength(1);
  });

  it("converges when the racing requests land on different isolates", async () => {
    const clock = createClock();
    const gates = await Promise.all(Array.from({ length: 5 }, () => createTestGate({ clock, store })));
    const token = await gates[0].login("rot-isolates");
    const sid = await sidOf(gates[0], token);
    clock.advance(15 * MINUTE);
    const responses = await Promise.all(
      gates.flatMap((gate) => Array.from({ length: 10 }, () => gate.request("/dashboard", { headers: cookie(token) }))),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const successors = new Set(responses.map((r) => tokenFrom(r)));
    expect(successors.size).toBe(1);
    expect(await storedTokens(sid)).toHaveLength(2);
  });

  it("does not rotate before rotate_every", async () => {
    const gate = await createTestGate({ store });
    const token = await gate.login("rot-early");
    gate.clock.advance(15 * MINUTE - SECOND);
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(response.status).toBe(200);
    expect(tokenFrom(response)).toBeUndefined();
  });

  it("accepts the old token inside the grace window and hands it the same successor", async () => {
    const gate = await createTestGate({ store });
    const token = await gate.login("rot-grace");
    gate.clock.advance(15 * MINUTE);
    const successor = tokenFrom(await gate.request("/dashboard", { headers: cookie(token) }));
    gate.clock.advance(29 * SECOND);
    const late = await gate.request("/dashboard", { headers: cookie(token) });
    expect(late.status).toBe(200);
    expect(tokenFrom(late)).toBe(successor);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("rot-grace");
    const next = await gate.request("/dashboard", { headers: cookie(successor!) });
    expect(next.status).toBe(200);
    expect(tokenFrom(next)).toBeUndefined();
  });

  it("treats a rotated token after the grace window as theft and revokes the whole session", async () => {
    const gate = await createTestGate({ store });
    const token = await gate.login("rot-reuse");
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

  it("detects reuse of a token two generations old", async () => {
    const gate = await createTestGate({ store });
    const t0 = await gate.login("rot-two-gens");
    gate.clock.advance(15 * MINUTE);
    const t1 = tokenFrom(await gate.request("/dashboard", { headers: cookie(t0) }))!;
    gate.clock.advance(15 * MINUTE);
    const t2 = tokenFrom(await gate.request("/dashboard", { headers: cookie(t1) }))!;
    expect(new Set([t0, t1, t2]).size).toBe(3);
    expect((await gate.request("/api/x", { headers: cookie(t0) })).status).toBe(401);
    expect(gate.events("session.reuse_detected")).toHaveLength(1);
    expect((await gate.request("/api/x", { headers: cookie(t2) })).status).toBe(401);
  });

  it("keeps a browser logged in across many rotations", async () => {
    const gate = await createTestGate({ store });
    let token = await gate.login("rot-many");
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
    const gate = await createTestGate({ store });
    const token = await gate.login("rot-bearer");
    gate.clock.advance(20 * MINUTE);
    const response = await gate.request("/api/data", { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(gate.events("session.rotated")).toHaveLength(0);
  });

  it("does not let a logout racing a rotation bring the session back", async () => {
    const gate = await createTestGate({ store });
    const token = await gate.login("rot-logout-race");
    gate.clock.advance(15 * MINUTE);
    const logout = { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin" } };
    const responses = await Promise.all([
      ...Array.from({ length: 10 }, () => gate.request("/dashboard", { headers: cookie(token) })),
      gate.request("/_gate/logout", logout),
      ...Array.from({ length: 10 }, () => gate.request("/dashboard", { headers: cookie(token) })),
    ]);
    const successors = responses.map((r) => tokenFrom(r)).filter((t): t is string => !!t);
    for (const candidate of new Set([token, ...successors])) {
      const after = await gate.request("/api/data", { headers: cookie(candidate) });
      expect(after.status).toBe(401);
    }
  });

  it("does not let a rotation write that lands after a logout resurrect the session", async () => {
    const clock = createClock();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const real = makeStore();
    const slow: SessionStore = { ...real, rotate: async (session, ttl) => (await held, real.rotate(session, ttl)) };
    const rotating = await createTestGate({ clock, store: slow });
    const other = await createTestGate({ clock, store });
    const token = await rotating.login("rot-late-write");
    clock.advance(15 * MINUTE);
    const inFlight = rotating.request("/dashboard", { headers: cookie(token) });
    const logout = await other.request("/_gate/logout", { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin" } });
    expect(logout.status).toBe(204);
    release();
    // KV cannot refuse the late write and hands out the successor; Redis's rotation script
    // sees the revocation mark and writes nothing. Either way, every token must be dead.
    const successor = tokenFrom(await inFlight);
    if (store === "kv") expect(successor).toBeDefined();
    else expect(successor).toBeUndefined();
    for (const candidate of [token, ...(successor ? [successor] : [])]) {
      expect((await other.request("/api/data", { headers: cookie(candidate) })).status).toBe(401);
    }
  });

  it("never writes a raw token to the log", async () => {
    const gate = await createTestGate({ store });
    const token = await gate.login("rot-logs");
    gate.clock.advance(15 * MINUTE);
    const successor = tokenFrom(await gate.request("/dashboard", { headers: cookie(token) }))!;
    gate.clock.advance(MINUTE);
    await gate.request("/dashboard", { headers: cookie(token) });
    const text = JSON.stringify(gate.logs);
    expect(gate.logs.map((l) => l.event)).toEqual(
      expect.arrayContaining(["session.created", "session.rotated", "session.reuse_detected", "session.revoked"]),
    );
    expect(text).not.toContain(token);
    expect(text).not.toContain(successor);
  });
});
