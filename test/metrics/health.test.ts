// GET /_gate/health: the store's round trip for everyone; what runs (version, config digest, keyset)
// only for the admin token; the 503 of an outage unchanged.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { ADMIN_TOKEN, createTestGate } from "../helpers/gate";
import { configDigest } from "../../src/metrics/digest";
import { createKvStore } from "../../src/store/kv";
import { StoreUnavailableError } from "../../src/store/types";
import { createRecordingDataset } from "./recording";

const AS_ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const ADMIN_FIELDS = ["version", "config_digest", "store", "metrics", "keyset"];

describe("GET /_gate/health", () => {
  it("reports the store's round trip, and nothing else, without the admin token", async () => {
    const gate = await createTestGate();
    const response = await gate.request("/_gate/health");
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["status", "store_rtt_ms"]);
    expect(body.status).toBe("ok");
    expect(body.store_rtt_ms).toBeGreaterThanOrEqual(0);
    expect(gate.origin.received).toEqual([]);
  });

  it("adds the version, the config digest, the store, metrics and the keyset for the admin token, never cached", async () => {
    const gate = await createTestGate();
    await gate.request("/_gate/jwks.json"); // the first use writes the genesis key
    gate.clock.advance(7 * 86_400_000 - 30 * 60_000); // 30 min before the genesis key has signed rotate_every
    await gate.scheduled(); // schedules its successor, published `publish_ahead` before it signs
    const response = await gate.request("/_gate/health", { headers: AS_ADMIN });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as Record<string, unknown> & { keyset: { signing: string; next_activation: string; keys: unknown[] } };
    expect(body).toMatchObject({ status: "ok", version: pkg.version, config_digest: await configDigest(gate.config), store: "kv", metrics: false });
    expect(body.config_digest).toMatch(/^sha256:[\w-]{43}$/);
    const [genesis, next] = body.keyset.keys as Array<{ kid: string; state: string; created_at: string | null; activates_at: string | null }>;
    expect(body.keyset.signing).toBe(genesis.kid);
    expect(genesis).toMatchObject({ state: "active", created_at: null, activates_at: null });
    expect(next).toMatchObject({ state: "next", created_at: new Date(gate.clock.now).toISOString() });
    expect(body.keyset.next_activation).toBe(next.activates_at);
    expect(Date.parse(next.activates_at ?? "")).toBeGreaterThan(gate.clock.now);
  });

  it("says metrics are on when GATE_METRICS is bound", async () => {
    const gate = await createTestGate({ metrics: { dataset: createRecordingDataset().dataset } });
    expect(await (await gate.request("/_gate/health", { headers: AS_ADMIN })).json()).toMatchObject({ metrics: true });
  });

  it("answers a wrong token, another scheme or a token without GATE_ADMIN_TOKEN set as it answers no token: 200, no admin field", async () => {
    const gate = await createTestGate();
    const unset = await createTestGate({ env: { GATE_ADMIN_TOKEN: undefined } });
    const probes = [
      await gate.request("/_gate/health", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}x` } }),
      await gate.request("/_gate/health", { headers: { Authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` } }),
      await gate.request("/_gate/health", { headers: { Authorization: "Bearer " } }),
      await unset.request("/_gate/health", { headers: AS_ADMIN }),
    ];
    for (const response of probes) {
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      for (const field of ADMIN_FIELDS) expect(body).not.toHaveProperty(field);
    }
  });

  it("takes an admin token shaped like a session token as the admin's, never looking it up as a session", async () => {
    const shaped = `${"A".repeat(21)}-_${"z".repeat(20)}`; // 43 base64url characters: a url-safe `openssl rand -base64 32`
    const gate = await createTestGate({ env: { GATE_ADMIN_TOKEN: shaped } });
    for (let i = 0; i < 12; i++) {
      const response = await gate.request("/_gate/health", {
        headers: { Authorization: `Bearer ${shaped}`, Cookie: `__Host-session=${"q".repeat(43)}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toHaveProperty("version");
    }
    expect(gate.events("auth.denied")).toEqual([]);
  });

  it("counts wrong tokens toward failed_auth, as the admin API does: no cheaper place to guess the admin token", async () => {
    const failedAuth = { failed_auth: { limit: 2, period: "1m", key: "ip" } };
    const gate = await createTestGate({ store: "memory", gate: { rate_limits: failedAuth } });
    const guess = { Authorization: "Bearer not-the-admin-token-0123456789abcdef", "CF-Connecting-IP": "198.51.100.77" };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await gate.request("/_gate/health", { headers: guess })).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect((await gate.request("/_gate/health", { headers: { "CF-Connecting-IP": "198.51.100.77" } })).status).toBe(200);
  });

  it("keeps its 503 on a store outage, with or without the admin token", async () => {
    const kv = createKvStore(env.SESSIONS);
    const down = { ...kv, ping: () => Promise.reject(new StoreUnavailableError("kv", "ping", new Error("down"))) };
    const gate = await createTestGate({ store: down });
    for (const headers of [{}, AS_ADMIN]) {
      const response = await gate.request("/_gate/health", { headers });
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("5");
      expect(await response.text()).toBe('{"status":"unavailable"}');
    }
  });

  it("reports the keyset as unknown when the store answers the ping but fails the keyset read", async () => {
    const kv = createKvStore(env.SESSIONS);
    const flaky = { ...kv, readKeyset: () => Promise.reject(new StoreUnavailableError("kv", "readKeyset", new Error("down"))) };
    const gate = await createTestGate({ store: flaky });
    const response = await gate.request("/_gate/health", { headers: AS_ADMIN });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", keyset: null });
    expect(gate.events("store.error")).toEqual([expect.objectContaining({ operation: "readKeyset", route: "/_gate/health" })]);
  });
});
