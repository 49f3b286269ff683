// The demo origin: a plain Node HTTP server that Gatehouse stands in front of
// during `npm start`. It never sees a session token. It tells the gate who
// logged in (the `X-Gate-Login` response header, a JWT signed with
// GATE_ORIGIN_SECRET) and reads who is calling from the gate's `X-Gate-*`
// request headers.
//
// DEMO ONLY: any non-empty password is accepted. The dashboard shows how an
// origin verifies X-Gate-Assertion with `gatehouse-edge/origin` (the package's
// origin helper); a real origin should refuse a request whose assertion fails,
// or be reachable only through the gate.
//
// The dashboard's live panel (demo/static/live.js) opens a WebSocket to /live
// through the gate: the origin answers with the identity it saw on the
// handshake, then a tick every few seconds, and echoes what it is sent. The gate
// closes that socket with 1008 "session ended" once the session ends.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { signLogin, verifyAssertion } from "gatehouse-edge/origin";
import { WebSocketServer } from "ws";
import { DEV_VARS_PATH, readDevVars } from "../scripts/dev-vars.mjs";

const PORT = Number(process.env.DEMO_PORT ?? 8788);
const HOST = process.env.DEMO_HOST ?? "127.0.0.1";
const GATE_PORT = Number(process.env.GATE_PORT ?? 8787);
/** The gate as the browser reaches it: the assertion's `iss` (GATE.issuer is unset in wrangler.toml). */
const GATE_PUBLIC_URL = process.env.GATE_PUBLIC_URL ?? `http://localhost:${GATE_PORT}`;
/** What the gate signs as `aud`: ORIGIN_URL's origin (wrangler.toml, or start.mjs's --var). */
const ORIGIN_AUDIENCE = `http://localhost:${PORT}`;
/** The gate's public keys; fetched on 127.0.0.1, where wrangler dev listens (over https when start.mjs says so). */
const JWKS_URL = process.env.GATE_JWKS_URL ?? `http://127.0.0.1:${GATE_PORT}/_gate/jwks.json`;
/**
 * How X-Gate-Assertion is verified, for the dashboard and for the /live handshake alike. GATE.issuer is
 * unset in the demo, so `iss` is the origin the browser used: http://localhost:<port> or, as wrangler
 * prints it, http://127.0.0.1:<port>. Both are the demo gate; any other is refused.
 */
const LOOPBACK_GATES = new Set([GATE_PUBLIC_URL, `http://localhost:${GATE_PORT}`, `http://127.0.0.1:${GATE_PORT}`, `https://localhost:${GATE_PORT}`]);
function assertionCheck(req) {
  const used = `${req.headers["x-forwarded-proto"] ?? "http"}://${req.headers["x-forwarded-host"] ?? ""}`;
  return { jwksUrl: JWKS_URL, issuer: LOOPBACK_GATES.has(used) ? used : GATE_PUBLIC_URL, audience: ORIGIN_AUDIENCE };
}
/** The live panel's tick (DEMO_LIVE_TICK_MS), and the largest message /live takes (ws closes with 1009 above it). */
const LIVE_TICK_MS = Number(process.env.DEMO_LIVE_TICK_MS ?? 3_000);
const LIVE_MAX_MESSAGE_BYTES = 16 * 1024;
/** Files under /static (a public route in wrangler.toml): a fixed list, so no path ever reaches the file system. */
const STATIC_FILES = {
  "/static/live.js": { file: new URL("./static/live.js", import.meta.url), type: "text/javascript; charset=utf-8" },
};
/** `X-Gate-Login` lives 60 s: long enough to reach the gate, short enough to be useless if it leaks. */
const LOGIN_TTL_SECONDS = 60;
const MAX_FORM_BYTES = 16 * 1024;
/**
 * Origins the demo's JSON API answers CORS for, with credentials: the same
 * list as the gate's `trusted_origins` (the gate lets their requests through
 * its CSRF check and forwards their preflights; the origin decides CORS).
 */
