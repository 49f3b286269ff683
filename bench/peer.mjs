// The peer: what a team would run instead of the gate, done the ordinary way.
// A Node reverse proxy on Express 5 with express-session, sessions in Redis
// through connect-redis (the `redis` client), and http-proxy-middleware. It does
// the same check as the gate's hot path: a session is required (401 otherwise),
// the client's X-User is dropped and the proxy sets its own, and the request is
// forwarded to the origin over kept-alive connections.
//   GET /login?sub=NAME   creates a session (bench setup), Set-Cookie: connect.sid
// Run as `node bench/peer.mjs <port> <originUrl> <redisPort>`; prints "ready <port>".
// Defaults as a user would leave them: express-session touches the session on
// every request (connect-redis: EXPIRE), resave and saveUninitialized off.
import { Agent } from "node:http";
import { RedisStore } from "connect-redis";
import express from "express";
import session from "express-session";
import { createProxyMiddleware } from "http-proxy-middleware";
import { createClient } from "redis";

const [port, originUrl, redisPort] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const client = createClient({ url: `redis://127.0.0.1:${redisPort}` });
client.on("error", (error) => console.error(`redis: ${error.message}`));
await client.connect();

const app = express();
app.disable("x-powered-by");
app.use(
  session({
    store: new RedisStore({ client, prefix: "peer:sess:" }),
    secret: process.env.BENCH_PEER_SECRET ?? "peer-secret-peer-secret-peer-secret",
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "lax", secure: false, maxAge: 12 * 3600 * 1000 },
  }),
);
app.get("/login", (req, res, next) => {
  // A new session id on login (fixation), as the express-session docs recommend.
  req.session.regenerate((error) => {
    if (error) return next(error);
    req.session.user = String(req.query.sub ?? "bench-user");
    req.session.save((saveError) => (saveError ? next(saveError) : res.status(204).end()));
  });
});
app.use((req, res, next) => {
  if (!req.session.user) return res.status(401).json({ error: "unauthenticated" });
  next();
});
app.use(
  createProxyMiddleware({
    target: originUrl,
    // Without a keep-alive agent http-proxy opens a connection per request; nobody should run it like that.
    agent: new Agent({ keepAlive: true, maxSockets: 64 }),
    on: {
      proxyReq(proxyReq, req) {
        proxyReq.removeHeader("x-user");
        proxyReq.setHeader("x-user", req.session.user);
      },
    },
  }),
);
const server = app.listen(port, "127.0.0.1", () => console.log(`ready ${server.address().port}`));
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;

async function close() {
  server.close();
  await client.quit().catch(() => {});
  process.exit(0);
}
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, close);
process.stdin.on("end", close);
process.stdin.resume();
