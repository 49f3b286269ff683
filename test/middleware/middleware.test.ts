import { env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { type GatehouseVariables, gatehouse, login, logout } from "gatehouse-edge";
import { app as example } from "../../examples/hono-app/src/index";
import { CHROME_UA, tokenFrom } from "../helpers/gate";

const POLICY = {
  login_path: "/login",
  routes: [
    { path: "/", access: "public" },
    { path: "/login", access: "public" },
    { path: "/admin/*", roles: ["admin"], fresh: "10m" },
    { path: "/*", access: "session" },
  ],
};

/** Each test's own environment object: the middleware builds one gate per environment, as per isolate. */
const appEnv = (gate: unknown = POLICY) => ({ ...env, GATE: gate, ORIGIN_URL: undefined });
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** A user's Hono app behind the middleware, recording which handlers ran. */
function userApp() {
  const ran: string[] = [];
  const app = new Hono<{ Variables: GatehouseVariables }>();
  app.use("*", gatehouse());
  app.get("/", (c) => (ran.push("home"), c.json({ gate: c.get("gate") })));
  app.post("/login", async (c) => {
    ran.push("login");
    await login(c, { sub: "mw-alice", roles: ["user"], claims: { plan: "pro" } });
    return c.text("welcome");
  });
  app.get("/dashboard", (c) => (ran.push("dashboard"), c.json({ gate: c.get("gate"), header: c.req.header("x-gate-user") ?? null })));
  app.get("/admin/x", (c) => (ran.push("admin"), c.text("secret")));
  app.post("/logout", async (c) => {
    ran.push("logout");
    await logout(c, "session");
    return c.body(null, 204);
  });
  return { app, ran };
}

function send(
  app: { fetch(request: Request, env: never, ctx: ExecutionContext): Response | Promise<Response> },
  path: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
  bindings = appEnv(),
) {
  const headers = { "CF-Connecting-IP": "203.0.113.9", "User-Agent": CHROME_UA, ...init.headers };
  return app.fetch(new Request(`https://app.example${path}`, { ...init, headers }), bindings as never, ctx);
}

const same = { "Sec-Fetch-Site": "same-origin" };

describe("gatehouse() in a user's Hono Worker", () => {
  it("runs public routes with a null identity, and decorates the response", async () => {
    const { app, ran } = userApp();
    const response = await send(app, "/");
    expect(await response.json()).toEqual({ gate: null });
    expect(ran).toEqual(["home"]);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("logs in from a handler and gives later handlers the identity, never the client's headers", async () => {
    const { app, ran } = userApp();
    const bindings = appEnv();
    const welcome = await send(app, "/login", { method: "POST", headers: same }, bindings);
    const token = tokenFrom(welcome);
    expect(token).toHaveLength(43);
    const response = await send(app, "/dashboard", { headers: { Cookie: `__Host-session=${token}`, "X-Gate-User": "mallory" } }, bindings);
    const body = (await response.json()) as { gate: Record<string, unknown>; header: string };
    expect(body.gate).toEqual({ sub: "mw-alice", sid: expect.any(String), roles: ["user"], authTime: expect.any(Number), claims: { plan: "pro" } });
    expect(body.header).toBe("mw-alice");
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(ran).toEqual(["login", "dashboard"]);
  });

  it("refuses before any handler runs: no session, a cross-site post, a missing role, a /_gate/ path", async () => {
    const { app, ran } = userApp();
    const bindings = appEnv();
    expect((await send(app, "/dashboard", { headers: { Accept: "application/json" } }, bindings)).status).toBe(401);
    expect((await send(app, "/dashboard", { headers: { Accept: "text/html" } }, bindings)).headers.get("location")).toBe("/login?next=%2Fdashboard");
    expect((await send(app, "/login", { method: "POST", headers: { "Sec-Fetch-Site": "cross-site" } }, bindings)).status).toBe(403);
    const token = tokenFrom(await send(app, "/login", { method: "POST", headers: same }, bindings));
    ran.splice(0);
    expect((await send(app, "/admin/x", { headers: { Cookie: `__Host-session=${token}` } }, bindings)).status).toBe(403);
    expect((await send(app, "/_gate/nothing", { headers: { Cookie: `__Host-session=${token}` } }, bindings)).status).toBe(404);
    expect(ran).toEqual([]);
  });

  it("serves the gate's own endpoints in front of the app", async () => {
    const { app, ran } = userApp();
    const bindings = appEnv();
    const token = tokenFrom(await send(app, "/login", { method: "POST", headers: same }, bindings));
    const session = await send(app, "/_gate/session", { headers: { Cookie: `__Host-session=${token}` } }, bindings);
    expect(await session.json()).toMatchObject({ sub: "mw-alice", roles: ["user"] });
    expect(ran).toEqual(["login"]);
  });

  it("logs out from a handler: the cookie is cleared and the session is over", async () => {
    const { app } = userApp();
    const bindings = appEnv();
    const token = tokenFrom(await send(app, "/login", { method: "POST", headers: same }, bindings));
    const cookie = { Cookie: `__Host-session=${token}` };
    const out = await send(app, "/logout", { method: "POST", headers: { ...cookie, ...same } }, bindings);
    expect(tokenFrom(out)).toBe("");
    expect((await send(app, "/dashboard", { headers: { ...cookie, Accept: "application/json" } }, bindings)).status).toBe(401);
  });

  it("refuses login() and logout() without the middleware, and a login() with an identity HTTP would trim", async () => {
    const bare = new Hono();
    bare.get("/", async (c) =>
      c.text(
        await login(c, { sub: "x" }).then(
          () => "ok",
          (error: Error) => error.message,
        ),
      ),
    );
    expect(await (await bare.request("/")).text()).toBe("login() needs the gatehouse() middleware in front of this handler");
    const app = new Hono();
    app.use("*", gatehouse());
    app.post("/login", async (c) =>
      c.text(
        await login(c, { sub: " alice" }).then(
          () => "ok",
          (error: Error) => error.message,
        ),
      ),
    );
    expect(await (await send(app, "/login", { method: "POST", headers: same })).text()).toBe("login(): bad sub");
  });

  it("answers 500 misconfigured to everything, before any handler, when the config is wrong", async () => {
    const { app, ran } = userApp();
    const response = await send(app, "/", {}, appEnv({ session: { binding: "strict" } }));
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "misconfigured" });
    expect(ran).toEqual([]);
  });
});

describe("the example Worker (examples/hono-app)", () => {
  it("logs in with its form, shows the dashboard, and keeps a non-admin out of /admin", async () => {
    const bindings = appEnv();
    const form = new URLSearchParams({ user: "carol", password: "pw" });
    const login = await send(
      example,
      "/login",
      { method: "POST", body: form, headers: { ...same, "Content-Type": "application/x-www-form-urlencoded" } },
      bindings,
    );
    expect(login.status).toBe(303);
    const cookie = { Cookie: `__Host-session=${tokenFrom(login)}` };
    expect(await (await send(example, "/dashboard", { headers: cookie }, bindings)).json()).toMatchObject({
      user: { sub: "carol", roles: ["user"] },
    });
    expect((await send(example, "/admin/overview", { headers: { ...cookie, Accept: "application/json" } }, bindings)).status).toBe(403);
  });
});
