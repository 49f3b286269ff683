// The benchmark's origin: a minimal Node HTTP server on 127.0.0.1 that answers
// every request with a small body, as cheaply as Node can. Besides that:
//   GET /login?sub=NAME   answers with `X-Gate-Login` (an HS256 JWT signed with
//                         BENCH_ORIGIN_SECRET), so the gate creates a session
//   GET /logout-all       answers with `X-Gate-Logout: user` (logout everywhere: the
//                         gate ends every session of the request's user)
//   GET /__stats          {requests, gateUser, peerUser}: how many requests arrived,
//                         and how many carried the gate's X-Gate-User or the
//                         peer's X-User (?reset=1 zeroes them after answering)
// Run as a child process: `node bench/origin.mjs <port>`; prints "ready <port>".
import { createHmac } from "node:crypto";
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 0);
const secret = process.env.BENCH_ORIGIN_SECRET ?? "";
const BODY = Buffer.from("hello from the origin\n");
let counts = { requests: 0, gateUser: 0, peerUser: 0 };

const b64url = (value) => Buffer.from(value).toString("base64url");

/** The `X-Gate-Login` assertion (contract §3): HS256 over the secret's UTF-8 bytes. */
function loginJwt(sub) {
  const iat = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ sub, roles: ["user"], iat, exp: iat + 60 }));
  const signature = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${signature}`;
}

// Node refuses more than 16 KiB of request headers by default; the scaling note sends a 16 KiB Cookie.
const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
  if (req.url.startsWith("/__stats")) {
    const body = JSON.stringify(counts);
    if (req.url.includes("reset=1")) counts = { requests: 0, gateUser: 0, peerUser: 0 };
    res.writeHead(200, { "content-type": "application/json" }).end(body);
    return;
  }
  counts.requests++;
  if (req.headers["x-gate-user"] !== undefined) counts.gateUser++;
  if (req.headers["x-user"] !== undefined) counts.peerUser++;
  if (req.url.startsWith("/login")) {
    const sub = new URL(req.url, "http://origin").searchParams.get("sub") ?? "bench-user";
    res.writeHead(200, { "content-type": "text/plain", "x-gate-login": loginJwt(sub), "content-length": 0 }).end();
    return;
  }
  if (req.url.startsWith("/logout-all")) {
    res.writeHead(200, { "content-type": "text/plain", "x-gate-logout": "user", "content-length": 0 }).end();
    return;
  }
  req.resume();
  res.writeHead(200, { "content-type": "text/plain", "content-length": BODY.length }).end(BODY);
});
// Keep connections from the gate, the peer and the load generator open for the whole run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen(port, "127.0.0.1", () => console.log(`ready ${server.address().port}`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
// A child must not outlive the bench: exit when the parent goes away.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
