// GATE_METRICS (docs/observability.md): one data point per request outcome and per logged event,
// written after the response, laid out as src/metrics/layout.ts says.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, cookie, createTestGate, tokenFrom } from "../helpers/gate";
import { createKvStore } from "../../src/store/kv";
import { StoreUnavailableError } from "../../src/store/types";
import { createRecordingDataset, steppingTimer } from "./recording";

const SAME_SITE = { "Sec-Fetch-Site": "same-origin" };

async function meteredGate(options: Parameters<typeof createTestGate>[0] = {}) {
  const metrics = createRecordingDataset();
  const gate = await createTestGate({ ...options, metrics: { dataset: metrics.dataset, timer: steppingTimer(5) } });
  return { gate, metrics };
}

describe("the outcome of a request", () => {
  it("is one `request` point: route pattern, store, status class, no refusal, colo, gate and origin time, a count of 1", async () => {
    const { gate, metrics } = await meteredGate();
    const token = await gate.login("alice");
    metrics.written.length = 0;
    const response = await gate.request("/reports/2026", { headers: cookie(token), cf: { colo: "AMS" } });
    expect(response.status).toBe(200);
    const [point] = metrics.events("request");
    expect(point).toMatchObject({ index: "request", event: "request", route: "/*", store: "kv", status: "2xx", reason: "", colo: "AMS", count: 1 });
    expect(point.origin_ms).toBeGreaterThanOrEqual(0);
    expect(point.gate_ms).toBeGreaterThanOrEqual(0);
    expect(point.gate_ms + point.origin_ms).toBeLessThanOrEqual(5); // the stepping timer's one step, split between the two
    expect(metrics.written).toHaveLength(1); // nothing else happened
  });

  it("says why the gate refused it, by the code of its answer, and the finer reason in the event", async () => {
    const { gate, metrics } = await meteredGate();
    const response = await gate.request("/reports", { headers: cookie("x".repeat(43)) });
    expect(response.status).toBe(401);
    expect(metrics.events("request")).toEqual([expect.objectContaining({ route: "/*", status: "4xx", reason: "unauthenticated", origin_ms: 0 })]);
    expect(metrics.events("auth.denied")).toEqual([
      expect.objectContaining({ index: "auth.denied", route: "/*", status: "4xx", reason: "unknown_token", gate_ms: 0, count: 1 }),
    ]);
  });

  it("names the gate's endpoints by their pattern, never by the user or session in the path", async () => {
    const { gate, metrics } = await meteredGate();
    await gate.request("/_gate/health");
    await gate.request("/_gate/admin/users/alice/sessions", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    await gate.request("/_gate/nothing-here");
    expect(metrics.events("request").map((point) => [point.route, point.status])).toEqual([
      ["/_gate/health", "2xx"],
      ["/_gate/admin/users/:sub/sessions", "2xx"],
      ["/_gate", "4xx"],
    ]);
  });

  it("has no route when the request was refused before its path was read", async () => {
    const { gate, metrics } = await meteredGate();
    const response = await gate.request("/page", { method: "POST", body: "x", headers: { "Transfer-Encoding": "chunked", "Content-Length": "1" } });
    expect(response.status).toBe(400);
    expect(metrics.events("request.rejected")).toEqual([expect.objectContaining({ route: "", status: "4xx", reason: "ambiguous_framing" })]);
  });

  it("is written after the response, through waitUntil, and costs no store round trip", async () => {
    const metrics = createRecordingDataset();
    const limits = { default: { limit: 50, period: "1m", key: "ip" } };
    const gate = await createTestGate({ store: "redis", gate: { rate_limits: limits }, metrics: { dataset: metrics.dataset } });
    const ip = { "CF-Connecting-IP": "198.18.9.1" };
    const token = await gate.login(`metrics-${crypto.randomUUID()}`, [], { headers: ip });
    await gate.request("/page", { headers: { ...cookie(token), ...ip } }); // Redis learns the scripts (EVALSHA, then EVAL once)
    await gate.redis?.resetStats();
    const written = metrics.written.length;
    expect((await gate.request("/page", { headers: { ...cookie(token), ...ip } })).status).toBe(200);
    expect((await gate.redis?.stats())?.requests).toBe(1); // the look-up and the limiter, pipelined: as without metrics
    expect(metrics.written.length).toBe(written + 1);
  });
});

describe("security events", () => {
  it("a login: session.created (how), then the request", async () => {
    const { gate, metrics } = await meteredGate();
    await gate.login("alice");
    expect(metrics.points().map((point) => [point.event, point.reason])).toEqual([
      ["session.created", "cookie"],
      ["request", ""],
    ]);
    // The session manager does not see the request: its events carry no request context (docs/observability.md).
    expect(metrics.events("session.created")[0]).toMatchObject({ route: "", status: "", colo: "", store: "kv", count: 1 });
  });

  it("a rotation, a reuse detection and the revocation it causes, and the refusal with its route", async () => {
    const { gate, metrics } = await meteredGate();
    const first = await gate.login("alice");
    gate.clock.advance(16 * 60_000);
    const second = tokenFrom(await gate.request("/page", { headers: cookie(first) }));
    expect(second).toBeTruthy();
    gate.clock.advance(60_000);
    expect((await gate.request("/admin/keys", { headers: cookie(first) })).status).toBe(401);
    expect(metrics.events("session.rotated")).toHaveLength(1);
    expect(metrics.events("session.reuse_detected")).toEqual([expect.objectContaining({ index: "session.reuse_detected", count: 1 })]);
    expect(metrics.events("session.revoked")).toEqual([expect.objectContaining({ reason: "reuse_detected" })]);
    expect(metrics.events("auth.denied")).toEqual([expect.objectContaining({ route: "/admin/*", status: "4xx", reason: "reuse_detected" })]);
  });

  it("a logout: session.revoked with its reason, on the logout endpoint's request", async () => {
    const { gate, metrics } = await meteredGate();
    const token = await gate.login("alice");
    await gate.request("/_gate/logout", { method: "POST", headers: { ...cookie(token), ...SAME_SITE } });
    expect(metrics.events("session.revoked")).toEqual([expect.objectContaining({ reason: "logout" })]);
    expect(metrics.events("request").at(-1)).toMatchObject({ route: "/_gate/logout", status: "2xx" });
  });

  it("a rate-limit block names its limiter", async () => {
    const tight = { default: { limit: 1, period: "10s", key: "ip" } };
    const { gate, metrics } = await meteredGate({ gate: { rate_limits: tight }, env: { RATE_LIMIT_DEFAULT: env.RATE_LIMIT_TIGHT } });
    const ip = { "CF-Connecting-IP": "192.0.2.201" };
    for (let i = 0; i < 5; i++) await gate.request("/public/page", { headers: ip });
    const blocked = metrics.events("ratelimit.blocked");
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked[0]).toMatchObject({ route: "/public/*", status: "4xx", reason: "default" });
    expect(metrics.events("request").filter((point) => point.reason === "rate_limited")).toHaveLength(blocked.length);
  });

  it("a CSRF refusal names its reason", async () => {
    const { gate, metrics } = await meteredGate();
    const token = await gate.login("alice");
    const response = await gate.request("/page", { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "cross-site" } });
    expect(response.status).toBe(403);
    expect(metrics.events("csrf.blocked")).toEqual([expect.objectContaining({ route: "/*", status: "4xx" })]);
    expect(metrics.events("csrf.blocked")[0].reason).not.toBe("");
    expect(metrics.events("request").at(-1)).toMatchObject({ reason: "csrf", status: "4xx" });
  });

  it("a store outage: store.error with its operation and backend, and the 503", async () => {
    const kv = createKvStore(env.SESSIONS);
    const failing = { ...kv, lookup: () => Promise.reject(new StoreUnavailableError("kv", "lookup", new Error("down"))) };
    const { gate, metrics } = await meteredGate({ store: failing });
    const response = await gate.request("/page", { headers: cookie("x".repeat(43)) });
    expect(response.status).toBe(503);
    expect(metrics.events("store.error")).toEqual([expect.objectContaining({ store: "kv", reason: "lookup", status: "5xx" })]);
    expect(metrics.events("request")).toEqual([expect.objectContaining({ reason: "unavailable", status: "5xx" })]);
  });

  it("an unreachable origin: origin.error, and the 502", async () => {
    const { gate, metrics } = await meteredGate();
    gate.origin.reply(() => {
      throw new Error("connection refused");
    });
    expect((await gate.request("/public/page")).status).toBe(502);
    expect(metrics.events("origin.error")).toEqual([expect.objectContaining({ reason: "origin", route: "/public/*", status: "5xx" })]);
    expect(metrics.events("request")).toEqual([expect.objectContaining({ reason: "bad_gateway" })]);
  });

  it("the cron's key rotation, outside any request", async () => {
    const { gate, metrics } = await meteredGate();
    await gate.request("/_gate/jwks.json");
    gate.clock.advance(7 * 86_400_000);
    await gate.scheduled();
    expect(metrics.events("assertion.rotated")).toEqual([expect.objectContaining({ route: "", status: "", colo: "", count: 1 })]);
  });
});
