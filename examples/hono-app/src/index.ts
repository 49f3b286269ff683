// A Hono Worker that serves its own routes with the whole gate in front of them
// (gatehouse-edge's middleware mode): security headers, rate limits, the
// session, CSRF, the route policy of wrangler.toml's [vars.GATE] and the
// /_gate/* endpoints run before any handler below; a handler meets only
// requests the policy admitted, with the caller in c.get("gate").
//
// DEMO ONLY: the password check accepts anything non-empty.
import { Hono } from "hono";
import { type GateBindings, type GatehouseVariables, gatehouse, login, logout } from "gatehouse-edge";

export const app = new Hono<{ Bindings: GateBindings; Variables: GatehouseVariables }>();

app.use("*", gatehouse());

/** Public (GATE.routes says so): the caller, or null. */
app.get("/", (c) => c.json({ hello: c.get("gate")?.sub ?? "stranger" }));

/** Public: logs the user in, as an origin's X-Gate-Login would. */
app.post("/login", async (c) => {
  const form = await c.req.parseBody();
  const user = typeof form.user === "string" ? form.user.trim() : "";
  if (!user || typeof form.password !== "string" || form.password === "") return c.json({ error: "bad_credentials" }, 400);
  await login(c, { sub: user, roles: user === "admin" ? ["user", "admin"] : ["user"], claims: { via: "form" } });
  return c.redirect("/dashboard", 303);
});

/** Needs a session (the default route): who is calling. */
app.get("/dashboard", (c) => c.json({ user: c.get("gate") }));

/** Needs the admin role and a login under 10 minutes old (GATE.routes). */
app.get("/admin/overview", (c) => c.json({ admin: c.get("gate")?.sub }));

/** Ends every session of the user, as X-Gate-Logout: user would. */
app.post("/logout-everywhere", async (c) => {
  await logout(c, "user");
  return c.redirect("/", 303);
});

export default app;
