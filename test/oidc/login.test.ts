import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { cookie, createTestGate, tokenFrom } from "../helpers/gate";
import { atProvider, callback, createOidcGate, issuerOf, logInWithProvider, startLogin } from "./helpers";

const TRANSACTION_COOKIE = /^__Host-gate-oidc-[A-Za-z0-9_-]{22}=[A-Za-z0-9_-]+; Path=\/; Max-Age=600; Secure; HttpOnly; SameSite=Lax$/;

describe("GET /_gate/oidc/<name>/login", () => {
  it("redirects to the provider with the code flow, PKCE S256, state and nonce, and seals the transaction in a cookie", async () => {
    const gate = await createOidcGate();
    const { response, location } = await startLogin(gate);
    expect(location.origin + location.pathname).toBe(`${issuerOf()}/auth`);
    const params = Object.fromEntries(location.searchParams);
    expect(params).toMatchObject({
      client_id: "gate-confidential",
      redirect_uri: "https://gate.example/_gate/oidc/corp/callback",
      response_type: "code",
      scope: "openid email profile groups",
      code_challenge_method: "S256",
    });
    expect(params.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.prompt).toBeUndefined();
    // max_age = the session's absolute timeout: the provider must then say when it authenticated (auth_time), and a
    // session never starts from an authentication older than a session may live.
    expect(params.max_age).toBe(String(12 * 3600));
    const lines = response.headers.getSetCookie();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(TRANSACTION_COOKIE);
    expect(lines[0].split("=")[0]).toBe(`__Host-gate-oidc-${params.state.slice(0, 22)}`);
    expect(response.headers.get("cache-control")).toBe("no-store");
    // The state and the verifier are in no readable form in the cookie: it is sealed.
    expect(lines[0]).not.toContain(params.state);
    expect(gate.origin.received).toEqual([]);
    expect(gate.events("session.created")).toEqual([]);
  });

  it("is not there at all on a gate without providers", async () => {
    const gate = await createTestGate();
    for (const path of ["/_gate/oidc/corp/login", "/_gate/oidc/corp/callback?state=x&code=y"]) {
      expect((await gate.request(path, { headers: { Accept: "application/json" } })).status).toBe(404);
    }
    expect((await gate.request("/_gate/oidc/corp/backchannel-logout", { method: "POST", body: "logout_token=x" })).status).toBe(404);
    expect(gate.origin.received).toEqual([]);
  });

  it("answers 404 for a provider that is not configured", async () => {
    const gate = await createOidcGate();
    const response = await gate.request("/_gate/oidc/nope/login", { headers: { Accept: "application/json" } });
    expect(response.status).toBe(404);
    expect(gate.origin.received).toEqual([]);
  });
});

