import { ASSERTION_MINIMUMS } from "../assertion";
import * as check from "./checks";
import { HEADERS } from "./headers";
import { PROVIDER } from "./oidc";
import { custom, list, named, table } from "./compose";
import { checkedText, choice, duration, flag, optionalDuration, required, show, text, whole } from "./nodes";

/**
 * The `GATE` table ([vars.GATE] in wrangler.toml), every key with its default
 * and what it is for. The parser reads with these nodes, and schema.json and
 * the `GateConfig` type are generated from them (scripts/schema.mjs).
 */

const COOKIE = table(
  {
    name: custom({
      schema: { type: "string", default: "__Host-session", description: "The session cookie; only this exact-case name counts." },
      ts: "string",
      read: check.cookieName,
    }),
    same_site: choice(["Lax", "Strict"], { doc: "The cookie's SameSite attribute.", fallback: "Lax" }),
  },
  { doc: "The session cookie." },
);

const SESSION = table(
  {
    idle_timeout: duration({ doc: "A session unused this long ends.", fallback: "30m" }),
    absolute_timeout: duration({ doc: "A session ends this long after login, however active.", fallback: "12h" }),
    rotate_every: duration({ doc: "The first request after this gets a new token.", fallback: "15m" }),
    rotation_grace: duration({ doc: "How long the previous token still works (and gets the same successor).", fallback: "30s", min: 0 }),
    binding: choice(["off", "report", "enforce"], {
      doc: "Binding to browser family and network: log a change (report) or also end the session (enforce).",
      fallback: "report",
    }),
    max_per_user: whole({ doc: "Sessions one user may hold; a login past it ends the least recently used.", fallback: 50, min: 1, max: 1_000 }),
    device_bound: choice(["off", "offer", "require"], {
      doc: "Device Bound Session Credentials (W3C DBSC): offer them to browsers that can, or also require them on routes with device_bound = true.",
      fallback: "offer",
    }),
    device_cookie_ttl: duration({
      doc: "How long a device-bound session's cookie token is accepted after it was issued (at least 3m: Chrome refreshes 2 minutes before the cookie expires).",
      fallback: "10m",
      min: 180_000,
    }),
  },
  { doc: "Sessions: timeouts, rotation, binding." },
);

const ASSERTION = table(
  {
    rotate_every: duration({
      doc: "How long an assertion signing key signs before its successor takes over (at least 1h).",
      fallback: "7d",
      min: ASSERTION_MINIMUMS.rotateEvery,
    }),
    publish_ahead: duration({
      doc: "How long a new key is in /_gate/jwks.json before it signs (at least 15m).",
      fallback: "1h",
      min: ASSERTION_MINIMUMS.publishAhead,
    }),
    retain: duration({
      doc: "How long a retired key stays published after it stopped signing (at least 10m).",
      fallback: "1h",
      min: ASSERTION_MINIMUMS.retain,
    }),
  },
  { doc: "The signing keys of X-Gate-Assertion." },
);

const WEBSOCKET = table(
  {
    recheck: duration({ doc: "How often an open WebSocket's session is checked (revoked, expired, idle).", fallback: "60s" }),
    max_rechecks: whole({
      doc: "Rechecks one socket makes before it asks its client to reconnect (1012), inside a Worker invocation's budget of store operations.",
      fallback: 250,
      min: 1,
      max: 10_000,
    }),
  },
  { doc: "WebSockets through the gate." },
);

const LIMITER = table(
  {
    limit: required(
      custom({ schema: { type: "integer", minimum: 1, description: "Requests allowed per period." }, ts: "number", read: check.positiveCount }),
    ),
    period: duration({ doc: "The window; in kv mode 10s or 1m (Workers Rate Limiting).", fallback: "1m" }),
    key: choice(["ip", "session", "user"], { doc: "What the limiter counts by.", fallback: "ip" }),
    on_failure: choice(["open", "closed"], { doc: "When the limiter's backend fails: let the request through, or answer 429.", fallback: "open" }),
  },
  {
    doc: "A rate limiter.",
    skip: true,
    notTable: (value) => `expected a table such as { limit = 600, period = "1m", key = "ip" }, got ${show(value)}`,
  },
);

