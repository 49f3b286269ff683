import { createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createClock, createTestGate } from "../helpers/gate";
import worker from "../../src/index";
import { verifyAssertion } from "../../origin/index.mjs";
import { KEY } from "../../src/store/layout";
import { DAY, HOUR, type Gate, asFetchRequest, headerOf, isolatedKvStore, jwksOf, verifying } from "./helpers";

/**
 * A gate over a keyset of its own, and a bearer session for alice that lives
 * through weeks of clock moves (bearer sessions have no idle timeout).
 */
async function rotatingGate(options: Parameters<typeof createTestGate>[0] = {}) {
  const store = isolatedKvStore();
  const gate = await createTestGate({ store, ...options });
  const issued = await gate.request("/_gate/admin/sessions", {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ sub: "alice", roles: ["user"], ttl: "90d" }),
  });
  const { token } = (await issued.json()) as { token: string };
  /** One forwarded request: the assertion the origin got, its kid, and the request as the origin saw it. */
  const assertion = async () => {
    const response = await gate.request("/dashboard", { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const seen = gate.origin.received.splice(0)[0];
    const jwt = seen.headers["x-gate-assertion"];
    return { jwt, kid: headerOf(jwt).kid as string, request: asFetchRequest(seen) };
  };
  const kids = async () => (await jwksOf(gate)).keys.map((k) => k.kid);
  return { gate, store, assertion, kids };
}

/** Verifies as an origin would right now, with the JWKS the gate publishes now; `at` moves only the verifier's clock. */
const verifyNow = (gate: Gate, request: Request, at = gate.clock.now) => verifyAssertion(request, verifying(gate, { currentDate: new Date(at) }));

describe("the first key", () => {
  it("is created on first use by a gate whose cron never ran, and stored", async () => {
    const { gate, store, assertion } = await rotatingGate();
    const { kid, request } = await assertion();
    await verifyNow(gate, request);
    expect(JSON.parse((await store.raw())!).keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
  });

  it("is the same key in two isolates creating it at the same moment", async () => {
    const store = isolatedKvStore();
    const clock = createClock();
    const [a, b] = await Promise.all([createTestGate({ store, clock }), createTestGate({ store, clock })]);
    const [ja, jb] = await Promise.all([jwksOf(a), jwksOf(b)]);
    expect(ja.keys).toHaveLength(1);
    expect(ja.keys).toEqual(jb.keys);
  });
});

describe("rotation on the cron", () => {
  it("publishes the next key publish_ahead before it signs; then old and new assertions both verify", async () => {
    const { gate, assertion, kids } = await rotatingGate();
    const genesis = (await assertion()).kid;
    await gate.scheduled();
    const [signing, next] = await kids();
    expect(signing).toBe(genesis);
    expect(next).not.toBe(genesis);
    expect(gate.events("assertion.rotated")).toEqual([expect.objectContaining({ created: next, removed: [] })]);
    gate.clock.advance(HOUR - 1_000);
    const old = await assertion();
    expect(old.kid).toBe(genesis);
    gate.clock.advance(1_000);
    const fresh = await assertion();
    expect(fresh.kid).toBe(next);
    expect(await kids()).toEqual([next, genesis]);
    await verifyNow(gate, old.request);
    await verifyNow(gate, fresh.request);
  });

  it("removes the retired key retain after it stopped signing: its assertions no longer find a key", async () => {
    const { gate, assertion, kids } = await rotatingGate();
    await gate.scheduled();
    const [genesis, next] = await kids();
    gate.clock.advance(HOUR - 1_000);
    const last = await assertion();
    expect(last.kid).toBe(genesis);
    gate.clock.advance(1_000 + HOUR - 1);
    expect(await kids()).toEqual([next, genesis]);
    gate.clock.advance(1);
    expect(await kids()).toEqual([next]);
    await gate.scheduled();
    expect(await kids()).toEqual([next]);
    const issuedAt = gate.clock.now - 2 * HOUR + 1_000;
    await expect(verifyNow(gate, last.request, issuedAt)).rejects.toMatchObject({ code: "unknown_key" });
  });

  it("over two weeks of hourly crons, publishes each key before its first use and until its last assertion expired", {
    timeout: 60_000,
  }, async () => {
    const { gate, assertion } = await rotatingGate();
    const span = new Map<string, { listedFrom: number; listedUntil: number; firstUse?: number; lastUse?: number }>();
    for (let hour = 0; hour < 15 * 24; hour++) {
      await gate.scheduled();
      const jwks = await jwksOf(gate);
      const listed = jwks.keys.map((k) => k.kid);
      expect(listed.length).toBeLessThanOrEqual(3);
      for (const kid of listed) {
        const entry = span.get(kid) ?? { listedFrom: gate.clock.now, listedUntil: 0 };
        span.set(kid, { ...entry, listedUntil: gate.clock.now });
      }
      const { kid, request } = await assertion();
      await verifyAssertion(request, verifying(gate, { jwks, jwksUrl: undefined, fetch: undefined }));
      span.set(kid, { ...span.get(kid)!, firstUse: span.get(kid)!.firstUse ?? gate.clock.now, lastUse: gate.clock.now });
      gate.clock.advance(HOUR);
    }
    const used = [...span.entries()].filter(([, s]) => s.firstUse !== undefined).sort(([, a], [, b]) => a.firstUse! - b.firstUse!);
    expect(used).toHaveLength(4); // genesis, then a key activating at +1 h, +7 d 1 h and +14 d 1 h
    for (const [i, [, s]] of used.entries()) {
      if (i > 1) expect(s.firstUse! - used[i - 1][1].firstUse!).toBe(7 * DAY);
      if (i > 0) expect(s.listedFrom).toBeLessThanOrEqual(s.firstUse! - HOUR);
      if (i < used.length - 1) expect(s.listedUntil).toBeGreaterThanOrEqual(s.lastUse! + 60_000);
    }
  });
});

describe("the stored keyset", () => {
  it("never holds private key material in clear: no JWK `d`, only sealed seeds", async () => {
    const { gate, store } = await rotatingGate();
    await gate.scheduled();
    const raw = (await store.raw())!;
    expect(raw).not.toMatch(/"d"\s*:/);
    const stored = JSON.parse(raw) as { v: number; keys: Array<Record<string, unknown>> };
    expect(stored.keys).toHaveLength(2);
    for (const key of stored.keys) {
      expect(Object.keys(key).sort()).toEqual(["activatesAt", "createdAt", "kid", "sealed", "x"]);
      // 12-byte IV + 32-byte seed + 16-byte tag, base64url.
      expect(key.sealed).toMatch(/^[A-Za-z0-9_-]{80}$/);
    }
  });

  it("is useless under another GATE_SECRET: that gate drops the keys, logs it, and signs with its own", async () => {
    const { store, gate } = await rotatingGate();
    const ours = (await jwksOf(gate)).keys.map((k) => k.kid);
    const other = await createTestGate({ store, env: { GATE_SECRET: "another-gate-secret-0123456789abcdef0123456789" } });
    const theirs = (await jwksOf(other)).keys.map((k) => k.kid);
    expect(theirs).toHaveLength(1);
    expect(theirs).not.toEqual(ours);
    expect(other.events("store.corrupt")).toEqual([{ event: "store.corrupt", record: "keyset", kid: ours[0], reason: "unsealable_key" }]);
  });

  it("when corrupt, is logged and replaced by the genesis key; the cron writes a good one", async () => {
    const { gate, store, kids } = await rotatingGate();
    const [genesis] = await kids();
    await store.writeKeyset("{not json");
    const fresh = await createTestGate({ store, clock: gate.clock });
    expect((await jwksOf(fresh)).keys.map((k) => k.kid)).toEqual([genesis]);
    expect(fresh.events("store.corrupt")).toEqual([{ event: "store.corrupt", record: "keyset", reason: "malformed" }]);
    await fresh.scheduled();
    expect(JSON.parse((await store.raw())!).keys).toHaveLength(2);
  });
});

describe("the Worker's scheduled handler", () => {
  it("rotates the keys in the configured store", async () => {
    const workerEnv = { ...env };
    await env.SESSIONS.delete(KEY.keyset);
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    await worker.scheduled(createScheduledController({ cron: "0 * * * *" }), workerEnv, ctx);
    const first = JSON.parse((await env.SESSIONS.get(KEY.keyset))!) as { keys: Array<{ activatesAt: number }> };
    expect(first.keys.map((k) => k.activatesAt)).toEqual([0, expect.any(Number)]);
    const response = await worker.fetch(new Request("https://gate.example/_gate/jwks.json"), workerEnv, ctx);
    expect(((await response.json()) as { keys: unknown[] }).keys).toHaveLength(2);
  });
});