const CORS_ORIGINS = new Set(
  (process.env.DEMO_CORS_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean),
);
const DEFAULT_NEXT = "/dashboard";
/** The gate's OIDC provider for the login page's button (`GATE.oidc.<name>`; npm start sets it to the demo provider's). */
const OIDC_PROVIDER = process.env.DEMO_OIDC_PROVIDER ?? "";
/** The headers the dashboard shows, in this order; any other `x-gate-*` header follows. */
const SHOWN_HEADERS = [
  "x-gate-user",
  "x-gate-session",
  "x-gate-roles",
  "x-gate-auth-time",
  "x-gate-assertion",
  "x-request-id",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
];

/** GATE_ORIGIN_SECRET from the environment, else from `.dev.vars` at the repository root. */
function originSecret() {
  const secret = process.env.GATE_ORIGIN_SECRET || readDevVars()?.GATE_ORIGIN_SECRET;
  if (!secret) {
    throw new Error(`GATE_ORIGIN_SECRET is not set and ${DEV_VARS_PATH} has none; run \`npm start\` once to create it`);
  }
  // The gate verifies with the secret's UTF-8 bytes (src/proxy/instructions.ts), so sign with the same.
  return new TextEncoder().encode(secret);
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * A local path to return to after login: one leading "/", not "//" or "/\"
 * (which browsers read as another host), visible ASCII only (no CR/LF, tabs
 * or spaces that could bend the Location header or be stripped into "//").
 */
export function safeNext(value) {
  return typeof value === "string" && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) ? value : DEFAULT_NEXT;
}

/** A `sub` the gate accepts: visible ASCII, 1–256 characters (src/session/login.ts); we keep it short. */
function validUsername(value) {
  return /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/.test(value);
}

/** Signs the `X-Gate-Login` assertion the gate turns into a session (contract §3). */
export async function loginJwt(secret, sub, roles) {
  return signLogin(secret, { sub, roles }, { expiresIn: LOGIN_TTL_SECONDS });
}

/** Verifies X-Gate-Assertion as a real origin would, for the dashboard to show the outcome. */
async function assertionStatus(req) {
  try {
    const { sub, jti } = await verifyAssertion(req, assertionCheck(req));
    return `<p class="ok">X-Gate-Assertion verified ✓ (signed by the gate for <code>${escapeHtml(req.method)} ${escapeHtml(assertionCheck(req).issuer + req.url.split("?")[0])}</code>, sub <code>${escapeHtml(sub)}</code>, jti <code>${escapeHtml(jti)}</code>)</p>`;
  } catch (error) {
    return `<p class="error">X-Gate-Assertion not verified ✗ (${escapeHtml(error.code ?? "error")}: ${escapeHtml(error.message)})</p>`;
  }
}

const CSS = `
  :root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #f5f6f8; --card: #fff; --line: #dde1e8; --accent: #2f5fd0; --warn: #b3541e; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e6e8ee; --muted: #9aa3b5; --bg: #14171d; --card: #1d212a; --line: #2e3441; --accent: #7ea2ff; --warn: #f0a070; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  header { background: var(--card); border-bottom: 1px solid var(--line); }
  header div, main { max-width: 860px; margin: 0 auto; padding: 14px 20px; }
  header div { display: flex; gap: 18px; align-items: center; }
  header strong { margin-right: auto; }
  a { color: var(--accent); }
  main { padding-top: 28px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px; margin-bottom: 20px; }
  h1 { font-size: 1.6rem; margin: 0 0 12px; }
  h2 { font-size: 1.2rem; margin: 0 0 10px; }
  .muted { color: var(--muted); }
  .note { border-left: 4px solid var(--warn); padding: 8px 12px; background: color-mix(in srgb, var(--warn) 10%, transparent); border-radius: 4px; }
  table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
  th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { white-space: nowrap; font-weight: 600; }
  td code { word-break: break-all; }
  code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  label { display: block; margin: 12px 0 4px; font-weight: 600; }
  label.check { font-weight: normal; display: flex; gap: 8px; align-items: center; }
  input[type=text], input[type=password] { width: 100%; max-width: 360px; padding: 8px 10px; font: inherit; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
  button { font: inherit; padding: 8px 16px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
  button.secondary { background: transparent; color: var(--accent); }
  a.button { display: inline-block; padding: 8px 16px; border-radius: 6px; border: 1px solid var(--accent); color: var(--accent); text-decoration: none; }
  form.inline { display: inline; }
  .actions { display: flex; gap: 10px; flex-wrap: wrap; margin-top: 16px; }
  .error { color: var(--warn); font-weight: 600; }
  .ok { color: #2e8540; font-weight: 600; }
  #live-log { max-height: 14em; overflow-y: auto; list-style: none; padding-left: 0; font: 0.85rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  #live[data-state="closed"] #live-status { color: var(--warn); font-weight: 600; }
  #live[data-state="open"] #live-status { color: #2e8540; font-weight: 600; }
`;

