import { describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { ORIGIN_SECRET, T0, cookie, createTestGate, signLogin, tokenFrom } from "../helpers/gate";

type Gate = Awaited<ReturnType<typeof createTestGate>>;

const NOW = T0 / 1_000;
const SET_COOKIE = /^__Host-session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; Secure; HttpOnly; SameSite=Lax$/;
const CLEARED = "__Host-session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax";
const JSON_ACCEPT = { Accept: "application/json" };
const MINUTE = 60_000;

const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const secretKey = new TextEncoder().encode(ORIGIN_SECRET);

/** A JWT with any header, signed HS256 with the origin secret whatever the header says. */
async function craft(header: Record<string, unknown>, payload: Record<string, unknown>, sign = true): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`;
  if (!sign) return `${input}.`;
  const key = await crypto.subtle.importKey("raw", secretKey, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
  return `${input}.${btoa(String.fromCharCode(...signature))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")}`;
}

/** The origin answers the next request with `headers`; the request is a same-origin POST to /login unless told otherwise. */
async function originSays(gate: Gate, headers: Record<string, string>, request: { path?: string; headers?: Record<string, string> } = {}) {
  gate.origin.reply(() => new Response("ok", { headers }));
  const method = request.path ? "GET" : "POST";
  const response = await gate.request(request.path ?? "/login", { method, headers: { "Sec-Fetch-Site": "same-origin", ...request.headers } });
  gate.origin.reply((_r, seen) => Response.json(seen));
  return response;
}

/** Whether a token still opens a session route; the origin's log is left as it was. */
async function works(gate: Gate, token: string): Promise<boolean> {
  const before = gate.origin.received.length;
  const response = await gate.request("/dashboard", { headers: { ...cookie(token), ...JSON_ACCEPT } });
  if (response.status === 200) return true;
  expect(response.status).toBe(401);
  expect(gate.origin.received).toHaveLength(before);
  return false;
}

const sids = (gate: Gate) => gate.events("session.created").map((event) => event.sid);

describe("X-Gate-Login", () => {
  it("creates a session and sets the cookie with exact attributes", async () => {
    const gate = await createTestGate();
    const response = await originSays(gate, { "X-Gate-Login": await signLogin({ sub: "login-ok", roles: ["user"] }, NOW) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("ok");
    const lines = response.headers.getSetCookie();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(SET_COOKIE);
    expect(lines[0]).not.toMatch(/domain/i);
    expect(response.headers.get("x-gate-login")).toBeNull();
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(gate.events("session.created")).toHaveLength(1);
    const token = tokenFrom(response)!;
    const seen = await gate.request("/dashboard", { headers: cookie(token) });
    expect(seen.status).toBe(200);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("login-ok");
  });

  it("logs in on the origin's redirect, keeping the redirect", async () => {
    const gate = await createTestGate();
    const jwt = await signLogin({ sub: "login-redirect" }, NOW);
    gate.origin.reply(
      () => new Response(null, { status: 303, headers: { Location: "/dashboard", "X-Gate-Login": jwt, "Set-Cookie": "flash=hi; Path=/" } }),
    );
    const response = await gate.request("/login", { method: "POST", headers: { "Sec-Fetch-Site": "same-origin" } });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/dashboard");
    const lines = response.headers.getSetCookie();
    expect(lines[0]).toBe("flash=hi; Path=/");
    expect(lines[1]).toMatch(SET_COOKIE);
  });

  it("accepts an exp exactly 5 minutes ahead, a 256-character sub and claims of exactly 2 KiB", async () => {
    const gate = await createTestGate();
    const claims = { blob: "x".repeat(2_048 - '{"blob":""}'.length) };
    expect(JSON.stringify(claims)).toHaveLength(2_048);
    const response = await originSays(gate, { "X-Gate-Login": await signLogin({ sub: "s".repeat(256), claims }, NOW, ORIGIN_SECRET, 300) });
    expect(response.headers.getSetCookie()[0]).toMatch(SET_COOKIE);
    expect(gate.events("login.invalid")).toEqual([]);
  });

  it("ends the session the request presented and issues a new sid and token (fixation)", async () => {
    const gate = await createTestGate();
    const planted = await gate.login("fixation-victim", ["user"]);
    const fresh = await gate.login("fixation-victim", ["user", "admin"], { headers: cookie(planted) });
    expect(fresh).not.toBe(planted);
    const [first, second] = sids(gate);
    expect(second).not.toBe(first);
    expect(gate.events("session.revoked")).toEqual([expect.objectContaining({ sid: first, reason: "login_replaced" })]);
    expect(await works(gate, planted)).toBe(false);
    expect(await works(gate, fresh)).toBe(true);
    expect(gate.origin.last().headers["x-gate-session"]).toBe(second);
    expect(gate.origin.last().headers["x-gate-roles"]).toBe("user,admin");
  });

  it("ends an attacker's planted session when the victim logs in over it", async () => {
    const gate = await createTestGate();
    const attackers = await gate.login("fixation-attacker");
    const victims = await gate.login("fixation-victim-2", [], { headers: cookie(attackers) });
    expect(await works(gate, attackers)).toBe(false);
    expect(await works(gate, victims)).toBe(true);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("fixation-victim-2");
  });

  describe("ignores and logs an invalid login, creating nothing", () => {
    const invalid: Array<[string, (sub: string) => Promise<string>]> = [
      ["signed with another secret", (sub) => signLogin({ sub }, NOW, "not-the-origin-secret-0123456789abcdef0123")],
      ["alg none", (sub) => craft({ alg: "none", typ: "JWT" }, { sub, iat: NOW, exp: NOW + 60 }, false)],
      ["alg none with a signature", (sub) => craft({ alg: "none" }, { sub, iat: NOW, exp: NOW + 60 })],
      [
        "an HS512 header",
        (sub) =>
          new SignJWT({ sub })
            .setProtectedHeader({ alg: "HS512" })
            .setIssuedAt(NOW)
            .setExpirationTime(NOW + 60)
            .sign(new TextEncoder().encode(ORIGIN_SECRET.repeat(2))),
      ],
      ["an RS256 header over an HMAC signature", (sub) => craft({ alg: "RS256" }, { sub, iat: NOW, exp: NOW + 60 })],
      ["expired", (sub) => signLogin({ sub }, NOW - 120, ORIGIN_SECRET, 60)],
      ["exp more than 5 minutes ahead", (sub) => signLogin({ sub }, NOW, ORIGIN_SECRET, 301)],
      ["no exp", (sub) => new SignJWT({ sub }).setProtectedHeader({ alg: "HS256" }).setIssuedAt(NOW).sign(secretKey)],
      ["no sub", () => signLogin({ roles: ["user"] }, NOW)],
      ["an empty sub", () => signLogin({ sub: "" }, NOW)],
      ["a 257-character sub", () => signLogin({ sub: "s".repeat(257) }, NOW)],
      ["a sub with CR/LF", (sub) => signLogin({ sub: `${sub}\r\nX-Gate-Roles: admin` }, NOW)],
      ["a sub with a bare LF", (sub) => signLogin({ sub: `${sub}\n` }, NOW)],
      ["a sub that is a number", () => signLogin({ sub: 42 }, NOW)],
      ["roles that are not an array", (sub) => signLogin({ sub, roles: "admin" }, NOW)],
      ["a role that is not a string", (sub) => signLogin({ sub, roles: ["user", 1] }, NOW)],
      ["a role with a comma", (sub) => signLogin({ sub, roles: ["user,admin"] }, NOW)],
      ["claims that are not an object", (sub) => signLogin({ sub, claims: "admin" }, NOW)],
      ["claims that are an array", (sub) => signLogin({ sub, claims: ["admin"] }, NOW)],
      ["claims that are null", (sub) => signLogin({ sub, claims: null }, NOW)],
      ["claims over 2 KiB", (sub) => signLogin({ sub, claims: { blob: "x".repeat(2_048 - '{"blob":""}'.length + 1) } }, NOW)],
      ["text that is not a JWT", () => Promise.resolve("not-a-jwt")],
      [
        "a JWT with a tampered payload",
        async (sub) => {
          const [header, , signature] = (await signLogin({ sub: "someone-else" }, NOW)).split(".");
          return `${header}.${b64({ sub, iat: NOW, exp: NOW + 60 })}.${signature}`;
        },
      ],
    ];

    invalid.forEach(([label, make], index) => {
      it(label, async () => {
        const gate = await createTestGate();
        const sub = `invalid-login-${index}`;
        const response = await originSays(gate, { "X-Gate-Login": await make(sub) });
        expect(response.status).toBe(200);
        expect(await response.text()).toBe("ok");
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(response.headers.get("x-gate-login")).toBeNull();
        expect(gate.events("login.invalid")).toHaveLength(1);
        expect(gate.events("session.created")).toEqual([]);
        expect(await gate.store.listUser(sub)).toEqual([]);
      });
    });
  });

  it("leaves the current session alone when the login is invalid", async () => {
    const gate = await createTestGate();
    const token = await gate.login("keeps-session");
    const response = await originSays(
      gate,
      { "X-Gate-Login": await signLogin({ sub: "mallory" }, NOW, "not-the-origin-secret-0123456789abcdef0123") },
      { headers: cookie(token) },
    );
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(gate.events("login.invalid")).toHaveLength(1);
    expect(gate.events("session.revoked")).toEqual([]);
    expect(await works(gate, token)).toBe(true);
  });
});

describe("X-Gate-Logout", () => {
  it("ends the current session and clears the cookie on `session`", async () => {
    const gate = await createTestGate();
    const token = await gate.login("logout-session");
    const other = await gate.login("logout-session");
    const response = await originSays(gate, { "X-Gate-Logout": "session" }, { path: "/account/logout", headers: cookie(token) });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([CLEARED]);
    expect(response.headers.get("x-gate-logout")).toBeNull();
    expect(await works(gate, token)).toBe(false);
    expect(await works(gate, other)).toBe(true);
  });

  it("ends every session of the user and no other user's on `user`", async () => {
    const gate = await createTestGate();
    const first = await gate.login("logout-user");
    const second = await gate.login("logout-user");
    const third = await gate.login("logout-user");
    const bystander = await gate.login("logout-bystander");
    const response = await originSays(gate, { "X-Gate-Logout": "user" }, { path: "/account/logout-everywhere", headers: cookie(second) });
    expect(response.headers.getSetCookie()).toEqual([CLEARED]);
    for (const token of [first, second, third]) expect(await works(gate, token)).toBe(false);
    expect(await works(gate, bystander)).toBe(true);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("logout-bystander");
  });

  it("does nothing for a request without a session", async () => {
    const gate = await createTestGate();
    const bystander = await gate.login("logout-nobody");
    const response = await originSays(gate, { "X-Gate-Logout": "user" }, { path: "/public/page" });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await works(gate, bystander)).toBe(true);
  });

  it("ignores and logs an unknown logout value", async () => {
    const gate = await createTestGate();
    const token = await gate.login("logout-unknown");
    const response = await originSays(gate, { "X-Gate-Logout": "everyone" }, { path: "/dashboard", headers: cookie(token) });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(gate.events("login.invalid")).toEqual([expect.objectContaining({ reason: "unknown_logout_value" })]);
    expect(await works(gate, token)).toBe(true);
  });
});

describe("POST /_gate/logout", () => {
  it("ends the session with 204, Clear-Site-Data and a cleared cookie, without reaching the origin", async () => {
    const gate = await createTestGate();
    const token = await gate.login("gate-logout");
    gate.origin.received.splice(0);
    const response = await gate.request("/_gate/logout", { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin" } });
    expect(response.status).toBe(204);
    expect(response.headers.get("clear-site-data")).toBe('"cookies"');
    expect(response.headers.getSetCookie()).toEqual([CLEARED]);
    expect(gate.origin.received).toEqual([]);
    expect(await works(gate, token)).toBe(false);
  });

  it("answers a form post with 303 to the login page", async () => {
    const gate = await createTestGate();
    const token = await gate.login("gate-logout-form");
    const response = await gate.request("/_gate/logout", {
      method: "POST",
      headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/login");
    expect(response.headers.get("clear-site-data")).toBe('"cookies"');
    expect(response.headers.getSetCookie()).toEqual([CLEARED]);
    expect(await works(gate, token)).toBe(false);
  });

  it("refuses a cross-site logout and keeps the session", async () => {
    const gate = await createTestGate();
    const token = await gate.login("gate-logout-csrf");
    const response = await gate.request("/_gate/logout", { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "cross-site" } });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: "csrf" });
    expect(await works(gate, token)).toBe(true);
  });
});

describe("the gate's own endpoints", () => {
  it("describes the session with exact values on GET /_gate/session", async () => {
    const gate = await createTestGate();
    const token = await gate.login("session-view", ["user", "admin"]);
    gate.origin.received.splice(0);
    gate.clock.advance(30_000);
    const response = await gate.request("/_gate/session", { headers: cookie(token) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      sub: "session-view",
      sid: sids(gate)[0],
      roles: ["user", "admin"],
      auth_time: NOW,
      expires_at: NOW + 12 * 3_600,
      idle_expires_at: NOW + 30 * 60,
    });
    expect(gate.origin.received).toEqual([]);
  });

  it("answers 401 on GET /_gate/session without a session", async () => {
    const gate = await createTestGate();
    const response = await gate.request("/_gate/session");
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "unauthenticated" });
    expect(gate.origin.received).toEqual([]);
  });

  it("answers 200 {status: ok} with the store's round trip on GET /_gate/health", async () => {
    const gate = await createTestGate();
    const response = await gate.request("/_gate/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", store_rtt_ms: expect.any(Number) });
    expect(gate.origin.received).toEqual([]);
  });
});

