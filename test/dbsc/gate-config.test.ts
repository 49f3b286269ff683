import { describe, expect, it } from "vitest";
import { boundCookie, cookieAttributes, type SessionConfigOptions, sessionConfig } from "../../src/dbsc/config";
import { DbscError } from "../../src/dbsc/errors";
import { CookieJar, parseAttributes, sameBinding } from "./cookies";
import { createSession, inScope, missingCredential } from "./session";

const ORIGIN = "https://gate.example";
const SID = "q3Zq1cS7bV0r9mPzYw2xkA";
const REGISTRATION = new URL(`${ORIGIN}/_gate/dbsc/registration`);
const OPTIONS: SessionConfigOptions = {
  sessionId: SID,
  origin: ORIGIN,
  refreshPath: "/_gate/dbsc/refresh",
  cookie: { name: "__Host-session", attributes: cookieAttributes("Lax") },
};

describe("sessionConfig", () => {
  it("answers the draft's session instructions exactly", () => {
    expect(sessionConfig(OPTIONS)).toEqual({
      session_identifier: SID,
      refresh_url: "/_gate/dbsc/refresh",
      scope: { origin: ORIGIN, include_site: false, scope_specification: [] },
      credentials: [{ type: "cookie", name: "__Host-session", attributes: "Path=/; Secure; HttpOnly; SameSite=Lax" }],
    });
  });

  it.each([false, true])("is accepted by the test client's Create session (Chrome's rules: %s)", (chrome) => {
    const created = createSession(JSON.stringify(sessionConfig(OPTIONS)), REGISTRATION, null, chrome);
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    expect(created.session.id).toBe(SID);
    expect(created.session.refreshUrl.href).toBe(`${ORIGIN}/_gate/dbsc/refresh`);
    expect(created.session.origin).toBe(ORIGIN);
    // And on refresh, for the same id (the draft: it MUST equal the current one).
    expect(createSession(JSON.stringify(sessionConfig(OPTIONS)), new URL(`${ORIGIN}/_gate/dbsc/refresh`), SID, chrome).ok).toBe(true);
  });

  it("scopes every path of the origin, /_gate/ included, but not the refresh URL, nor other origins", () => {
    const created = createSession(JSON.stringify(sessionConfig(OPTIONS)), REGISTRATION, null, true);
    if (!created.ok) throw new Error(created.reason);
    const at = (url: string) => inScope(new URL(url), created.session);
    expect([at(`${ORIGIN}/`), at(`${ORIGIN}/app/x`), at(`${ORIGIN}/_gate/session`), at(`${ORIGIN}/_gate/logout`)]).toEqual([true, true, true, true]);
    expect(at(`${ORIGIN}/_gate/dbsc/refresh`)).toBe(false);
    expect(at("https://other.gate.example/app")).toBe(false);
  });

  it("excludes the paths it is told to, with the origin's host as the rule's domain (what Chrome accepts)", () => {
    const config = sessionConfig({ ...OPTIONS, exclude: ["/static", "/_gate/health"] });
    expect(config.scope.scope_specification).toEqual([
      { type: "exclude", domain: "gate.example", path: "/static" },
      { type: "exclude", domain: "gate.example", path: "/_gate/health" },
    ]);
    const created = createSession(JSON.stringify(config), REGISTRATION, null, true);
    if (!created.ok) throw new Error(created.reason);
    expect(inScope(new URL(`${ORIGIN}/static/app.js`), created.session)).toBe(false);
    expect(inScope(new URL(`${ORIGIN}/staticky`), created.session)).toBe(true);
  });

  it("adds allowed_refresh_initiators only when there are some, and include_site when asked", () => {
    expect(sessionConfig(OPTIONS)).not.toHaveProperty("allowed_refresh_initiators");
    const config = sessionConfig({ ...OPTIONS, allowedRefreshInitiators: ["*.gate.example"], includeSite: true });
    expect(config.allowed_refresh_initiators).toEqual(["*.gate.example"]);
    expect(config.scope.include_site).toBe(true);
  });

  it.each([
    [
      "Max-Age in the attributes (Chrome refuses the registration)",
      { cookie: { name: "__Host-session", attributes: "Path=/; Max-Age=600; Secure" } },
    ],
    ["Expires in the attributes", { cookie: { name: "__Host-session", attributes: "Path=/; expires=Wed, 21 Oct 2026 07:28:00 GMT" } }],
    ["Partitioned (the draft refuses it)", { cookie: { name: "__Host-session", attributes: "Path=/; Secure; Partitioned" } }],
    ["a cookie name with a separator", { cookie: { name: "a;b", attributes: "Path=/" } }],
    ["an origin with a path", { origin: `${ORIGIN}/` }],
    ["an origin over http", { origin: "http://gate.example" }],
    ["not a URL", { origin: "gate.example" }],
    ["a protocol-relative refresh path", { refreshPath: "//evil.example/refresh" }],
    ["a relative refresh path", { refreshPath: "refresh" }],
    ["a refresh path with a space", { refreshPath: "/a b" }],
    ["a session id that would need escaping", { sessionId: 'a"b' }],
    ["an empty session id", { sessionId: "" }],
    ["an exclude path that is not a path", { exclude: ["static"] }],
  ])("refuses %s", (_, change) => {
    expect(() => sessionConfig({ ...OPTIONS, ...change } as SessionConfigOptions)).toThrow(DbscError);
  });

  it("allows http on a loopback origin, for development", () => {
    expect(sessionConfig({ ...OPTIONS, origin: "http://localhost:8787" }).scope.origin).toBe("http://localhost:8787");
  });
});

describe("the bound cookie and its credential agree", () => {
  it.each(["Lax", "Strict"] as const)(
    "SameSite=%s: the Set-Cookie matches the credential on Domain, Path, Secure, HttpOnly and SameSite",
    (sameSite) => {
      const attributes = cookieAttributes(sameSite);
      expect(attributes).toBe(`Path=/; Secure; HttpOnly; SameSite=${sameSite}`);
      const line = boundCookie({ name: "__Host-session", sameSite }, "tok", 600);
      expect(line).toBe(`__Host-session=tok; Max-Age=600; ${attributes}`);
      const set = parseAttributes(line.slice(line.indexOf(";") + 1), REGISTRATION);
      expect(sameBinding(set, parseAttributes(attributes, REGISTRATION))).toBe(true);
      expect(set.maxAge).toBe(600);
    },
  );

  it("makes the browser see the credential present while the cookie lives, and missing once Max-Age runs out", () => {
    let t = 0;
    const jar = new CookieJar(() => t);
    const created = createSession(JSON.stringify(sessionConfig(OPTIONS)), REGISTRATION, null, true);
    if (!created.ok) throw new Error(created.reason);
    expect(jar.setCookie(boundCookie({ name: "__Host-session", sameSite: "Lax" }, "tok", 600), REGISTRATION)).toBe(true);
    expect(missingCredential(jar, created.session, new URL(`${ORIGIN}/app`))).toBeUndefined();
    t = 600_000;
    expect(missingCredential(jar, created.session, new URL(`${ORIGIN}/app`))).toBe("__Host-session");
  });

  it("refuses a cookie value or name that could add an attribute", () => {
    expect(() => boundCookie({ name: "__Host-session", sameSite: "Lax" }, "a; Domain=evil", 600)).toThrow(DbscError);
    expect(() => boundCookie({ name: "a=b", sameSite: "Lax" }, "tok", 600)).toThrow(DbscError);
    expect(() => cookieAttributes("None" as "Lax")).toThrow(DbscError);
  });
});