/** The page frame: a header with links, then the body. */
function page(title, body, who) {
  const user = who ? `<span class="muted">signed in as <strong>${escapeHtml(who)}</strong></span>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse demo</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body>
<header><div><strong>Gatehouse demo origin</strong><a href="/">Home</a><a href="/dashboard">Dashboard</a><a href="/admin/">Admin</a>${user}</div></header>
<main>
${body}
</main>
</body>
</html>
`;
}

function send(res, status, html, headers = {}) {
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", ...headers });
  res.end(html);
}

function logoutButtons() {
  return `<div class="actions">
  <form class="inline" method="post" action="/_gate/logout"><button type="submit">Log out</button></form>
  <form class="inline" method="post" action="/logout-everywhere"><button class="secondary" type="submit">Log out everywhere</button></form>
</div>`;
}

function home(req) {
  const who = req.headers["x-gate-user"];
  const status = who
    ? `<p>You have a session as <strong>${escapeHtml(who)}</strong>.</p>\n${logoutButtons()}`
    : `<p>You are not signed in. <a href="/login">Log in</a> with any name and any non-empty password.</p>`;
  return page(
    "Home",
    `<div class="card">
<h1>A session gate in front of this server</h1>
<p>This page is <em>public</em>. Everything else is behind <strong>Gatehouse</strong>, a Cloudflare Worker
running locally with <code>wrangler dev</code> on <code>:8787</code>. This origin (plain Node on <code>:8788</code>)
never sees a session token: the gate checks the cookie and passes who you are in <code>X-Gate-*</code> headers.</p>
${status}
</div>
<div class="card">
<h2>Try it</h2>
<ul>
  <li><a href="/dashboard">/dashboard</a>: needs a session; shows the identity headers the gate sent.</li>
  <li><a href="/admin/">/admin/</a>: needs the <code>admin</code> role and a login less than 10 minutes old.</li>
  <li><a href="/login">/login</a>: the origin's login form. On success it answers with <code>X-Gate-Login</code>, and the gate sets the cookie.</li>
  <li><a href="/_gate/session">/_gate/session</a>: the gate's own view of your session (JSON).</li>
  <li><a href="/logout-everywhere">/logout-everywhere</a>: the origin ends every session of the user with <code>X-Gate-Logout: user</code>.</li>
</ul>
</div>`,
    who,
  );
}

function loginForm(url, req, error = "") {
  const next = safeNext(url.searchParams.get("next") ?? undefined);
  const reauth = url.searchParams.get("reauth") === "1";
  const who = req.headers["x-gate-user"];
  return page(
    "Log in",
    `<div class="card">
<h1>Log in</h1>
${reauth ? `<p class="note">This page needs a <strong>fresh login</strong>: your last one is too old. Please log in again.</p>` : ""}
${error ? `<p class="error">${escapeHtml(error)}</p>` : ""}
<p class="note">Demo only: any user name and any non-empty password are accepted.</p>
<form method="post" action="/login">
  <input type="hidden" name="next" value="${escapeHtml(next)}">
  <label for="username">User name</label>
  <input id="username" name="username" type="text" autocomplete="username" required maxlength="64" value="${escapeHtml(who ?? "")}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <label class="check"><input type="checkbox" name="admin" value="1"> Give me the <code>admin</code> role</label>
  <div class="actions"><button type="submit">Log in</button></div>
</form>
${oidcButton(next, reauth)}
<p class="muted">After login you go to <code>${escapeHtml(next)}</code>.</p>
</div>`,
    who,
  );
}