describe("unauthenticated requests", () => {
  it("redirects a navigation accepting HTML to the login page with the path and query", async () => {
    const gate = await createTestGate();
    const response = await gate.request("/dashboard?a=1", { headers: { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/login?next=%2Fdashboard%3Fa%3D1");
    expect(gate.origin.received).toEqual([]);
  });

  it("redirects a request with Sec-Fetch-Mode: navigate", async () => {
    const gate = await createTestGate();
    const response = await gate.request("/dashboard?a=1", { headers: { "Sec-Fetch-Mode": "navigate", Accept: "*/*" } });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/login?next=%2Fdashboard%3Fa%3D1");
    expect(gate.origin.received).toEqual([]);
  });

  it("answers 401 JSON to anything else", async () => {
    const gate = await createTestGate();
    const inits: Array<{ method?: string; headers: Record<string, string> }> = [
      { headers: JSON_ACCEPT },
      { headers: {} },
      { method: "POST", headers: { Accept: "text/html", "Sec-Fetch-Site": "same-origin" } },
    ];
    for (const init of inits) {
      const response = await gate.request("/dashboard?a=1", init);
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await response.text()).toBe('{"error":"unauthenticated"}');
    }
    expect(gate.origin.received).toEqual([]);
  });

  it("clears an unknown, malformed or expired cookie, with one body for every reason", async () => {
    const gate = await createTestGate();
    const expired = await gate.login("refused-reasons");
    const revoked = await gate.login("refused-reasons-2");
    await gate.request("/_gate/logout", { method: "POST", headers: { ...cookie(revoked), "Sec-Fetch-Site": "same-origin" } });
    gate.clock.advance(31 * MINUTE);
    gate.origin.received.splice(0);
    const presented = {
      unknown: "A".repeat(43),
      malformed: "not-a-token",
      expired,
      revoked,
    };
    const bodies = new Set<string>();
    for (const [reason, token] of Object.entries(presented)) {
      const response = await gate.request("/dashboard", { headers: { ...cookie(token), ...JSON_ACCEPT } });
      expect(response.status, reason).toBe(401);
      expect(response.headers.getSetCookie(), reason).toEqual([CLEARED]);
      bodies.add(await response.text());
    }
    expect([...bodies]).toEqual(['{"error":"unauthenticated"}']);
    expect(gate.origin.received).toEqual([]);
    expect(gate.events("auth.denied").map((event) => event.reason)).toEqual(["unknown_token", "malformed", "idle_timeout", "revoked"]);
  });
});

describe("timeouts", () => {
  it("accepts a session 1 s before its idle timeout", async () => {
    const gate = await createTestGate();
    const token = await gate.login("idle-before");
    gate.clock.advance(30 * MINUTE - 1_000);
    expect(await works(gate, token)).toBe(true);
  });

  it("refuses a session 1 s after its idle timeout and clears the cookie", async () => {
    const gate = await createTestGate();
    const token = await gate.login("idle-after");
    gate.origin.received.splice(0);
    gate.clock.advance(30 * MINUTE + 1_000);
    const response = await gate.request("/dashboard", { headers: { ...cookie(token), ...JSON_ACCEPT } });
    expect(response.status).toBe(401);
    expect(response.headers.getSetCookie()).toEqual([CLEARED]);
    expect(gate.origin.received).toEqual([]);
    expect(gate.events("session.expired")).toEqual([expect.objectContaining({ reason: "idle_timeout" })]);
  });

  it("counts idle time from the last recorded use", async () => {
    // Rotation also records use; push it out of the way to see touches alone.
    const gate = await createTestGate({
      gate: { session: { idle_timeout: "30m", absolute_timeout: "12h", rotate_every: "12h", rotation_grace: "30s" } },
    });
    const early = await gate.login("idle-touch");
    const late = await gate.login("idle-touch");
    gate.clock.advance(10 * MINUTE);
    // Both are stale by more than the touch interval, so both uses are recorded.
    expect(await works(gate, early)).toBe(true);
    expect(await works(gate, late)).toBe(true);
    gate.clock.advance(30 * MINUTE - 1_000);
    expect(await works(gate, early)).toBe(true);
    gate.clock.advance(2_000);
    expect(await works(gate, late)).toBe(false);
  });

  it("does not record a use within the touch interval of the last one", async () => {
    // touchInterval (src/session/manager.ts): at most one write per 60 s, so a use
    // 30 s after login leaves the idle deadline at login + idle_timeout.
    const gate = await createTestGate({
      gate: { session: { idle_timeout: "30m", absolute_timeout: "12h", rotate_every: "12h", rotation_grace: "30s" } },
    });
    const token = await gate.login("idle-no-touch");
    gate.clock.advance(30_000);
    expect(await works(gate, token)).toBe(true);
    gate.clock.advance(30 * MINUTE - 30_000 + 1_000);
    expect(await works(gate, token)).toBe(false);
  });

  it("accepts an active session 1 s before its absolute timeout and refuses it 1 s after", async () => {
    const gate = await createTestGate();
    let token = await gate.login("absolute");
    const use = async () => {
      const response = await gate.request("/dashboard", { headers: { ...cookie(token), ...JSON_ACCEPT } });
      token = tokenFrom(response) || token;
      return response;
    };
    for (let elapsed = 0; elapsed + 25 * MINUTE < 12 * 60 * MINUTE; elapsed += 25 * MINUTE) {
      gate.clock.advance(25 * MINUTE);
      expect((await use()).status).toBe(200);
    }
    gate.clock.now = T0 + 12 * 60 * MINUTE - 1_000;
    expect((await use()).status).toBe(200);
    gate.origin.received.splice(0);
    gate.clock.advance(2_000);
    const response = await use();
    expect(response.status).toBe(401);
    expect(response.headers.getSetCookie()).toEqual([CLEARED]);
    expect(gate.origin.received).toEqual([]);
    expect(gate.events("session.expired")).toEqual([expect.objectContaining({ reason: "absolute_timeout" })]);
  });
});

describe("bearer tokens", () => {
  it("authenticate with Authorization: Bearer and are never rotated", async () => {
    const gate = await createTestGate();
    const token = await gate.login("bearer-user", ["api"]);
    for (let i = 0; i < 3; i++) {
      gate.clock.advance(16 * MINUTE);
      const response = await gate.request("/dashboard", { headers: { Authorization: `Bearer ${token}`, ...JSON_ACCEPT } });
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(gate.origin.last().headers["x-gate-user"]).toBe("bearer-user");
      expect(gate.origin.last().headers.authorization).toBeUndefined();
    }
    expect(gate.events("session.rotated")).toEqual([]);
  });

  it("refuses an unknown bearer token with 401 and clears no cookie", async () => {
    const gate = await createTestGate();
    const response = await gate.request("/dashboard", { headers: { Authorization: `Bearer ${"B".repeat(43)}`, ...JSON_ACCEPT } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "unauthenticated" });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(gate.origin.received).toEqual([]);
  });
});
