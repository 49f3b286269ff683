import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import type { Env } from "../../src/config/env";
import type { Config } from "../../src/config/types";
import { DEFAULT_SECURITY_HEADERS } from "../../src/config/headers";

const SECRET = "g".repeat(32);
const ORIGIN_SECRET = "o".repeat(32);
const DURATION = 'a duration such as "30s", "15m", "12h" or "7d"';
const GATE_KEYS =
  "login_path, public_origin, trusted_origins, ipv6_limit_prefix, issuer, error_page, login_provider, cookie, session, assertion, websocket, rate_limits, routes, security_headers, oidc";
const ROUTE_KEYS = "path, methods, access, roles, fresh, rate_limit, csrf, audience, device_bound";
const TRUSTED = 'expected origins written exactly as browsers send them, such as "https://app.example.com"';
const PATTERN = 'expected a URLPattern pathname starting with "/" such as "/api/*"';

/** A Workers Rate Limiting binding, as `[[ratelimits]]` provides one. */
const rateLimitBinding = () => ({ limit: async () => ({ success: true }) }) as unknown as RateLimit;

/** A valid environment with no `GATE` table at all: every default applies. */
const BASE: Env = {
  ORIGIN_URL: "https://origin.example",
  GATE_SECRET: SECRET,
  GATE_ORIGIN_SECRET: ORIGIN_SECRET,
  SESSIONS: env.SESSIONS as KVNamespace,
  RATE_LIMIT_DEFAULT: rateLimitBinding(),
  RATE_LIMIT_LOGIN: rateLimitBinding(),
  RATE_LIMIT_FAILED_AUTH: rateLimitBinding(),
};

/** The problems of BASE with `overrides`, or `[]` when it parses. */
function problemsOf(overrides: Partial<Env>): string[] {
  const parsed = parseConfig({ ...BASE, ...overrides });
  return parsed.ok ? [] : parsed.problems;
}

/** The problems of BASE with this `GATE` table. */
const gateProblems = (gate: unknown) => problemsOf({ GATE: gate });

/** A GATE table whose only route is `route`. */
const withRoute = (route: unknown) => ({ routes: [route] });

/** The config of BASE with `overrides`, failing the test with its problems when it does not parse. */
function configOf(overrides: Partial<Env>): Config {
  const parsed = parseConfig({ ...BASE, ...overrides });
  if (!parsed.ok) throw new Error(`expected a valid config, got:\n${parsed.problems.join("\n")}`);
  return parsed.config;
}

type Case = [name: string, overrides: Partial<Env>, problems: string[]];

