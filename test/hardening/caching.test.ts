import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, cookie, createTestGate, signLogin, tokenFrom } from "../helpers/gate";

const NO_STORE = "private, no-store";
const SAME_ORIGIN = { "Sec-Fetch-Site": "same-origin" };

/** A gate with alice signed in, whose origin answers with `headers`. */
async function signedIn(headers: Record<string, string> = {}) {
  const gate = await createTestGate();
  const token = await gate.login("cache-alice", ["user"]);
  gate.origin.reply(() => new Response("alice's page", { headers }));
  return { gate, token };
}

describe("responses to a session stay out of shared caches", () => {
  it("gets Cache-Control: private, no-store and Vary: Cookie when the origin said nothing", async () => {
    const { gate, token } = await signedIn();
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(response.headers.get("Cache-Control")).toBe(NO_STORE);
    expect(response.headers.get("Vary")).toBe("Cookie");
  });

  it.each([
    ["public, max-age=3600", NO_STORE],
    ["s-maxage=600", NO_STORE],
    ["no-cache", NO_STORE],
    // Qualified private (RFC 9111 §5.2.2.7) hides only the named field: the rest is shared-cacheable.
    ['private="Set-Cookie", max-age=3600', NO_STORE],
    ['public, x-note="private, no-store"', NO_STORE],
    ["private, max-age=60", "private, max-age=60"],
    ["Private, Max-Age=60", "Private, Max-Age=60"],
    ["no-store", "no-store"],
    ["public, NO-STORE", "public, NO-STORE"],
  ])("origin Cache-Control %j leaves as %j", async (theirs, expected) => {
    const { gate, token } = await signedIn({ "Cache-Control": theirs });
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(response.headers.get("Cache-Control")).toBe(expected);
  });

  it.each([
    ["Accept-Encoding", "Accept-Encoding, Cookie"],
    ["Accept-Encoding, Origin", "Accept-Encoding, Origin, Cookie"],
    ["cookie", "cookie"],
    ["Origin,Cookie", "Origin,Cookie"],
    ["*", "*"],
    ["X-Cookie", "X-Cookie, Cookie"],
  ])("merges origin Vary %j into %j", async (theirs, expected) => {
    const { gate, token } = await signedIn({ Vary: theirs });
    expect((await gate.request("/dashboard", { headers: cookie(token) })).headers.get("Vary")).toBe(expected);
  });

  it("applies to a public route requested with a session, to a bearer session, and to the gate's own errors", async () => {
    const { gate, token } = await signedIn({ "Cache-Control": "public, max-age=600" });
    expect((await gate.request("/public/page", { headers: cookie(token) })).headers.get("Cache-Control")).toBe(NO_STORE);
    const issued = await gate.request("/_gate/admin/sessions", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      body: '{"sub":"cache-api"}',
    });
    const { token: bearer } = (await issued.json()) as { token: string };
    const api = await gate.request("/api/items", { headers: { Authorization: `Bearer ${bearer}` } });
    expect(api.status).toBe(200);
    expect(api.headers.get("Cache-Control")).toBe(NO_STORE);
    const forbidden = await gate.request("/admin/x", { headers: { ...cookie(token), Accept: "application/json" } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("Cache-Control")).toMatch(/no-store/);
    expect(forbidden.headers.get("Vary")).toBe("Cookie");
  });

  it("leaves a response to a request without a session as the origin sent it", async () => {
    const gate = await createTestGate();
    gate.origin.reply(() => new Response("hello", { headers: { "Cache-Control": "public, max-age=600" } }));
    const response = await gate.request("/public/page");
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=600");
    expect(response.headers.get("Vary")).toBeNull();
  });
});

describe("responses that set or clear the session cookie are never stored", () => {
  const ORIGIN_SAYS = { "Cache-Control": "private, max-age=60" };

  it("on login, even when the origin allowed private caching", async () => {
    const gate = await createTestGate();
    const jwt = await signLogin({ sub: "cache-login" }, Math.floor(gate.clock.now / 1_000));
    gate.origin.reply(() => new Response("welcome", { headers: { ...ORIGIN_SAYS, "X-Gate-Login": jwt } }));
    const response = await gate.request("/login", { method: "POST", headers: SAME_ORIGIN });
    expect(tokenFrom(response)).toBeTruthy();
    expect(response.headers.get("Cache-Control")).toBe(NO_STORE);
  });

  it("on rotation", async () => {
    const { gate, token } = await signedIn(ORIGIN_SAYS);
    gate.clock.advance(16 * 60_000);
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(tokenFrom(response)).toMatch(/^[\w-]{43}$/);
    expect(response.headers.get("Cache-Control")).toBe(NO_STORE);
  });

  it("when a refused cookie is cleared, on a public route too", async () => {
    const gate = await createTestGate();
    gate.origin.reply(() => new Response("hello", { headers: { "Cache-Control": "public, max-age=600" } }));
    const response = await gate.request("/public/page", { headers: cookie("R".repeat(43)) });
    expect(tokenFrom(response)).toBe("");
    expect(response.headers.get("Cache-Control")).toBe(NO_STORE);
  });

  it("on logout, by the origin or by POST /_gate/logout", async () => {
    const { gate, token } = await signedIn({ ...ORIGIN_SAYS, "X-Gate-Logout": "session" });
    const byOrigin = await gate.request("/account/logout", { method: "POST", headers: { ...cookie(token), ...SAME_ORIGIN } });
    expect(tokenFrom(byOrigin)).toBe("");
    expect(byOrigin.headers.get("Cache-Control")).toBe(NO_STORE);
    const other = await gate.login("cache-bob");
    const byGate = await gate.request("/_gate/logout", { method: "POST", headers: { ...cookie(other), ...SAME_ORIGIN } });
    expect(byGate.status).toBe(204);
    expect(byGate.headers.get("Cache-Control")).toMatch(/no-store/);
    expect(byGate.headers.get("Clear-Site-Data")).toBe('"cookies"');
  });
});

describe("the back button after logout", () => {
  it("finds nothing of the session in any cache: every page of it was no-store, and the page now needs a login", async () => {
    const { gate, token } = await signedIn();
    const navigate = { "Sec-Fetch-Mode": "navigate", Accept: "text/html" };
    const pages = [];
    for (const path of ["/dashboard", "/account", "/public/news"])
      pages.push(await gate.request(path, { headers: { ...navigate, ...cookie(token) } }));
    for (const page of pages) expect(page.headers.get("Cache-Control")).toBe(NO_STORE);
    const logout = await gate.request("/_gate/logout", {
      method: "POST",
      headers: { ...cookie(token), ...SAME_ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(logout.status).toBe(303);
    expect(logout.headers.get("Cache-Control")).toMatch(/no-store/);
    // Going back re-requests the page (nothing was stored); the browser has no cookie left, or still the old one.
    for (const headers of [navigate, { ...navigate, ...cookie(token) }]) {
      const back = await gate.request("/dashboard", { headers });
      expect(back.status).toBe(302);
      expect(back.headers.get("Location")).toBe("/login?next=%2Fdashboard");
    }
  });
});