/** The other way in: the gate's own login through an identity provider (/_gate/oidc/<name>/login), when there is one. */
function oidcButton(next, reauth) {
  if (!/^[a-z0-9_]{1,32}$/.test(OIDC_PROVIDER)) return "";
  const href = `/_gate/oidc/${OIDC_PROVIDER}/login?next=${encodeURIComponent(next)}${reauth ? "&reauth=1" : ""}`;
  return `<p class="muted">or</p>
<div class="actions"><a id="oidc-login" class="button" href="${escapeHtml(href)}">Log in with the demo identity provider</a></div>
<p class="muted">The gate runs that login itself (OpenID Connect): users <code>alice</code> (admin) and <code>bob</code>, no password.</p>`;
}

function dashboard(req, verified) {
  const rows = [
    ...SHOWN_HEADERS,
    ...Object.keys(req.headers)
      .filter((name) => name.startsWith("x-gate-") && !SHOWN_HEADERS.includes(name))
      .sort(),
  ]
    .map((name) => {
      const value = req.headers[name];
      const cell = value === undefined ? `<span class="muted">(not sent)</span>` : `<code>${escapeHtml(value)}</code>`;
      return `<tr><th>${escapeHtml(name)}</th><td>${cell}</td></tr>`;
    })
    .join("\n");
  const authTime = Number(req.headers["x-gate-auth-time"]);
  const when = Number.isFinite(authTime) && authTime > 0 ? new Date(authTime * 1000).toISOString() : "unknown";
  return page(
    "Dashboard",
    `<div class="card">
<h1>Dashboard</h1>
<p>Only a request with a valid session gets here. These are the request headers the gate set; it removes
any the browser sent with the same names, so the origin can trust them. Logged in at <code>${escapeHtml(when)}</code>.</p>
${verified}
<table>
${rows}
</table>
${logoutButtons()}
</div>
${livePanel()}`,
    req.headers["x-gate-user"],
  );
}

/**
 * The dashboard's live panel: demo/static/live.js (a file, not inline, so a
 * `script-src 'self'` CSP would allow it) fills it from a WebSocket to /live.
 */
function livePanel() {
  return `<div class="card" id="live" data-state="connecting">
<h2>Live: a WebSocket through the gate</h2>
<p class="muted">This panel holds a WebSocket to <code>/live</code> on this origin. The gate checked your session on the
handshake, and checks it again every <code>websocket.recheck</code> (60 s by default) while the socket is open: log
out in another tab, log out everywhere, or have an admin revoke the session, and the gate closes the socket with
<code>1008 session ended</code>. Messages you send are echoed by the origin.</p>
<p id="live-status">Connecting…</p>
<p class="muted">What the origin saw on the socket's handshake (its X-Gate-* headers):</p>
<table>
<tr><th>user</th><td id="live-user"><span class="muted">…</span></td></tr>
<tr><th>roles</th><td id="live-roles"><span class="muted">…</span></td></tr>
<tr><th>session</th><td id="live-session"><span class="muted">…</span></td></tr>
<tr><th>assertion</th><td id="live-assertion"><span class="muted">…</span></td></tr>
</table>
<form id="live-form" class="actions">
  <input id="live-text" type="text" maxlength="200" placeholder="a message for the origin to echo" aria-label="Message">
  <button type="submit">Send</button>
  <button id="live-reconnect" class="secondary" type="button" hidden>Reconnect</button>
</form>
<ol id="live-log"></ol>
</div>
<script src="/static/live.js" defer></script>`;
}

function adminPage(req) {
  return page(
    "Admin",
    `<div class="card">
<h1>Admin</h1>
<p>The gate let you in because your session has the <code>admin</code> role (<code>X-Gate-Roles: ${escapeHtml(req.headers["x-gate-roles"] ?? "")}</code>)
and your login is less than 10 minutes old (<code>fresh = "10m"</code> in <code>wrangler.toml</code>).
The origin did no checking of its own.</p>
${logoutButtons()}
</div>`,
    req.headers["x-gate-user"],
  );
}

