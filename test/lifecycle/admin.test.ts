import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, cookie, createTestGate } from "../helpers/gate";

const asAdmin = (extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${ADMIN_TOKEN}`, ...extra });

describe("admin API", () => {
  it.each([
    ["no token", {}],
    ["a wrong token of the same length", { Authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}x` }],
    ["a token of a different length", { Authorization: `Bearer ${ADMIN_TOKEN}extra` }],
    ["a prefix of the token", { Authorization: `Bearer ${ADMIN_TOKEN.slice(0, 10)}` }],
    ["the token without the Bearer scheme", { Authorization: ADMIN_TOKEN }],
    ["an empty bearer", { Authorization: "Bearer " }],
  ])("refuses %s with 401", async (_, headers) => {
    const gate = await createTestGate();
    for (const [method, path] of [
      ["POST", "/_gate/admin/sessions"],
      ["GET", "/_gate/admin/users/someone/sessions"],
      ["DELETE", "/_gate/admin/sessions/abc"],
      ["DELETE", "/_gate/admin/users/someone/sessions"],
    ]) {
      const response = await gate.request(path, { method, headers, body: method === "POST" ? JSON.stringify({ sub: "x" }) : undefined });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(await response.json()).toEqual({ error: "unauthenticated" });
    }
    expect(gate.origin.received).toHaveLength(0);
  });

  it("answers 404 when GATE_ADMIN_TOKEN is unset", async () => {
    const gate = await createTestGate({ env: { GATE_ADMIN_TOKEN: undefined } });
    const response = await gate.request("/_gate/admin/users/someone/sessions", { headers: asAdmin() });
    expect(response.status).toBe(404);
    expect(gate.origin.received).toHaveLength(0);
  });

  it("issues a bearer session that works for API clients and never rotates", async () => {
    const gate = await createTestGate();
    const created = await gate.request("/_gate/admin/sessions", {
      method: "POST",
      headers: asAdmin({ "Content-Type": "application/json" }),
      body: JSON.stringify({ sub: "svc-reporting", roles: ["reader"], ttl: "30d" }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { token: string; sid: string; expires_at: number };
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.expires_at).toBe(Math.floor(gate.clock.now / 1000) + 30 * 86_400);
    gate.clock.advance(2 * 86_400_000);
    const response = await gate.request("/api/report", { method: "POST", headers: { Authorization: `Bearer ${body.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(gate.origin.last().headers).toMatchObject({ "x-gate-user": "svc-reporting", "x-gate-roles": "reader", "x-gate-session": body.sid });
    expect(gate.origin.last().headers.authorization).toBeUndefined();
  });

  it.each([
    [{}],
    [{ sub: "" }],
    [{ sub: "x".repeat(257) }],
    [{ sub: "ok", roles: "admin" }],
    [{ sub: "ok", ttl: "forever" }],
    [{ sub: "ok", ttl: 0 }],
    [[1, 2]],
  ])("refuses a malformed session request %j with 400", async (payload) => {
    const gate = await createTestGate();
    const response = await gate.request("/_gate/admin/sessions", { method: "POST", headers: asAdmin(), body: JSON.stringify(payload) });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "bad_request" });
  });

  it("lists, ends one, and ends all sessions of a user", async () => {
    const gate = await createTestGate();
    const a = await gate.login("adm-judy");
    const b = await gate.login("adm-judy");
    const bystander = await gate.login("adm-kim");
    const listed = await gate.request("/_gate/admin/users/adm-judy/sessions", { headers: asAdmin() });
    const { sessions } = (await listed.json()) as { sessions: Array<{ sid: string }> };
    expect(sessions).toHaveLength(2);
    const one = await gate.request(`/_gate/admin/sessions/${sessions[0].sid}`, { method: "DELETE", headers: asAdmin() });
    expect(one.status).toBe(204);
    const alive = [await gate.request("/api/me", { headers: cookie(a) }), await gate.request("/api/me", { headers: cookie(b) })].filter(
      (r) => r.status === 200,
    );
    expect(alive).toHaveLength(1);
    const all = await gate.request("/_gate/admin/users/adm-judy/sessions", { method: "DELETE", headers: asAdmin() });
    expect(all.status).toBe(200);
    expect((await gate.request("/api/me", { headers: cookie(a) })).status).toBe(401);
    expect((await gate.request("/api/me", { headers: cookie(b) })).status).toBe(401);
    expect((await gate.request("/api/me", { headers: cookie(bystander) })).status).toBe(200);
    expect((await gate.request("/_gate/admin/sessions/unknown", { method: "DELETE", headers: asAdmin() })).status).toBe(404);
  });

  it("does not treat the admin token as a session token", async () => {
    const gate = await createTestGate();
    await gate.request("/_gate/admin/users/someone/sessions", { headers: asAdmin() });
    expect(gate.events("auth.denied")).toHaveLength(0);
  });
});
