// An origin behind Gatehouse, written with Hono: runs on Workers (reached by a
// service binding or a URL) or any runtime Hono runs on. It signs logins with
// `signLogin` and trusts nobody's identity headers without `verifyAssertion`.
//
//   Workers: `export default` below; set GATE_URL (the gate's public URL),
//   ORIGIN_AUDIENCE (the `aud` the gate signs: this origin's URL origin, or the
//   gate's own origin when it reaches us by a service binding) and
//   GATE_ORIGIN_SECRET (a secret).
//   Node: `npm i @hono/node-server`, then serve(createOrigin({...})).
//
// DEMO ONLY: the password check accepts anything non-empty.
import { Hono } from "hono";
import { signLogin, verifyAssertion } from "gatehouse-edge/origin";

/**
 * The origin app. `gateUrl` is the gate's public URL (the assertion's `iss`,
 * and where its JWKS lives); `audience` what the gate signs as `aud`;
 * `fetch` is how to reach the JWKS (default: the global fetch).
 */
export function createOrigin({ gateUrl, audience, originSecret, fetch }) {
  const issuer = new URL(gateUrl).origin;
  const verifying = { jwksUrl: new URL("/_gate/jwks.json", issuer), issuer, audience, ...(fetch && { fetch }) };
  const app = new Hono();

  // Public pages first: the login form and its POST need no identity.
  app.get("/login", (c) =>
    c.html(`<form method="post"><input name="username"><input name="password" type="password"><button>Log in</button></form>`),
  );
  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const username = String(form.username ?? "").trim();
    if (!username || !form.password) return c.text("user name and password, please", 400);
    // The gate reads this header, creates the session and sets its cookie; the client never sees it.
    c.header("X-Gate-Login", await signLogin(originSecret, { sub: username, roles: ["user"] }));
    return c.redirect("/dashboard", 303);
  });

  // Everything else: only requests the gate signed for, for this method and URL.
  app.use("*", async (c, next) => {
    try {
      c.set("identity", await verifyAssertion(c.req.raw, verifying));
    } catch (error) {
      return c.json({ error: "unauthenticated", reason: error.code }, 401);
    }
    await next();
  });
  app.get("/dashboard", (c) => {
    const { sub, sid, roles } = c.get("identity");
    return c.json({ hello: sub, session: sid, roles });
  });
  app.post("/logout-everywhere", (c) => {
    c.header("X-Gate-Logout", "user");
    return c.redirect("/", 303);
  });
  return app;
}

let app;
export default {
  fetch(request, env, ctx) {
    app ??= createOrigin({ gateUrl: env.GATE_URL, audience: env.ORIGIN_AUDIENCE, originSecret: env.GATE_ORIGIN_SECRET });
    return app.fetch(request, env, ctx);
  },
};