function logoutEverywherePage(req) {
  return page(
    "Log out everywhere",
    `<div class="card">
<h1>Log out everywhere</h1>
<p>The button below posts to the origin, which answers with <code>X-Gate-Logout: user</code>. The gate removes that
header and ends <em>every</em> session of <strong>${escapeHtml(req.headers["x-gate-user"] ?? "this user")}</strong>, in all browsers.
(A plain link would make logout a GET that any site could trigger, so it is a form.)</p>
<form method="post" action="/logout-everywhere"><button type="submit">Log out everywhere</button></form>
</div>`,
    req.headers["x-gate-user"],
  );
}

/** Reads a small form-urlencoded body; `undefined` when it is too large or of another type. */
async function readForm(req) {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return undefined;
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

async function login(req, res, url, secret) {
  const form = await readForm(req);
  if (!form) return send(res, 400, page("Bad request", `<div class="card"><h1>Bad request</h1><p>Expected a small HTML form.</p></div>`));
  const username = (form.get("username") ?? "").trim();
  const password = form.get("password") ?? "";
  const next = safeNext(form.get("next") ?? undefined);
  const retry = new URL(`/login?next=${encodeURIComponent(next)}`, url);
  if (!validUsername(username)) return send(res, 400, loginForm(retry, req, "Enter a user name of 1 to 64 visible ASCII characters."));
  if (password === "") return send(res, 400, loginForm(retry, req, "Enter a password (any non-empty one will do)."));
  const roles = form.get("admin") ? ["user", "admin"] : ["user"];
  const jwt = await loginJwt(secret, username, roles);
  res.writeHead(303, { Location: next, "X-Gate-Login": jwt, "Cache-Control": "no-store" });
  res.end();
}

function logoutEverywhere(res) {
  res.writeHead(303, { Location: "/", "X-Gate-Logout": "user", "Cache-Control": "no-store" });
  res.end();
}

/** CORS headers for a trusted origin's request, none for anyone else (the browser then refuses to hand over the answer). */
function corsHeaders(req) {
  const origin = req.headers.origin;
  if (!origin || !CORS_ORIGINS.has(origin)) return {};
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Allow-Headers": "content-type",
    "Access-Control-Allow-Methods": "GET, POST",
    Vary: "Origin",
  };
}

/** `GET|POST /api/whoami`: who the gate says is calling, as JSON, for pages on trusted origins too. */
function whoami(req, res) {
  const body = JSON.stringify({ user: req.headers["x-gate-user"] ?? null, method: req.method });
  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store", ...corsHeaders(req) });
  res.end(body);
}

/** The answer to a CORS preflight (the gate forwards it without a session). */
function preflight(req, res) {
  res.writeHead(204, { "Cache-Control": "no-store", ...corsHeaders(req) });
  res.end();
}

/** `GET /static/<file>`: the demo's few static files, read at each request (edit and reload). */
function staticFile(res, path) {
  const { file, type } = STATIC_FILES[path];
  res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(readFileSync(file));
}

function notFound(req) {
  return page(
    "Not found",
    `<div class="card"><h1>Not found</h1><p>Nothing at <code>${escapeHtml(req.url)}</code>. <a href="/">Home</a></p></div>`,
    req.headers["x-gate-user"],
  );
}

/** Routes one request. Method checks are explicit so a stray POST gets 405, not a page. */
async function handle(req, res, secret) {
  const url = new URL(req.url ?? "/", "http://origin.invalid");
  const path = url.pathname.replace(/(.)\/$/, "$1");
  const method = req.method === "HEAD" ? "GET" : req.method;
  const routes = {
    "/": { GET: () => send(res, 200, home(req)) },
    "/login": { GET: () => send(res, 200, loginForm(url, req)), POST: () => login(req, res, url, secret) },
    "/dashboard": { GET: async () => send(res, 200, dashboard(req, await assertionStatus(req))) },
    "/admin": { GET: () => send(res, 200, adminPage(req)) },
    "/logout-everywhere": { GET: () => send(res, 200, logoutEverywherePage(req)), POST: () => logoutEverywhere(res) },
    "/api/whoami": { GET: () => whoami(req, res), POST: () => whoami(req, res), OPTIONS: () => preflight(req, res) },
    ...Object.fromEntries(Object.keys(STATIC_FILES).map((name) => [name, { GET: () => staticFile(res, name) }])),
  };
  const route = routes[path];
  if (!route) return send(res, 404, notFound(req));
  const handler = route[method];
  if (!handler)
    return send(res, 405, page("Method not allowed", `<div class="card"><h1>Method not allowed</h1></div>`), {
      Allow: Object.keys(route).join(", "),
    });
  return handler();
}

