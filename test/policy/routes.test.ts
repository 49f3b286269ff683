import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";

type TestGate = Awaited<ReturnType<typeof createTestGate>>;

/** Logs `sub` in, then forgets the login request so `origin.received` shows only what follows. */
async function loggedIn(gate: TestGate, sub: string, roles: string[]): Promise<Record<string, string>> {
  const token = await gate.login(sub, roles);
  gate.origin.received.length = 0;
  return cookie(token);
}

/** Asserts the gate's refusal and that the request never reached the origin. */
async function expectRefused(gate: TestGate, response: Response, status: number, error: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(await response.json()).toEqual({ error });
  expect(gate.origin.received).toHaveLength(0);
}

/** Asserts the request was forwarded once, with exactly this path. */
function expectForwarded(gate: TestGate, response: Response, path: string): void {
  expect(response.status).toBe(200);
  expect(gate.origin.received).toHaveLength(1);
  expect(gate.origin.last().path).toBe(path);
}

const API = { Accept: "application/json" };
const NAVIGATE = { "Sec-Fetch-Mode": "navigate", Accept: "text/html" };
const SAME_ORIGIN = { "Sec-Fetch-Site": "same-origin" };
/** The route `gate.login()` posts to; custom route lists keep it. */
const LOGIN = { path: "/login", access: "public" };

