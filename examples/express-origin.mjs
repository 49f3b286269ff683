// An origin behind Gatehouse, written with Express (Node ≥ 20).
//
//   npm i express            (not a dependency of gatehouse itself)
//   GATE_URL=https://gate.example.com ORIGIN_AUDIENCE=https://origin.example.com \
//   GATE_ORIGIN_SECRET=... node examples/express-origin.mjs
//
// GATE_URL is the gate's public URL (the assertion's `iss`, and where its JWKS
// lives); ORIGIN_AUDIENCE is the `aud` the gate signs: ORIGIN_URL's origin, or
// the route's `audience`. If ORIGIN_URL has a path (https://origin/app), pass
// it as `basePath: "/app"`.
//
// DEMO ONLY: the password check accepts anything non-empty.
import express from "express";
import { signLogin, verifyAssertion } from "gatehouse-edge/origin";

const GATE_URL = process.env.GATE_URL ?? "http://localhost:8787";
const ORIGIN_AUDIENCE = process.env.ORIGIN_AUDIENCE ?? "http://localhost:8788";
const ORIGIN_SECRET = process.env.GATE_ORIGIN_SECRET;
const PORT = Number(process.env.PORT ?? 8788);
if (!ORIGIN_SECRET) throw new Error("set GATE_ORIGIN_SECRET (the gate's, from wrangler secret put)");

const verifying = {
  jwksUrl: new URL("/_gate/jwks.json", GATE_URL), // cached; refetched when a new kid shows up
  issuer: new URL(GATE_URL).origin,
  audience: ORIGIN_AUDIENCE,
};

/** Express middleware: only requests the gate signed for, for this method and URL, get through. */
function requireGate(req, res, next) {
  verifyAssertion(req, verifying).then(
    (identity) => {
      req.identity = identity;
      next();
    },
    (error) => res.status(401).json({ error: "unauthenticated", reason: error.code }),
  );
}

const app = express();
app.disable("x-powered-by");

app.get("/login", (_req, res) => {
  res.type("html").send(`<form method="post"><input name="username"><input name="password" type="password"><button>Log in</button></form>`);
});

app.post("/login", express.urlencoded({ extended: false, limit: "16kb" }), async (req, res, next) => {
  try {
    const username = String(req.body.username ?? "").trim();
    if (!username || !req.body.password) return res.status(400).send("user name and password, please");
    // The gate reads this header, creates the session and sets its cookie; the client never sees it.
    res.set("X-Gate-Login", await signLogin(ORIGIN_SECRET, { sub: username, roles: ["user"] }));
    res.redirect(303, "/dashboard");
  } catch (error) {
    next(error);
  }
});

app.get("/dashboard", requireGate, (req, res) => {
  const { sub, sid, roles } = req.identity;
  res.json({ hello: sub, session: sid, roles });
});

app.post("/logout-everywhere", requireGate, (_req, res) => {
  res.set("X-Gate-Logout", "user").redirect(303, "/");
});

app.listen(PORT, "127.0.0.1", () => console.log(`express origin on http://127.0.0.1:${PORT}, behind ${GATE_URL}`));
