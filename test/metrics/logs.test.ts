// Every log line of a request carries its request_id, the route pattern and, once known, the sid
// (src/metrics/observer.ts adds them from the request in flight; no call site threads them).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { cookie, createTestGate, tokenFrom } from "../helpers/gate";
import { createKvStore } from "../../src/store/kv";
import { StoreUnavailableError } from "../../src/store/types";

describe("log lines of a request", () => {
  it("name the route and the session of a refused role, with the request's id", async () => {
    const gate = await createTestGate();
    const token = await gate.login("bob", ["user"]);
    const response = await gate.request("/admin/keys", { headers: cookie(token) });
    expect(response.status).toBe(403);
    const sid = gate.events("session.created")[0].sid;
    expect(gate.events("auth.denied")).toEqual([
      expect.objectContaining({ reason: "missing_role", route: "/admin/*", sid, request_id: response.headers.get("X-Request-Id") }),
    ]);
  });

  it("gain the route (and the sid when the session is valid) where the call site only named the request", async () => {
    const tight = { default: { limit: 1, period: "10s", key: "ip" } };
    const gate = await createTestGate({ gate: { rate_limits: tight }, env: { RATE_LIMIT_DEFAULT: env.RATE_LIMIT_TIGHT } });
    const ip = { "CF-Connecting-IP": "192.0.2.230" };
    let blocked = await gate.request("/public/a", { headers: ip });
    for (let i = 0; i < 5 && blocked.status !== 429; i++) blocked = await gate.request("/public/b", { headers: ip });
    expect(blocked.status).toBe(429);
    expect(gate.events("ratelimit.blocked").at(-1)).toEqual(
      expect.objectContaining({ limiter: "default", route: "/public/*", request_id: blocked.headers.get("X-Request-Id") }),
    );
  });

  it("of the gate's endpoints name the endpoint's pattern; before one matched, the gate's prefix", async () => {
    const kv = createKvStore(env.SESSIONS);
    const gate = await createTestGate({ store: { ...kv, ping: () => Promise.reject(new StoreUnavailableError("kv", "ping", new Error("down"))) } });
    const probe = await gate.request("/_gate/health");
    expect(probe.status).toBe(503);
    expect(gate.events("store.error")).toEqual([
      expect.objectContaining({ operation: "ping", route: "/_gate/health", request_id: probe.headers.get("X-Request-Id") }),
    ]);
    // Admission refused the token before an endpoint matched.
    expect((await gate.request("/_gate/session", { headers: cookie("y".repeat(43)) })).status).toBe(401);
    expect(gate.events("auth.denied")).toEqual([expect.objectContaining({ reason: "unknown_token", route: "/_gate" })]);
  });

  it("keep what the line says itself: an explicit route or sid is not replaced", async () => {
    const gate = await createTestGate();
    const first = await gate.login("dave");
    gate.clock.advance(16 * 60_000);
    const rotated = await gate.request("/page", { headers: cookie(first) });
    expect(tokenFrom(rotated)).toBeTruthy();
    const line = gate.events("session.rotated")[0];
    // Logged by the session manager, which names the session itself and does not see the request.
    expect(line).toEqual({ event: "session.rotated", sid: expect.any(String), sub: "dave", gen: 1 });
  });

  it("are unchanged outside a request: a line without a request_id gets nothing added", async () => {
    const gate = await createTestGate();
    await gate.login("erin");
    expect(Object.keys(gate.events("session.created")[0]).sort()).toEqual(["event", "sid", "sub", "via"]);
  });
});