describe("a login through the provider", () => {
  it("creates a session, answers 303 to next, and the origin sees X-Gate-User", async () => {
    const gate = await createOidcGate();
    const { response } = await logInWithProvider(gate, { next: "/dashboard?tab=2" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/dashboard?tab=2");
    const lines = response.headers.getSetCookie();
    expect(lines.some((line) => /^__Host-gate-oidc-[^=]+=; Path=\/; Max-Age=0; Secure; HttpOnly; SameSite=Lax$/.test(line))).toBe(true);
    const token = tokenFrom(response);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(gate.origin.received).toEqual([]);

    const seen = await gate.request("/dashboard?tab=2", { headers: cookie(token as string) });
    expect(seen.status).toBe(200);
    const headers = gate.origin.last().headers;
    expect(headers["x-gate-user"]).toBe("corp:alice"); // a provider's sub is unique only there: prefixed by its name
    expect(headers["x-gate-roles"]).toBe("staff,admins");
    expect(decodeJwt(headers["x-gate-assertion"])).toMatchObject({ sub: "corp:alice", idp: "corp" });

    const session = await (await gate.request("/_gate/session", { headers: cookie(token as string) })).json();
    expect(session).toMatchObject({ sub: "corp:alice", roles: ["staff", "admins"], idp: "corp" });
    const [login] = gate.events("oidc.login");
    expect(login).toMatchObject({ provider: "corp", sub: "corp:alice", idp_sid: true });
    const stored = await gate.store.get((session as { sid: string }).sid);
    expect(stored?.idp).toBe("corp");
    expect(stored?.idpSid).toMatch(/.+/);
    expect(stored?.claims).toEqual({ email: "alice@example.com", email_verified: true, name: "Alice Example" });
  });

  it("logs in a public client with PKCE only", async () => {
    const gate = await createOidcGate();
    const { response } = await logInWithProvider(gate, { provider: "pub", user: "bob" });
    expect(response.status).toBe(303);
    const session = await (await gate.request("/_gate/session", { headers: cookie(tokenFrom(response) as string) })).json();
    expect(session).toMatchObject({ sub: "pub:bob", roles: [], idp: "pub" });
  });

  it("ends the session the browser presented (fixation) and issues a new sid and token", async () => {
    const gate = await createOidcGate();
    const before = await gate.login("someone-else", ["admin"]);
    const { sid: oldSid } = (await (await gate.request("/_gate/session", { headers: cookie(before) })).json()) as { sid: string };
    const { response } = await logInWithProvider(gate, { session: before });
    expect(response.status).toBe(303);
    const after = tokenFrom(response) as string;
    expect(after).not.toBe(before);
    expect((await gate.request("/_gate/session", { headers: cookie(before) })).status).toBe(401);
    const session = (await (await gate.request("/_gate/session", { headers: cookie(after) })).json()) as { sid: string; sub: string };
    expect(session.sub).toBe("corp:alice");
    expect(session.sid).not.toBe(oldSid);
    expect(gate.events("session.revoked")).toEqual([expect.objectContaining({ sid: oldSid, reason: "login_replaced" })]);
  });

  it("keeps several logins in progress at once, each with its own cookie", async () => {
    const gate = await createOidcGate();
    const first = await startLogin(gate, { query: "?next=/one" });
    const second = await startLogin(gate, { query: "?next=/two", headers: { Cookie: first.transaction } });
    expect(second.transaction.split("=")[0]).not.toBe(first.transaction.split("=")[0]);
    const both = [first.transaction, second.transaction];
    // The second tab finishes first, then the first one.
    const two = await callback(gate, (await atProvider(second.location)).callbackUrl, both);
    expect(two.status).toBe(303);
    expect(two.headers.get("location")).toBe("/two");
    const one = await callback(gate, (await atProvider(first.location)).callbackUrl, both);
    expect(one.status).toBe(303);
    expect(one.headers.get("location")).toBe("/one");
    expect(gate.events("oidc.login")).toHaveLength(2);
  });

  it("keeps at most four transactions: a fifth login clears the oldest", async () => {
    const gate = await createOidcGate();
    const cookies: string[] = [];
    for (let i = 0; i < 4; i++) {
      cookies.push((await startLogin(gate, { headers: cookies.length ? { Cookie: cookies.join("; ") } : {} })).transaction);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const fifth = await startLogin(gate, { headers: { Cookie: cookies.join("; ") } });
    const cleared = fifth.response.headers.getSetCookie().filter((line) => line.includes("Max-Age=0"));
    expect(cleared).toEqual([`${cookies[0].split("=")[0]}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`]);
  });
});

describe("next", () => {
  it.each([
    ["?next=/goodbye", "/goodbye"],
    ["?next=%2Fdashboard%3Ftab%3D2", "/dashboard?tab=2"],
    ["?next=/", "/"],
  ])("returns to the local path of %s", async (query, location) => {
    const gate = await createOidcGate();
    const { location: authorize, transaction } = await startLogin(gate, { query });
    const response = await callback(gate, (await atProvider(authorize)).callbackUrl, [transaction]);
    expect(response.headers.get("location")).toBe(location);
  });

  it.each([
    "?next=//evil.example",
    "?next=https://evil.example",
    "?next=/%5Cevil.example",
    "?next=%2F%2Fevil.example",
    "?next=%252F%252Fevil.example",
    "?next=/%09/evil.example",
    "?next=/%0D%0ASet-Cookie:x=1",
    "?next=javascript:alert(1)",
    "?next=evil.example",
    "?next=",
    "",
  ])("refuses %s and returns to / instead", async (query) => {
    const gate = await createOidcGate();
    const { location: authorize, transaction } = await startLogin(gate, { query });
    const response = await callback(gate, (await atProvider(authorize)).callbackUrl, [transaction]);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/");
  });
});

describe("GATE.login_provider", () => {
  it("sends unauthenticated navigations to the provider's login instead of login_path", async () => {
    const gate = await createOidcGate({ gate: { login_provider: "corp" } });
    const response = await gate.request("/dashboard?tab=2", { headers: { Accept: "text/html" } });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/_gate/oidc/corp/login?next=%2Fdashboard%3Ftab%3D2");
    expect(gate.origin.received).toEqual([]);
    // API calls still get 401.
    expect((await gate.request("/dashboard", { headers: { Accept: "application/json" } })).status).toBe(401);
  });

  it("asks the provider for a fresh login (prompt=login, max_age=0) when a route needs one, and the new login passes", async () => {
    const routes = [
      { path: "/fresh/*", fresh: "1s" },
      { path: "/*", access: "session" },
    ];
    const gate = await createOidcGate({ gate: { login_provider: "corp", routes } });
    const first = await logInWithProvider(gate, { next: "/fresh/x" });
    const token = tokenFrom(first.response) as string;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const stale = await gate.request("/fresh/x", { headers: { ...cookie(token), Accept: "text/html" } });
    expect(stale.status).toBe(302);
    expect(stale.headers.get("location")).toBe("/_gate/oidc/corp/login?next=%2Ffresh%2Fx&reauth=1");

    const { location, transaction } = await startLogin(gate, { query: "?next=%2Ffresh%2Fx&reauth=1" });
    expect(location.searchParams.get("prompt")).toBe("login");
    expect(location.searchParams.get("max_age")).toBe("0");
    // The provider asks again although its session is alive (the jar holds it).
    const { callbackUrl, steps } = await atProvider(location, { jar: first.jar });
    expect(steps.some((step) => step.method === "POST" && step.url.endsWith("/login"))).toBe(true);
    const again = await callback(gate, callbackUrl, [transaction, `__Host-session=${token}`]);
    expect(again.status).toBe(303);
    const fresh = await gate.request("/fresh/x", { headers: cookie(tokenFrom(again) as string) });
    expect(fresh.status).toBe(200);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("corp:alice");
  });
});
