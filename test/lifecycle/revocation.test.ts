import { describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import { ADMIN_TOKEN, cookie, createTestGate, tokenFrom } from "../helpers/gate";
import { createKvStore } from "../../src/store/kv";
import { type SessionStore, StoreUnavailableError } from "../../src/store/types";

const sameOrigin = (token: string) => ({ ...cookie(token), "Sec-Fetch-Site": "same-origin" });

type Listed = { sessions: Array<{ sid: string; created_at: number; last_seen_at: number; user_agent: string; ip: string; current: boolean }> };

describe("revocation and self-service", () => {
  it("ends every session of the user, and no one else's, on X-Gate-Logout: user", async () => {
    const gate = await createTestGate();
    const laptop = await gate.login("rev-carol");
    const phone = await gate.login("rev-carol");
    const other = await gate.login("rev-dave");
    gate.origin.reply(() => new Response(null, { status: 204, headers: { "X-Gate-Logout": "user" } }));
    const response = await gate.request("/settings/logout-everywhere", { method: "POST", headers: sameOrigin(laptop) });
    expect(response.status).toBe(204);
    expect(response.headers.get("x-gate-logout")).toBeNull();
    expect(tokenFrom(response)).toBe("");
    gate.origin.reply((_r, seen) => Response.json(seen));
    expect((await gate.request("/api/me", { headers: cookie(laptop) })).status).toBe(401);
    expect((await gate.request("/api/me", { headers: cookie(phone) })).status).toBe(401);
    expect((await gate.request("/api/me", { headers: cookie(other) })).status).toBe(200);
  });

  it("lists the user's own sessions and marks the current one", async () => {
    const gate = await createTestGate();
    const first = await gate.login("rev-erin");
    gate.clock.advance(60_000);
    const second = await gate.login("rev-erin", [], { headers: { "User-Agent": "curl/8.5.0", "CF-Connecting-IP": "198.51.100.9" } });
    await gate.login("rev-frank");
    const response = await gate.request("/_gate/sessions", { headers: cookie(second) });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const { sessions } = (await response.json()) as Listed;
    expect(sessions).toHaveLength(2);
    const current = sessions.find((s) => s.current)!;
    expect(current).toMatchObject({ user_agent: "curl/8.5.0", ip: "198.51.100.9", created_at: Math.floor(gate.clock.now / 1000) });
    expect(sessions.filter((s) => !s.current)).toHaveLength(1);
    expect((await gate.request("/_gate/sessions", { headers: cookie(first) })).status).toBe(200);
    expect((await gate.request("/_gate/sessions")).status).toBe(401);
  });

  it("ends one of the user's own sessions by sid", async () => {
    const gate = await createTestGate();
    const keep = await gate.login("rev-gina");
    const drop = await gate.login("rev-gina");
    const { sessions } = (await (await gate.request("/_gate/sessions", { headers: cookie(keep) })).json()) as Listed;
    const target = sessions.find((s) => !s.current)!;
    const response = await gate.request(`/_gate/sessions/${target.sid}`, { method: "DELETE", headers: sameOrigin(keep) });
    expect(response.status).toBe(204);
    expect((await gate.request("/api/me", { headers: cookie(drop) })).status).toBe(401);
    expect((await gate.request("/api/me", { headers: cookie(keep) })).status).toBe(200);
  });

  it("refuses to end another user's session, without saying it exists", async () => {
    const gate = await createTestGate();
    const mallory = await gate.login("rev-mallory");
    const victim = await gate.login("rev-victim");
    const { sessions } = (await (await gate.request("/_gate/sessions", { headers: cookie(victim) })).json()) as Listed;
    const response = await gate.request(`/_gate/sessions/${sessions[0].sid}`, { method: "DELETE", headers: sameOrigin(mallory) });
    expect(response.status).toBe(404);
    expect((await gate.request(`/_gate/sessions/nonexistent-sid`, { method: "DELETE", headers: sameOrigin(mallory) })).status).toBe(404);
    expect((await gate.request("/api/me", { headers: cookie(victim) })).status).toBe(200);
  });

  it("refuses a cross-site DELETE of a session", async () => {
    const gate = await createTestGate();
    const token = await gate.login("rev-csrf");
    const { sessions } = (await (await gate.request("/_gate/sessions", { headers: cookie(token) })).json()) as Listed;
    const response = await gate.request(`/_gate/sessions/${sessions[0].sid}`, {
      method: "DELETE",
      headers: { ...cookie(token), "Sec-Fetch-Site": "cross-site" },
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: "csrf" });
    expect((await gate.request("/api/me", { headers: cookie(token) })).status).toBe(200);
  });

  it("creates a new session with a new sid on every login and ends the one presented", async () => {
    const gate = await createTestGate();
    const user = await gate.login("rev-henry", ["user"]);
    const before = (await (await gate.request("/_gate/session", { headers: cookie(user) })).json()) as { sid: string };
    const admin = await gate.login("rev-henry", ["admin"], { headers: cookie(user) });
    const after = (await (await gate.request("/_gate/session", { headers: cookie(admin) })).json()) as { sid: string; roles: string[] };
    expect(after.sid).not.toBe(before.sid);
    expect(after.roles).toEqual(["admin"]);
    expect((await gate.request("/api/me", { headers: cookie(user) })).status).toBe(401);
  });

  it("sends Clear-Site-Data on logout", async () => {
    const gate = await createTestGate();
    const token = await gate.login("rev-ivy");
    const response = await gate.request("/_gate/logout", { method: "POST", headers: sameOrigin(token) });
    expect(response.status).toBe(204);
    expect(response.headers.get("clear-site-data")).toBe('"cookies"');
    expect(response.headers.getSetCookie()).toEqual(["__Host-session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"]);
  });
});

describe("the gate's endpoints during a store outage", () => {
  it("answer 503 unavailable with Retry-After, never 500", async () => {
    const kv = createKvStore(env.SESSIONS);
    let down = false;
    const fail = () => Promise.reject(new StoreUnavailableError("kv", "lookup", new Error("down")));
    const flaky: SessionStore = {
      ...kv,
      listUser: (sub) => (down ? fail() : kv.listUser(sub)),
      get: (sid) => (down ? fail() : kv.get(sid)),
      revoke: (sid, sub, ttl) => (down ? fail() : kv.revoke(sid, sub, ttl)),
    };
    const gate = await createTestGate({ store: flaky });
    const token = await gate.login("rev-outage");
    down = true;
    for (const [method, path] of [
      ["GET", "/_gate/sessions"],
      ["DELETE", "/_gate/sessions/some-sid"],
      ["POST", "/_gate/logout"],
    ]) {
      const response = await gate.request(path, { method, headers: sameOrigin(token) });
      expect(response.status, `${method} ${path}`).toBe(503);
      expect(await response.json()).toEqual({ error: "unavailable" });
      expect(response.headers.get("retry-after")).toBe("5");
    }
    const admin = await gate.request("/_gate/admin/users/rev-outage/sessions", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(admin.status).toBe(503);
  });
});
