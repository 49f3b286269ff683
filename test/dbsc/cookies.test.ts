import { describe, expect, it } from "vitest";
import { CookieJar, parseAttributes } from "./cookies";
import { createSession, inScope, missingCredential } from "./session";

const URL_ = new URL("https://gate.example/_gate/dbsc/registration");

describe("cookie jar and bound-credential matching", () => {
  it("expires by Max-Age (over Expires) on the injected clock, and enforces __Host-", () => {
    let t = 1_000_000;
    const jar = new CookieJar(() => t);
    expect(jar.setCookie("__Host-session=a; Path=/; HttpOnly", URL_)).toBe(false); // no Secure
    expect(jar.setCookie("__Host-session=a; Path=/; Secure; Domain=gate.example", URL_)).toBe(false); // Domain
    jar.setCookie("__Host-session=a; Max-Age=10; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Path=/; Secure", URL_);
    expect(jar.header(new URL("https://gate.example/x"))).toBe("__Host-session=a");
    t += 10_000;
    expect(jar.header(new URL("https://gate.example/x"))).toBeUndefined();
    expect(parseAttributes(" Path=/a; SameSite=strict; HttpOnly", URL_)).toMatchObject({
      path: "/a",
      sameSite: "Strict",
      httpOnly: true,
      hostOnly: true,
    });
  });

  it("counts a credential missing when the cookie's binding attributes differ from the config's", () => {
    const body = JSON.stringify({
      session_identifier: "s",
      scope: { include_site: false },
      credentials: [{ type: "cookie", name: "__Host-session", attributes: "Path=/; Secure; HttpOnly; SameSite=Lax" }],
    });
    const created = createSession(body, URL_, null);
    if (!created.ok) throw new Error(created.reason);
    const jar = new CookieJar(() => 0);
    const app = new URL("https://gate.example/app");
    expect(inScope(app, created.session)).toBe(true);
    expect(inScope(new URL("https://gate.example/_gate/dbsc/registration"), created.session)).toBe(false); // the refresh URL
    jar.setCookie("__Host-session=a; Path=/; Secure; SameSite=Lax", URL_); // not HttpOnly
    expect(missingCredential(jar, created.session, app)).toBe("__Host-session");
    jar.setCookie("__Host-session=b; Path=/; Secure; HttpOnly; SameSite=Lax", URL_);
    expect(missingCredential(jar, created.session, app)).toBeUndefined();
  });

  it("rejects instructions the draft says terminate the session", () => {
    const base = { session_identifier: "s", scope: { include_site: false }, credentials: [{ type: "cookie", name: "c" }] };
    const reason = (o: object, id: string | null = null) => {
      const r = createSession(JSON.stringify({ ...base, ...o }), URL_, id);
      return r.ok ? "ok" : r.reason;
    };
    expect(reason({})).toBe("ok");
    expect(reason({}, "other")).toBe("mismatched-session_identifier");
    expect(reason({ refresh_url: "https://evil.example/r" })).toBe("refresh_url-not-same-site");
    expect(reason({ refresh_url: "http://gate.example/r" })).toBe("refresh_url-not-secure");
    expect(reason({ credentials: [{ type: "cookie", name: "c", attributes: "Partitioned" }] })).toBe("credential-partitioned");
    expect(reason({ credentials: [{ type: "token", name: "c" }] })).toBe("credential-type-not-cookie");
    expect(reason({ scope: {} })).toBe("missing-scope");
    const withMaxAge = JSON.stringify({ ...base, credentials: [{ type: "cookie", name: "c", attributes: "Path=/; Max-Age=60" }] });
    expect(createSession(withMaxAge, URL_, null).ok).toBe(true);
    expect(createSession(withMaxAge, URL_, null, true)).toMatchObject({ ok: false, reason: "credential-unpermitted-attribute" });
  });
});