const ROUTE = table(
  {
    path: required(
      custom({
        schema: { type: "string", pattern: "^/", description: "A URLPattern pathname, matched case-insensitively; /x and /x/ are one path." },
        ts: "string",
        read: check.urlPattern,
      }),
    ),
    methods: custom({
      schema: {
        type: "array",
        items: { type: "string", pattern: "^[A-Z]+$" },
        minItems: 1,
        description: "Upper-case methods the route applies to (HEAD follows GET); all when absent.",
      },
      ts: "string[]",
      read: check.methods,
    }),
    access: choice(["public", "session", "deny"], { doc: "Who may pass: anyone, a valid session, nobody (404).", fallback: "session" }),
    roles: custom({
      schema: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1, description: "The session needs one of these roles." },
      ts: "string[]",
      read: check.roles,
    }),
    fresh: optionalDuration({ doc: "The login must be at most this old." }),
    rate_limit: text({ doc: "The name of a limiter of rate_limits, on top of default." }),
    csrf: flag({ doc: "Check that unsafe requests come from the gate's own (or a trusted) origin.", fallback: true }),
    audience: custom({
      schema: { type: "string", minLength: 1, description: "X-Gate-Assertion `aud` for this route." },
      ts: "string",
      read: check.nonEmpty,
    }),
    device_bound: flag({ doc: 'With session.device_bound = "require": only device-bound sessions pass.', fallback: false }),
  },
  { doc: "A route; the first that matches applies.", skip: true },
);

/** The whole `GATE` table. */
export const GATE = table(
  {
    login_path: checkedText(
      { doc: "Where unauthenticated navigations are sent, with ?next=<path and query>.", fallback: "/login" },
      check.localPath("/login"),
    ),
    public_origin: checkedText(
      { doc: "The gate's own origin: CSRF's own origin, the default issuer, htu, X-Forwarded-Host/-Proto; other hosts get 421.", format: "uri" },
      check.origin,
    ),
    trusted_origins: custom({
      schema: { type: "array", items: { type: "string" }, default: [], description: "Other origins whose pages may send unsafe requests." },
      ts: "string[]",
      read: check.origins,
    }),
    ipv6_limit_prefix: whole({ doc: "Rate limits count an IPv6 client by this prefix.", fallback: 64, min: 32, max: 128 }),
    issuer: checkedText({ doc: "X-Gate-Assertion `iss`; default: public_origin, else the gate's origin.", format: "uri" }, check.issuer),
    error_page: checkedText(
      { doc: "A path on the origin that renders the gate's error pages for navigations (X-Gate-Error, X-Gate-Status)." },
      check.localPath(undefined),
    ),
    login_provider: text({ doc: "An oidc provider's name: unauthenticated navigations go to its login instead of login_path." }),
    cookie: COOKIE,
    session: SESSION,
    assertion: ASSERTION,
    websocket: WEBSOCKET,
    rate_limits: named(LIMITER, {
      doc: "Named rate limiters; default applies to every request.",
      name: /^[a-z][a-z0-9_]*$/,
      nameSchema: "^[a-z][a-z0-9_]*$",
      nameProblem: "expected a name of lower-case letters, digits and _",
    }),
    routes: list(ROUTE, {
      doc: "The route list, first match wins; no match needs a session.",
      notList: (value) => `expected a list of tables ([[vars.GATE.routes]]), got ${show(value)}`,
    }),
    security_headers: HEADERS,
    oidc: named(PROVIDER, {
      doc: "OpenID Providers the gate logs users in with, by name.",
      name: /^[a-z0-9_]{1,32}$/,
      nameSchema: "^[a-z0-9_]{1,32}$",
      nameProblem: "expected a provider name of 1 to 32 lower-case letters, digits and _",
    }),
  },
  { doc: "Gatehouse's policy: [vars.GATE] in wrangler.toml." },
);

/** What reading `GATE` gives the parser. */
export type GateTable = ReturnType<typeof GATE.read>;
