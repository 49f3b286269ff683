// The HTTP half of scripts/starter-check.mjs: a tiny origin that logs users in
// with the INSTALLED package's `gatehouse-edge/origin`, and one login round trip
// through the gate under `wrangler dev` (contract §3, §6).
import { createServer } from "node:http";

/** The user the origin logs in. */
export const USER = "starter-check";

/** A TCP port nothing listens on right now (below the ephemeral range). */
export { freePort } from "../../test/redis/redis-server.mjs";

/**
 * The origin: `POST /login` answers with `X-Gate-Login` for {@link USER},
 * `GET /whoami` echoes `X-Gate-User`. `hits` counts requests per path, so the
 * round trip can tell that a refused request never reached it.
 */
export function startOrigin(port, secret, signLogin) {
  const hits = new Map();
  const server = createServer(async (request, response) => {
    const { pathname } = new URL(request.url, "http://origin");
    hits.set(pathname, (hits.get(pathname) ?? 0) + 1);
    request.resume();
    if (request.method === "POST" && pathname === "/login") {
      const token = await signLogin(secret, { sub: USER, roles: ["user"] });
      response.writeHead(200, { "content-type": "text/plain", "x-gate-login": token }).end("logged in\n");
    } else if (request.method === "GET" && pathname === "/whoami") {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ user: request.headers["x-gate-user"] ?? null }));
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => resolve({ hits, close: () => new Promise((done) => server.close(done)) }));
  });
}

/** Throws with what was expected and what came back. */
async function expect(response, status, what) {
  if (response.status === status) return;
  const body = await response.text().catch(() => "");
  throw new Error(`${what}: expected ${status}, got ${response.status} ${body.slice(0, 300)}`);
}

/** The `name=value` of the session cookie in a response, or undefined. */
function sessionCookie(response, name) {
  const line = response.headers.getSetCookie().find((value) => value.startsWith(`${name}=`));
  const pair = line?.split(";")[0];
  return pair && pair !== `${name}=` ? pair : undefined;
}

/**
 * POST /login → Set-Cookie → GET /whoami (200, the user) → GET /_gate/session
 * (200 JSON) → POST /_gate/logout (204) → GET /whoami (401, not forwarded);
 * then the cron's `scheduled` handler once.
 * `http://localhost`: the cookie is Secure, which Node's fetch does not enforce,
 * so it is sent back by hand. Returns the steps, for the report.
 */
export async function loginRoundTrip(gatePort, origin, cookieName = "__Host-session") {
  const base = `http://localhost:${gatePort}`;
  const send = (method, pathname, cookie) =>
    fetch(`${base}${pathname}`, {
      method,
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
      headers: { accept: "application/json", ...(method === "POST" && { origin: base }), ...(cookie && { cookie }) },
    });

  const login = await send("POST", "/login");
  await expect(login, 200, "POST /login");
  let cookie = sessionCookie(login, cookieName);
  if (!cookie) throw new Error(`POST /login: no ${cookieName} cookie in Set-Cookie: ${JSON.stringify(login.headers.getSetCookie())}`);

  const whoami = await send("GET", "/whoami", cookie);
  await expect(whoami, 200, "GET /whoami");
  const { user } = await whoami.json();
  if (user !== USER) throw new Error(`GET /whoami: the origin saw X-Gate-User ${JSON.stringify(user)}, expected ${JSON.stringify(USER)}`);
  cookie = sessionCookie(whoami, cookieName) ?? cookie;

  const session = await send("GET", "/_gate/session", cookie);
  await expect(session, 200, "GET /_gate/session");
  const view = await session.json().catch(() => ({}));
  if (view.sub !== USER) throw new Error(`GET /_gate/session: expected sub ${JSON.stringify(USER)}, got ${JSON.stringify(view)}`);

  const logout = await send("POST", "/_gate/logout", cookie);
  await expect(logout, 204, "POST /_gate/logout");

  const forwarded = origin.hits.get("/whoami");
  const after = await send("GET", "/whoami", cookie);
  await expect(after, 401, "GET /whoami after logout");
  if (origin.hits.get("/whoami") !== forwarded) throw new Error("GET /whoami after logout reached the origin");

  // The hourly cron of wrangler.toml: wrangler dev runs `scheduled` on this URL (the key rotation).
  const cron = await send("GET", `/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("0 * * * *")}`);
  await expect(cron, 200, "scheduled (GET /cdn-cgi/handler/scheduled)");
  return `POST /login 200 + ${cookieName} → /whoami 200 ${USER} → /_gate/session 200 → logout 204 → /whoami 401; scheduled 200`;
}