const BAD_CONFIGS: Case[] = [
  // Secrets
  [
    "GATE_SECRET missing",
    { GATE_SECRET: undefined },
    ["GATE_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_SECRET, or .dev.vars)"],
  ],
  ["GATE_SECRET empty", { GATE_SECRET: "" }, ["GATE_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_SECRET, or .dev.vars)"]],
  ["GATE_SECRET of 31 bytes", { GATE_SECRET: "g".repeat(31) }, ["GATE_SECRET: expected a secret of at least 32 bytes, got a shorter one"]],
  [
    "GATE_ORIGIN_SECRET missing",
    { GATE_ORIGIN_SECRET: undefined },
    ["GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_ORIGIN_SECRET, or .dev.vars)"],
  ],
  ["GATE_ORIGIN_SECRET short", { GATE_ORIGIN_SECRET: "hunter2" }, ["GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes, got a shorter one"]],
  ["GATE_ADMIN_TOKEN short", { GATE_ADMIN_TOKEN: "admin" }, ["GATE_ADMIN_TOKEN: expected a secret of at least 32 bytes, got a shorter one"]],
  // Origin
  [
    "ORIGIN_URL missing",
    { ORIGIN_URL: undefined },
    ["ORIGIN_URL: expected an http(s) URL without query or fragment (or a service binding named ORIGIN), got nothing"],
  ],
  [
    "ORIGIN_URL not a URL",
    { ORIGIN_URL: "origin.example" },
    ['ORIGIN_URL: expected an http(s) URL without query or fragment (or a service binding named ORIGIN), got "origin.example"'],
  ],
  [
    "ORIGIN_URL not http(s)",
    { ORIGIN_URL: "ftp://origin.example" },
    ['ORIGIN_URL: expected an http(s) URL without query or fragment (or a service binding named ORIGIN), got "ftp://origin.example"'],
  ],
  [
    "ORIGIN_URL with a query",
    { ORIGIN_URL: "https://origin.example/app?x=1" },
    ['ORIGIN_URL: expected an http(s) URL without query or fragment (or a service binding named ORIGIN), got "https://origin.example/app?x=1"'],
  ],
  [
    "ORIGIN_URL with a fragment",
    { ORIGIN_URL: "https://origin.example/#top" },
    ['ORIGIN_URL: expected an http(s) URL without query or fragment (or a service binding named ORIGIN), got "https://origin.example/#top"'],
  ],
  // Store
  ["SESSION_STORE bogus", { SESSION_STORE: "memcached" }, ['SESSION_STORE: expected one of "kv", "redis", "durable", got "memcached"']],
  ["SESSION_STORE in the wrong case", { SESSION_STORE: "KV" }, ['SESSION_STORE: expected one of "kv", "redis", "durable", got "KV"']],
  [
    "redis without the Upstash variables",
    { SESSION_STORE: "redis" },
    [
      "UPSTASH_REDIS_REST_URL: expected the https URL of the Upstash database, got nothing",
      "UPSTASH_REDIS_REST_TOKEN: expected the Upstash REST token (a secret)",
    ],
  ],
  [
    "redis with an Upstash URL that is not a URL",
    { SESSION_STORE: "redis", UPSTASH_REDIS_REST_URL: "eu1-x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "token" },
    ['UPSTASH_REDIS_REST_URL: expected the https URL of the Upstash database, got "eu1-x.upstash.io"'],
  ],
  ["kv without a SESSIONS binding", { SESSIONS: undefined }, ['SESSIONS: expected a KV namespace binding named SESSIONS (SESSION_STORE is "kv")']],
  [
    "kv with a SESSIONS that is not KV",
    { SESSIONS: "sessions" as unknown as KVNamespace },
    ['SESSIONS: expected a KV namespace binding named SESSIONS (SESSION_STORE is "kv")'],
  ],
  // The GATE table itself
  [
    "GATE as text that is not JSON",
    { GATE: "login_path = '/login'" },
    ["GATE: expected a table ([vars.GATE] in wrangler.toml) or its JSON text, got text that is not JSON"],
  ],
  ["GATE as JSON text of a list", { GATE: "[1,2]" }, ["GATE: expected a table, got [1,2]"]],
  ["GATE as a number", { GATE: 42 }, ["GATE: expected a table, got 42"]],
];

const BAD_GATES: Array<[name: string, gate: unknown, problems: string[]]> = [
  // Unknown keys, at every level
  ["an unknown top-level key", { logn_path: "/in" }, [`GATE.logn_path: unknown key: did you mean "login_path"? (expected one of ${GATE_KEYS})`]],
  ["an unknown cookie key", { cookie: { nme: "sid" } }, [`GATE.cookie.nme: unknown key: did you mean "name"? (expected one of name, same_site)`]],
  [
    "a misspelt session key",
    { session: { idle_timout: "10m" } },
    [
      `GATE.session.idle_timout: unknown key: did you mean "idle_timeout"? (expected one of idle_timeout, absolute_timeout, rotate_every, rotation_grace, binding, max_per_user, device_bound, device_cookie_ttl)`,
    ],
  ],
  [
    "an unknown limiter key",
    { rate_limits: { default: { limit: 5, period: "1m", key: "ip", burst: 10 } } },
    ["GATE.rate_limits.default.burst: unknown key (expected one of limit, period, key, on_failure)"],
  ],
  [
    "an unknown route key",
    withRoute({ path: "/x", acess: "public" }),
    [`GATE.routes[0].acess: unknown key: did you mean "access"? (expected one of ${ROUTE_KEYS})`],
  ],
  [
    "an unknown security header key",
    { security_headers: { "X-Frame-Options": { value: "DENY", origin_win: false } } },
    ["GATE.security_headers.X-Frame-Options.origin_win: unknown key (expected one of value, origin_wins)"],
  ],
  // Durations
  ["a duration in words", { session: { idle_timeout: "30 minutes" } }, [`GATE.session.idle_timeout: expected ${DURATION}, got "30 minutes"`]],
  ["a duration as a bare number", { session: { idle_timeout: 30 } }, [`GATE.session.idle_timeout: expected ${DURATION}, got 30`]],
  ["a negative duration", { session: { rotate_every: "-1s" } }, [`GATE.session.rotate_every: expected ${DURATION}, got "-1s"`]],
  ["a fractional duration", { session: { absolute_timeout: "1.5h" } }, [`GATE.session.absolute_timeout: expected ${DURATION}, got "1.5h"`]],
  [
    "a duration with an upper-case unit",
    { session: { absolute_timeout: "12H" } },
    [`GATE.session.absolute_timeout: expected ${DURATION}, got "12H"`],
  ],
  ["an empty duration", { session: { rotation_grace: "" } }, [`GATE.session.rotation_grace: expected ${DURATION}, got ""`]],
  ["a null duration (JSON text)", '{"session":{"idle_timeout":null}}', [`GATE.session.idle_timeout: expected ${DURATION}, got null`]],
  [
    "a zero rotation period",
    { session: { rotate_every: "0s" } },
    ['GATE.session.rotate_every: must be at least 1s, got "0s"', "GATE.session.rotation_grace: must be shorter than GATE.session.rotate_every"],
  ],
  // Session relations and choices
  [
    "an idle timeout longer than the absolute timeout",
    { session: { idle_timeout: "13h" } },
    ["GATE.session.idle_timeout: must not be longer than GATE.session.absolute_timeout"],
  ],
  [
    "a grace window as long as the rotation period",
    { session: { rotation_grace: "15m" } },
    ["GATE.session.rotation_grace: must be shorter than GATE.session.rotate_every"],
  ],
  [
    "a grace window longer than the rotation period",
    { session: { rotate_every: "1m", rotation_grace: "2m" } },
    ["GATE.session.rotation_grace: must be shorter than GATE.session.rotate_every"],
  ],
  ["a bogus binding mode", { session: { binding: "strict" } }, ['GATE.session.binding: expected one of "off", "report", "enforce", got "strict"']],
  // Cookie
  ["same_site None", { cookie: { same_site: "None" } }, ['GATE.cookie.same_site: expected one of "Lax", "Strict", got "None"']],
  ["same_site in lower case", { cookie: { same_site: "lax" } }, ['GATE.cookie.same_site: expected one of "Lax", "Strict", got "lax"']],
  [
    "a cookie name with a space",
    { cookie: { name: "my session" } },
    ['GATE.cookie.name: expected a cookie name (letters, digits and !#$%&\'*+.^_`|~-), got "my session"'],
  ],
  [
    "a cookie name with =",
    { cookie: { name: "a=b" } },
    ['GATE.cookie.name: expected a cookie name (letters, digits and !#$%&\'*+.^_`|~-), got "a=b"'],
  ],
  // login_path
  ["a login path without a leading slash", { login_path: "login" }, ['GATE.login_path: expected a path on this host such as "/login", got "login"']],
  [
    "a protocol-relative login path",
    { login_path: "//evil.example/login" },
    ['GATE.login_path: expected a path on this host such as "/login", got "//evil.example/login"'],
  ],
  [
    "a login path starting /\\",
    { login_path: "/\\evil.example" },
    ['GATE.login_path: expected a path on this host such as "/login", got "/\\\\evil.example"'],
  ],
  [
    "an absolute URL as login path",
    { login_path: "https://evil.example/login" },
    ['GATE.login_path: expected a path on this host such as "/login", got "https://evil.example/login"'],
  ],
  ["a login path with a query", { login_path: "/login?x=1" }, ['GATE.login_path: expected a path on this host such as "/login", got "/login?x=1"']],
  // trusted_origins and issuer
  [
    "a trusted origin with a path",
    { trusted_origins: ["https://app.example.com/app"] },
    [`GATE.trusted_origins: ${TRUSTED}, got "https://app.example.com/app"`],
  ],
  [
    "a trusted origin with a trailing slash",
    { trusted_origins: ["https://app.example.com/"] },
    [`GATE.trusted_origins: ${TRUSTED}, got "https://app.example.com/"`],
  ],
  [
    "a trusted origin in upper case",
    { trusted_origins: ["https://App.Example.com"] },
    [`GATE.trusted_origins: ${TRUSTED}, got "https://App.Example.com"`],
  ],
  [
    "a trusted origin with its default port",
    { trusted_origins: ["https://app.example.com:443"] },
    [`GATE.trusted_origins: ${TRUSTED}, got "https://app.example.com:443"`],
  ],
  ["a trusted origin without a scheme", { trusted_origins: ["app.example.com"] }, [`GATE.trusted_origins: ${TRUSTED}, got "app.example.com"`]],
  [
    "trusted_origins not a list",
    { trusted_origins: "https://app.example.com" },
    ['GATE.trusted_origins: expected a list of non-empty strings, got "https://app.example.com"'],
  ],
  [
    "an issuer that is not a URL",
    { issuer: "gatehouse" },
    ['GATE.issuer: expected an http(s) URL, or "" for the gate\'s own origin, got "gatehouse"'],
  ],
  // Routes
  ["routes not a list", { routes: { path: "/x" } }, ['GATE.routes: expected a list of tables ([[vars.GATE.routes]]), got {"path":"/x"}']],
  ["a route that is not a table", { routes: ["/x"] }, ['GATE.routes[0]: expected a table, got "/x"']],
  ["a route without a path", withRoute({ access: "public" }), [`GATE.routes[0].path: ${PATTERN}, got nothing`]],
  ["a route path without a leading slash", withRoute({ path: "api/*" }), [`GATE.routes[0].path: ${PATTERN}, got "api/*"`]],
  ["a route path that is not a string", withRoute({ path: 7 }), [`GATE.routes[0].path: ${PATTERN}, got 7`]],
  ["an invalid URLPattern", withRoute({ path: "/files/(" }), ['GATE.routes[0].path: is not a valid URLPattern pathname: "/files/("']],
  [
    "a bad access",
    withRoute({ path: "/x", access: "private" }),
    ['GATE.routes[0].access: expected one of "public", "session", "deny", got "private"'],
  ],
  [
    "lower-case methods",
    withRoute({ path: "/x", methods: ["GET", "post"] }),
    ['GATE.routes[0].methods: expected upper-case HTTP methods such as "GET", got "post"'],
  ],
  ["methods not a list", withRoute({ path: "/x", methods: "GET" }), ['GATE.routes[0].methods: expected a list of non-empty strings, got "GET"']],
  ["roles not a list", withRoute({ path: "/x", roles: "admin" }), ['GATE.routes[0].roles: expected a list of non-empty strings, got "admin"']],
  [
    "roles with an empty name",
    withRoute({ path: "/x", roles: ["admin", ""] }),
    ['GATE.routes[0].roles: expected a list of non-empty strings, got ["admin",""]'],
  ],
  ["a bad fresh", withRoute({ path: "/x", fresh: "soon" }), [`GATE.routes[0].fresh: expected ${DURATION}, got "soon"`]],
  [
    "an unknown rate_limit name",
    withRoute({ path: "/x", rate_limit: "api" }),
    ['GATE.routes[0].rate_limit: expected the name of a limiter in GATE.rate_limits, got "api"'],
  ],
  ["csrf not a boolean", withRoute({ path: "/x", csrf: "no" }), ['GATE.routes[0].csrf: expected true or false, got "no"']],
  ["an empty audience", withRoute({ path: "/x", audience: "" }), ['GATE.routes[0].audience: expected a non-empty string, got ""']],
  [
    "a problem in a later route, by its index",
    { routes: [{ path: "/a" }, { path: "/b" }, { path: "/c", access: "open" }] },
    ['GATE.routes[2].access: expected one of "public", "session", "deny", got "open"'],
  ],
  // Rate limiters
  ["rate_limits not a table", { rate_limits: [] }, ["GATE.rate_limits: expected a table, got []"]],
  [
    "a limiter that is not a table",
    { rate_limits: { default: 600 } },
    ['GATE.rate_limits.default: expected a table such as { limit = 600, period = "1m", key = "ip" }, got 600'],
  ],
  [
    "a limit of zero",
    { rate_limits: { default: { limit: 0, period: "1m", key: "ip" } } },
    ["GATE.rate_limits.default.limit: expected a whole number of at least 1, got 0"],
  ],
  [
    "a fractional limit",
    { rate_limits: { default: { limit: 1.5, period: "1m", key: "ip" } } },
    ["GATE.rate_limits.default.limit: expected a whole number of at least 1, got 1.5"],
  ],
  [
    "a limit as text",
    { rate_limits: { default: { limit: "600", period: "1m", key: "ip" } } },
    ['GATE.rate_limits.default.limit: expected a whole number of at least 1, got "600"'],
  ],
  [
    "a limiter without a limit",
    { rate_limits: { default: { period: "1m", key: "ip" } } },
    ["GATE.rate_limits.default.limit: expected a whole number of at least 1, got nothing"],
  ],
  [
    "a bad limiter period",
    { rate_limits: { default: { limit: 5, period: "1 minute", key: "ip" } } },
    [`GATE.rate_limits.default.period: expected ${DURATION}, got "1 minute"`],
  ],
  [
    "a bad limiter key",
    { rate_limits: { default: { limit: 5, period: "1m", key: "session_id" } } },
    ['GATE.rate_limits.default.key: expected one of "ip", "session", "user", got "session_id"'],
  ],
  [
    "a bad on_failure",
    { rate_limits: { default: { limit: 5, period: "1m", key: "ip", on_failure: "maybe" } } },
    ['GATE.rate_limits.default.on_failure: expected one of "open", "closed", got "maybe"'],
  ],
  [
    "a limiter period Workers Rate Limiting cannot count over, in kv mode",
    { rate_limits: { default: { limit: 5, period: "10m", key: "ip" } } },
    ['GATE.rate_limits.default.period: expected "10s" or "1m" in kv mode (Workers Rate Limiting periods), got "10m"'],
  ],
  [
    "a limiter without its binding, in kv mode",
    { rate_limits: { api: { limit: 5, period: "10s", key: "user" } } },
    ["GATE.rate_limits.api: expected a rate limiting binding named RATE_LIMIT_API in wrangler.toml ([[ratelimits]]) in kv mode"],
  ],
  [
    "a limiter name in upper case",
    { rate_limits: { Default: { limit: 5, period: "1m", key: "ip" } } },
    ["GATE.rate_limits.Default: expected a name of lower-case letters, digits and _"],
  ],
  // Security headers
  ["security_headers not a table", { security_headers: "off" }, ['GATE.security_headers: expected a table of header names, got "off"']],
  ["a security header with a bad name", { security_headers: { "X Frame": "DENY" } }, ["GATE.security_headers.X Frame: is not a valid header name"]],
  [
    "a security header with a bad value",
    { security_headers: { "X-Frame-Options": 5 } },
    ["GATE.security_headers.X-Frame-Options: expected a header value (printable ASCII) or false, got 5"],
  ],
];

describe("parseConfig", () => {
  describe("reports a bad environment with exact messages", () => {
    it.each(BAD_CONFIGS)("%s", (_name, overrides, problems) => {
      expect(problemsOf(overrides)).toEqual(problems);
    });
  });

  describe("reports a bad GATE table with exact messages", () => {
    it.each(BAD_GATES)("%s", (_name, gate, problems) => {
      expect(gateProblems(gate)).toEqual(problems);
    });
  });

  it("reports every problem at once, each on its own line", () => {
    const problems = problemsOf({
      GATE_SECRET: "short",
      ORIGIN_URL: "ftp://origin.example",
      GATE: { cookie: { same_site: "None" }, session: { idle_timout: "10m" }, routes: [{ path: "/x", access: "private" }] },
    });
    expect(problems).toEqual([
      'ORIGIN_URL: expected an http(s) URL without query or fragment (or a service binding named ORIGIN), got "ftp://origin.example"',
      "GATE_SECRET: expected a secret of at least 32 bytes, got a shorter one",
      'GATE.cookie.same_site: expected one of "Lax", "Strict", got "None"',
      `GATE.session.idle_timout: unknown key: did you mean "idle_timeout"? (expected one of idle_timeout, absolute_timeout, rotate_every, rotation_grace, binding, max_per_user, device_bound, device_cookie_ttl)`,
      'GATE.routes[0].access: expected one of "public", "session", "deny", got "private"',
    ]);
  });

  it("reports every problem of one route, not only the first", () => {
    expect(gateProblems(withRoute({ methods: ["get"], access: "open", csrf: 1 }))).toEqual([
      `GATE.routes[0].path: ${PATTERN}, got nothing`,
      'GATE.routes[0].methods: expected upper-case HTTP methods such as "GET", got "get"',
      'GATE.routes[0].access: expected one of "public", "session", "deny", got "open"',
      "GATE.routes[0].csrf: expected true or false, got 1",
    ]);
  });

  it("uses an ORIGIN service binding instead of ORIGIN_URL", () => {
    const origin = { fetch: async () => new Response("ok") } as unknown as Fetcher;
    const config = configOf({ ORIGIN: origin, ORIGIN_URL: undefined });
    expect(config.origin).toEqual({ binding: origin });
  });

  it("counts secret lengths in bytes, not characters", () => {
    expect(problemsOf({ GATE_SECRET: "é".repeat(16) })).toEqual([]);
    expect(problemsOf({ GATE_SECRET: `${"é".repeat(15)}e` })).toEqual(["GATE_SECRET: expected a secret of at least 32 bytes, got a shorter one"]);
  });

  it("accepts the Upstash variables in redis mode without a SESSIONS binding", () => {
    const config = configOf({
      SESSION_STORE: "redis",
      SESSIONS: undefined,
      UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "token",
    });
    expect(config.store.kind).toBe("redis");
  });

  it("accepts any limiter period, and no binding, in redis mode", () => {
    const config = configOf({
      SESSION_STORE: "redis",
      UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "token",
      GATE: { rate_limits: { api: { limit: 30, period: "10m", key: "user" } } },
    });
    expect(config.rateLimits.get("api")).toEqual({ name: "api", limit: 30, period: 600_000, key: "user", onFailure: "open" });
  });

  it("accepts an idle timeout equal to the absolute timeout and a zero grace window", () => {
    const config = configOf({ GATE: { session: { idle_timeout: "12h", absolute_timeout: "12h", rotation_grace: "0s" } } });
    expect(config.session).toMatchObject({ idleTimeout: 43_200_000, absoluteTimeout: 43_200_000, rotationGrace: 0 });
  });

  it("applies the contract's defaults when GATE is absent", () => {
    const config = configOf({});
    expect(config.origin.url?.href).toBe("https://origin.example/");
    expect(config.store.kind).toBe("kv");
    expect(config.secrets).toEqual({ gate: SECRET, origin: ORIGIN_SECRET, admin: undefined });
    expect(config.loginPath).toBe("/login");
    expect([...config.trustedOrigins]).toEqual([]);
    expect(config.issuer).toBeUndefined();
    expect(config.cookie).toEqual({ name: "__Host-session", sameSite: "Lax" });
    expect(config.session).toEqual({
      idleTimeout: 1_800_000,
      absoluteTimeout: 43_200_000,
      rotateEvery: 900_000,
      rotationGrace: 30_000,
      binding: "report",
      maxPerUser: 50,
      deviceBound: "offer",
      deviceCookieTtl: 600_000,
    });
    expect(config.routes).toEqual([]);
    expect(headersOf(config)).toEqual(DEFAULT_HEADER_RULES);
    expect(configOf({ GATE: {} })).toEqual(config);
  });

  it("applies a route's defaults for the keys it leaves out", () => {
    const [route] = configOf({ GATE: withRoute({ path: "/x" }) }).routes;
    expect(route).toEqual({
      path: "/x",
      pattern: expect.any(URLPattern),
      methods: undefined,
      access: "session",
      roles: undefined,
      fresh: undefined,
      rateLimit: undefined,
      csrf: true,
      audience: undefined,
      deviceBound: false,
    });
  });

  it("switches a security header off, replaces one, and adds one", () => {
    const config = configOf({
      GATE: {
        security_headers: {
          "X-Frame-Options": false,
          "content-security-policy": { value: "default-src 'self'", origin_wins: false },
          "Permissions-Policy": "camera=()",
        },
      },
    });
    const rules = headersOf(config);
    expect(rules["x-frame-options"]).toBeUndefined();
    expect(rules["content-security-policy"]).toEqual({ value: "default-src 'self'", originWins: false });
    expect(rules["permissions-policy"]).toEqual({ value: "camera=()", originWins: true });
    expect(rules["x-content-type-options"]).toEqual({ value: "nosniff", originWins: true });
  });

  describe("the full policy of wrangler.toml's [vars]", () => {
    it("parses into typed values: durations in ms, routes compiled, default headers present", () => {
      const config = configOf(WRANGLER_VARS);
      expect(config.origin.url?.href).toBe("http://localhost:8788/");
      expect(config.store.kind).toBe("kv");
      expect(config.loginPath).toBe("/login");
      expect([...config.trustedOrigins]).toEqual([]);
      expect(config.issuer).toBeUndefined();
      expect(config.cookie).toEqual({ name: "__Host-session", sameSite: "Lax" });
      expect(config.session).toEqual({
        idleTimeout: 1_800_000,
        absoluteTimeout: 43_200_000,
        rotateEvery: 900_000,
        rotationGrace: 30_000,
        binding: "report",
        maxPerUser: 50,
        deviceBound: "offer",
        deviceCookieTtl: 600_000,
      });
      expect(Object.fromEntries(config.rateLimits)).toEqual(WRANGLER_LIMITERS);
      // In kv mode each limiter carries the Workers Rate Limiting binding that counts for it.
      for (const name of Object.keys(WRANGLER_LIMITERS)) expect(config.rateLimits.get(name)?.binding).toBe(BASE[`RATE_LIMIT_${name.toUpperCase()}`]);
      expect(config.routes.map(({ pattern: _, ...route }) => route)).toEqual(WRANGLER_ROUTES);
      expect(headersOf(config)).toEqual(DEFAULT_HEADER_RULES);
    });

    it("compiles each route into a case-insensitive URLPattern", () => {
      const [login, root, statics, admin, all] = configOf(WRANGLER_VARS).routes.map((route) => route.pattern);
      expect(login.test({ pathname: "/LOGIN" })).toBe(true);
      expect(login.test({ pathname: "/login/x" })).toBe(false);
      expect(root.test({ pathname: "/" })).toBe(true);
      expect(root.test({ pathname: "/x" })).toBe(false);
      expect(statics.test({ pathname: "/Static/app.js" })).toBe(true);
      expect(admin.test({ pathname: "/ADMIN/users" })).toBe(true);
      expect(all.test({ pathname: "/anything/at/all" })).toBe(true);
    });

    it("parses the same from its JSON text (a dashboard-set variable)", () => {
      const fromText = configOf({ ...WRANGLER_VARS, GATE: JSON.stringify(WRANGLER_VARS.GATE) });
      const fromTable = configOf(WRANGLER_VARS);
      expect(summary(fromText)).toEqual(summary(fromTable));
    });

    it("is what the test pool loads from wrangler.toml, which parses", () => {
      const parsed = parseConfig(env as Env);
      expect(parsed.ok ? [] : parsed.problems).toEqual([]);
    });
  });
});

/** Lower-case header name → rule, as a plain object. */
const headersOf = (config: Config) => Object.fromEntries(config.headers);

const DEFAULT_HEADER_RULES = Object.fromEntries(
  Object.entries(DEFAULT_SECURITY_HEADERS).map(([name, value]) => [name.toLowerCase(), { value, originWins: true }]),
);

/** Everything but the compiled patterns, which do not compare. */
function summary(config: Config) {
  return {
    ...config,
    routes: config.routes.map(({ pattern: _, ...route }) => route),
    rateLimits: Object.fromEntries(config.rateLimits),
    headers: headersOf(config),
  };
}

/** wrangler.toml's [vars], copied as the object miniflare binds. */
const WRANGLER_VARS: Partial<Env> = {
  ORIGIN_URL: "http://localhost:8788",
  SESSION_STORE: "kv",
  GATE: {
    login_path: "/login",
    trusted_origins: [],
    cookie: { name: "__Host-session", same_site: "Lax" },
    session: { idle_timeout: "30m", absolute_timeout: "12h", rotate_every: "15m", rotation_grace: "30s", binding: "report" },
    rate_limits: {
      default: { limit: 600, period: "1m", key: "ip" },
      login: { limit: 10, period: "1m", key: "ip" },
      failed_auth: { limit: 10, period: "1m", key: "ip" },
    },
    routes: [
      { path: "/login", access: "public", rate_limit: "login" },
      { path: "/", access: "public" },
      { path: "/static/*", access: "public" },
      { path: "/admin/*", access: "session", roles: ["admin"], fresh: "10m" },
      { path: "/*", access: "session" },
    ],
  },
};

const WRANGLER_LIMITERS = {
  default: { name: "default", limit: 600, period: 60_000, key: "ip", onFailure: "open", binding: expect.anything() },
  login: { name: "login", limit: 10, period: 60_000, key: "ip", onFailure: "open", binding: expect.anything() },
  failed_auth: { name: "failed_auth", limit: 10, period: 60_000, key: "ip", onFailure: "open", binding: expect.anything() },
};

const ROUTE_DEFAULTS = {
  methods: undefined,
  roles: undefined,
  fresh: undefined,
  rateLimit: undefined,
  csrf: true,
  audience: undefined,
  deviceBound: false,
};
const WRANGLER_ROUTES = [
  { ...ROUTE_DEFAULTS, path: "/login", access: "public", rateLimit: "login" },
  { ...ROUTE_DEFAULTS, path: "/", access: "public" },
  { ...ROUTE_DEFAULTS, path: "/static/*", access: "public" },
  { ...ROUTE_DEFAULTS, path: "/admin/*", access: "session", roles: ["admin"], fresh: 600_000 },
  { ...ROUTE_DEFAULTS, path: "/*", access: "session" },
];