describe("route policy", () => {
  it("applies the first route that matches, not the most specific", async () => {
    const publicFirst = await createTestGate({
      gate: {
        routes: [
          { path: "/docs/*", access: "public" },
          { path: "/docs/secret", access: "deny" },
        ],
      },
    });
    expectForwarded(publicFirst, await publicFirst.request("/docs/secret", { headers: API }), "/docs/secret");

    const denyFirst = await createTestGate({
      gate: {
        routes: [
          { path: "/docs/secret", access: "deny" },
          { path: "/docs/*", access: "public" },
        ],
      },
    });
    await expectRefused(denyFirst, await denyFirst.request("/docs/secret", { headers: API }), 404, "not_found");
    expectForwarded(denyFirst, await denyFirst.request("/docs/other", { headers: API }), "/docs/other");
  });

  describe("methods", () => {
    const routes = [
      { path: "/api/*", methods: ["GET"], access: "public" },
      { path: "/api/*", access: "deny" },
    ];

    it("lets a request whose method is listed use the route", async () => {
      const gate = await createTestGate({ gate: { routes } });
      expectForwarded(gate, await gate.request("/api/items", { headers: API }), "/api/items");
    });

    it("passes a request whose method is not listed on to the later routes", async () => {
      const gate = await createTestGate({ gate: { routes } });
      for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
        const response = await gate.request("/api/items", { method, headers: { ...API, ...SAME_ORIGIN } });
        await expectRefused(gate, response, 404, "not_found");
      }
    });

    it("gives HEAD the policy of GET", async () => {
      const gate = await createTestGate({ gate: { routes } });
      const response = await gate.request("/api/items", { method: "HEAD", headers: API });
      expectForwarded(gate, response, "/api/items");
      expect(gate.origin.last().method).toBe("HEAD");
    });
  });

  describe("access", () => {
    it("forwards a public route without a session, and without identity headers", async () => {
      const gate = await createTestGate();
      const response = await gate.request("/public/page", { headers: API });
      expectForwarded(gate, response, "/public/page");
      expect(gate.origin.last().headers["x-gate-user"]).toBeUndefined();
    });

    it("forwards identity on a public route when a session is present", async () => {
      const gate = await createTestGate();
      const session = await loggedIn(gate, "alice", ["user"]);
      expectForwarded(gate, await gate.request("/public/page", { headers: session }), "/public/page");
      expect(gate.origin.last().headers["x-gate-user"]).toBe("alice");
    });

    it("answers 401 to an API call on a session route without a session", async () => {
      const gate = await createTestGate();
      await expectRefused(gate, await gate.request("/dashboard", { headers: API }), 401, "unauthenticated");
    });

    it("redirects a navigation on a session route without a session to the login page", async () => {
      const gate = await createTestGate();
      const response = await gate.request("/dashboard/x?tab=2", { headers: NAVIGATE });
      expect(response.status).toBe(302);
      expect(response.headers.get("Location")).toBe("/login?next=%2Fdashboard%2Fx%3Ftab%3D2");
      expect(gate.origin.received).toHaveLength(0);
    });

    it("forwards a session route with a session", async () => {
      const gate = await createTestGate();
      const session = await loggedIn(gate, "alice", ["user"]);
      expectForwarded(gate, await gate.request("/dashboard", { headers: session }), "/dashboard");
    });

    it("answers 404 on a deny route, even to an admin", async () => {
      const gate = await createTestGate();
      const session = await loggedIn(gate, "root", ["admin"]);
      await expectRefused(gate, await gate.request("/deny/x", { headers: session }), 404, "not_found");
      // A navigation gets the same 404 as a readable page (contract §9).
      const page = await gate.request("/deny/x", { headers: NAVIGATE });
      expect(page.status).toBe(404);
      expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
      expect(await page.text()).toContain("Page not found");
      expect(gate.origin.received).toHaveLength(0);
    });

    it("treats a path no route matches as a session route", async () => {
      const gate = await createTestGate({ gate: { routes: [LOGIN, { path: "/public/*", access: "public" }] } });
      await expectRefused(gate, await gate.request("/elsewhere", { headers: API }), 401, "unauthenticated");
      const session = await loggedIn(gate, "alice", []);
      expectForwarded(gate, await gate.request("/elsewhere", { headers: session }), "/elsewhere");
    });

    it("treats every path as a session route when there are no routes", async () => {
      const gate = await createTestGate({ gate: { routes: [] } });
      await expectRefused(gate, await gate.request("/public/page", { headers: API }), 401, "unauthenticated");
    });
  });

  describe("roles", () => {
    const routes = [LOGIN, { path: "/ops/*", roles: ["admin", "ops"] }, { path: "/*" }];

    it("lets in a user with any one of the route's roles", async () => {
      const gate = await createTestGate({ gate: { routes } });
      const ops = await loggedIn(gate, "olga", ["viewer", "ops"]);
      expectForwarded(gate, await gate.request("/ops/board", { headers: ops }), "/ops/board");
    });

    it("answers 403 to a user with none of the route's roles, and logs why", async () => {
      const gate = await createTestGate({ gate: { routes } });
      const user = await loggedIn(gate, "bob", ["user"]);
      await expectRefused(gate, await gate.request("/ops/board", { headers: user }), 403, "forbidden");
      expect(gate.events("auth.denied")).toEqual([expect.objectContaining({ reason: "missing_role", sub: "bob", route: "/ops/*" })]);
    });

    it("answers 403 to a user with no roles at all", async () => {
      const gate = await createTestGate({ gate: { routes } });
      const user = await loggedIn(gate, "nobody", []);
      await expectRefused(gate, await gate.request("/ops/board", { headers: user }), 403, "forbidden");
    });
  });

  describe("fresh", () => {
    it("accepts a login exactly as old as the route allows", async () => {
      const gate = await createTestGate();
      const admin = await loggedIn(gate, "alice", ["admin"]);
      gate.clock.advance(10 * 60_000);
      expectForwarded(gate, await gate.request("/admin/panel", { headers: { ...admin, ...API } }), "/admin/panel");
    });

    it("answers 401 reauthentication_required to an API call once the login is older", async () => {
      const gate = await createTestGate();
      const admin = await loggedIn(gate, "alice", ["admin"]);
      gate.clock.advance(10 * 60_000 + 1);
      await expectRefused(gate, await gate.request("/admin/panel", { headers: { ...admin, ...API } }), 401, "reauthentication_required");
      expect(gate.events("auth.denied")).toEqual([expect.objectContaining({ reason: "not_fresh", sub: "alice" })]);
    });

    it("redirects a navigation to the login page with reauth=1 once the login is older", async () => {
      const gate = await createTestGate();
      const admin = await loggedIn(gate, "alice", ["admin"]);
      gate.clock.advance(11 * 60_000);
      const response = await gate.request("/admin/panel?x=1", { headers: { ...admin, ...NAVIGATE } });
      expect(response.status).toBe(302);
      expect(response.headers.get("Location")).toBe("/login?next=%2Fadmin%2Fpanel%3Fx%3D1&reauth=1");
      expect(gate.origin.received).toHaveLength(0);
    });

    it("does not apply to routes without fresh", async () => {
      const gate = await createTestGate();
      const admin = await loggedIn(gate, "alice", ["admin"]);
      gate.clock.advance(11 * 60_000);
      expectForwarded(gate, await gate.request("/dashboard", { headers: { ...admin, ...API } }), "/dashboard");
    });

    it("is satisfied again by a new login", async () => {
      const gate = await createTestGate();
      await loggedIn(gate, "alice", ["admin"]);
      gate.clock.advance(11 * 60_000);
      const again = await loggedIn(gate, "alice", ["admin"]);
      expectForwarded(gate, await gate.request("/admin/panel", { headers: { ...again, ...API } }), "/admin/panel");
    });
  });

  describe("path matching", () => {
    it("matches case-insensitively and forwards the path as sent", async () => {
      const gate = await createTestGate();
      expectForwarded(gate, await gate.request("/PUBLIC/Page", { headers: API }), "/PUBLIC/Page");
      gate.origin.received.length = 0;
      await expectRefused(gate, await gate.request("/Deny/X", { headers: API }), 404, "not_found");
    });

    it("treats /x and /x/ as the same path", async () => {
      const gate = await createTestGate({
        gate: {
          routes: [
            { path: "/open", access: "public" },
            { path: "/closed/", access: "deny" },
            { path: "/deny/*", access: "deny" },
          ],
        },
      });
      expectForwarded(gate, await gate.request("/open/", { headers: API }), "/open/");
      gate.origin.received.length = 0;
      await expectRefused(gate, await gate.request("/closed", { headers: API }), 404, "not_found");
      await expectRefused(gate, await gate.request("/deny", { headers: API }), 404, "not_found");
    });

    describe("answers 400 to an encoded slash, backslash or NUL before matching", () => {
      it.each(["/public/a%2Fb", "/public/a%2fb", "/public/a%5Cb", "/public/a%5cb", "/public/a%00b", "/%2F", "/admin%2F"])("%s", async (path) => {
        const gate = await createTestGate();
        await expectRefused(gate, await gate.request(path, { headers: API }), 400, "bad_request");
      });
    });

    it("forwards exactly the normalised path", async () => {
      const gate = await createTestGate();
      const cases: Array<[sent: string, forwarded: string]> = [
        ["//public//a/", "/public/a/"],
        ["/public/%7euser/%41", "/public/~user/A"],
        ["/public/caf%c3%a9", "/public/caf%C3%A9"],
        ["/public/x/../y", "/public/y"],
        ["/public/a;v=1/b", "/public/a;v=1/b"],
        ["/public/a b", "/public/a%20b"],
      ];
      for (const [sent, forwarded] of cases) {
        gate.origin.received.length = 0;
        expectForwarded(gate, await gate.request(sent, { headers: API }), forwarded);
      }
    });

    it("forwards the query unchanged after the normalised path", async () => {
      const gate = await createTestGate();
      expectForwarded(gate, await gate.request("//public/%61?q=%2F..%2Fadmin&x", { headers: API }), "/public/a");
      expect(new URL(gate.origin.last().url).search).toBe("?q=%2F..%2Fadmin&x");
    });
  });

  describe("bypass attempts on /admin/* by a signed-in user without the admin role", () => {
    /**
     * Each spelling, and what an admin's request with it reaches (the normalised
     * path). `gate.request` builds `new Request(GATE_URL + sent)`, so dot segments
     * (plain, `%2e` or with `\\`) are resolved by the URL parser before the gate
     * sees them, as they are in production.
     */
    const forbidden: Array<[sent: string, normalised: string]> = [
      ["/admin", "/admin"],
      ["/admin/", "/admin/"],
      ["/ADMIN", "/ADMIN"],
      ["/Admin/x", "/Admin/x"],
      ["/public/../admin", "/admin"],
      ["/public/%2e%2e/admin", "/admin"],
      ["/public/%2E%2E/admin", "/admin"],
      ["/%2e%2e/admin", "/admin"],
      ["/public\\..\\admin", "/admin"],
      ["/./admin", "/admin"],
      ["/%2e/admin", "/admin"],
      ["//admin", "/admin"],
      ["///admin//x", "/admin/x"],
      ["/%61dmin", "/admin"],
      ["/%41DMIN/x", "/ADMIN/x"],
      ["/admin/.", "/admin/"],
    ];

    describe("refuses with 403 and forwards nothing", () => {
      it.each(forbidden)("%s", async (sent) => {
        const gate = await createTestGate();
        const bob = await loggedIn(gate, "bob", ["user"]);
        const response = await gate.request(sent, { headers: { ...bob, ...API } });
        await expectRefused(gate, response, 403, "forbidden");
      });
    });

    describe("lets an admin through the same spellings, forwarding the normalised path", () => {
      it.each(forbidden)("%s", async (sent, normalised) => {
        const gate = await createTestGate();
        const alice = await loggedIn(gate, "alice", ["admin"]);
        expectForwarded(gate, await gate.request(sent, { headers: { ...alice, ...API } }), normalised);
      });
    });

    describe("refuses with 400 and forwards nothing", () => {
      it.each([
        "/admin%2F",
        "/admin%2fpanel",
        "/public%2F..%2Fadmin",
        "/public%5c..%5cadmin",
        "/public/..;/admin",
        "/public/%2e%2e;/admin",
        "/public%%32%66..%%32%66admin",
        "/admin%%32%66",
        // Cut at `;` these are /admin…, kept whole they fall under /*: an origin could read either.
        "/admin;x",
        "/admin;x/panel",
        "/;x/admin",
      ])("%s", async (sent) => {
        const gate = await createTestGate();
        const bob = await loggedIn(gate, "bob", ["user"]);
        await expectRefused(gate, await gate.request(sent, { headers: { ...bob, ...API } }), 400, "bad_request");
      });
    });

    // After `?` or `#` nothing is path: these are requests for /public, and the
    // origin must receive /public, never /admin.
    it.each([
      ["/public?/admin", "?/admin"],
      ["/public#/admin", ""],
    ])("reads %s as a request for /public, not /admin", async (sent, search) => {
      const gate = await createTestGate();
      const bob = await loggedIn(gate, "bob", ["user"]);
      expectForwarded(gate, await gate.request(sent, { headers: { ...bob, ...API } }), "/public");
      expect(new URL(gate.origin.last().url).search).toBe(search);
    });
  });
});

describe("path parameters that change the route", () => {
  it("refuses a path whose ;parameters would put it under another route for an origin that keeps them", async () => {
    const gate = await createTestGate({
      gate: { routes: [{ path: "/login", access: "public" }, { path: "/login;*", access: "session" }, { path: "/*" }] },
    });
    const response = await gate.request("/login;jsessionid=x");
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "bad_request" });
    expect(gate.origin.received).toHaveLength(0);
  });

  it("lets ;parameters through when both readings fall under the same route", async () => {
    const gate = await createTestGate();
    const response = await gate.request("/public/page;v=2");
    expect(response.status).toBe(200);
    expect(gate.origin.last().path).toBe("/public/page;v=2");
  });
});