/** X-Gate-Assertion of the /live handshake, verified as the dashboard does, as the panel shows it. */
async function liveAssertion(req) {
  try {
    const { sub, jti } = await verifyAssertion(req, assertionCheck(req));
    return { verified: true, sub, jti };
  } catch (error) {
    return { verified: false, code: error.code ?? "error", message: error.message };
  }
}

function sendJson(ws, value) {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(value));
}

/**
 * One /live connection: first the identity the gate sent on the handshake (the
 * origin gets no other: a socket's messages carry no headers), then a tick
 * every LIVE_TICK_MS; text is echoed back as JSON, binary as it came. The close
 * is logged with its code, so `npm start` shows the gate's 1000 "session ended".
 */
async function live(ws, req) {
  const opened = Date.now();
  const user = req.headers["x-gate-user"];
  let ticks = 0;
  const timer = setInterval(() => sendJson(ws, { type: "tick", n: ++ticks, at: new Date().toISOString() }), LIVE_TICK_MS);
  ws.on("message", (data, isBinary) => {
    if (isBinary) ws.send(data, { binary: true });
    else sendJson(ws, { type: "echo", text: data.toString().slice(0, 1_000) });
  });
  ws.on("error", (error) => console.error(`WS /live error: ${error.message}`));
  ws.on("close", (code, reason) => {
    clearInterval(timer);
    console.log(`WS /live closed ${code} ${JSON.stringify(reason.toString())} after ${Date.now() - opened} ms${user ? ` user=${user}` : ""}`);
  });
  const identity = { user: user ?? null, roles: req.headers["x-gate-roles"] ?? null, session: req.headers["x-gate-session"] ?? null };
  sendJson(ws, { type: "identity", ...identity, assertion: await liveAssertion(req) });
}

/**
 * The server's `upgrade` listener: /live becomes a WebSocket, any other path
 * gets 404 and no socket. Each handshake is logged like a request
 * (`GET /live → 101`), so the browser tests can see what reached the origin.
 */
function liveSockets() {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: LIVE_MAX_MESSAGE_BYTES });
  return function upgrade(req, socket, head) {
    const user = req.headers["x-gate-user"] ? ` user=${req.headers["x-gate-user"]}` : "";
    socket.on("error", () => socket.destroy());
    if (new URL(req.url ?? "/", "http://origin.invalid").pathname !== "/live") {
      console.log(`${req.method} ${req.url} → 404 (upgrade)${user}`);
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      console.log(`${req.method} ${req.url} → 101 (websocket)${user}`);
      live(ws, req).catch((error) => console.error(error));
    });
  };
}

/** Starts the demo origin; resolves with the listening server. */
export function startOrigin({ port = PORT, host = HOST } = {}) {
  const secret = originSecret();
  const server = createServer((req, res) => {
    const started = Date.now();
    res.on("finish", () => {
      const user = req.headers["x-gate-user"] ? ` user=${req.headers["x-gate-user"]}` : "";
      console.log(`${req.method} ${req.url} → ${res.statusCode} (${Date.now() - started} ms)${user}`);
    });
    handle(req, res, secret).catch((error) => {
      console.error(error);
      if (!res.headersSent) send(res, 500, page("Error", `<div class="card"><h1>Origin error</h1></div>`));
      else res.destroy();
    });
  });
  server.on("upgrade", liveSockets());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      console.log(`demo origin listening on http://${host}:${port}`);
      resolve(server);
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  startOrigin().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
