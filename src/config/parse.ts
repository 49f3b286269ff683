import type { Env } from "./env";
import type { Config, StoreConfig } from "./types";
import { parseRoutes } from "./routes";
import { parseLimiters } from "./limiters";
import { parseSecurityHeaders } from "./headers";
import { readAssertion } from "./assertion";
import {
  type Problems,
  createProblems,
  isTable,
  readChoice,
  readDuration,
  readInteger,
  readStrings,
  readTable,
  show,
} from "./problems";

/** The outcome of validating an environment: a whole config, or every problem found. */
export type ParsedConfig = { ok: true; config: Config } | { ok: false; problems: string[] };

/** How the gate runs: in front of an origin (which it needs), or as middleware in front of the Worker's own handlers. */
export type ParseMode = "proxy" | "middleware";

const GATE_KEYS = [
  "login_path",
  "public_origin",
  "trusted_origins",
  "ipv6_limit_prefix",
  "issuer",
  "cookie",
  "session",
  "assertion",
  "rate_limits",
  "routes",
  "security_headers",
];
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const MIN_SECRET_BYTES = 32;

/**
 * Validates the whole environment into one typed {@link Config}. Nothing is
 * defaulted silently when it was written wrongly: every problem is collected
 * and returned together, so a misconfigured gate can refuse all traffic.
 */
export function parseConfig(env: Env, options: { mode?: ParseMode } = {}): ParsedConfig {
  const problems = createProblems();
  const gate = readGate(problems, env.GATE);
  const storeKind = readChoice(problems, "SESSION_STORE", env.SESSION_STORE || undefined, ["kv", "redis", "durable"], "kv");
  const limiters = parseLimiters(problems, gate.rate_limits, storeKind, env);
  const cookie = readTable(problems, "GATE.cookie", gate.cookie, ["name", "same_site"]);
  const config: Config = {
    origin: options.mode === "middleware" ? {} : readOrigin(problems, env),
    secrets: {
      // A required secret that is missing is a problem: no config is returned with "" in it.
      gate: readSecret(problems, "GATE_SECRET", env.GATE_SECRET, true) ?? "",
      origin: readSecret(problems, "GATE_ORIGIN_SECRET", env.GATE_ORIGIN_SECRET, true) ?? "",
      admin: readSecret(problems, "GATE_ADMIN_TOKEN", env.GATE_ADMIN_TOKEN, false),
    },
    loginPath: readLoginPath(problems, gate.login_path),
    publicOrigin: readPublicOrigin(problems, gate.public_origin),
    trustedOrigins: readTrustedOrigins(problems, gate.trusted_origins),
    ipv6LimitPrefix: readInteger(problems, "GATE.ipv6_limit_prefix", gate.ipv6_limit_prefix, 64, [32, 128]),
    issuer: readIssuer(problems, gate.issuer),
    cookie: {
      name: readCookieName(problems, cookie.name),
      sameSite: readChoice(problems, "GATE.cookie.same_site", cookie.same_site, ["Lax", "Strict"], "Lax"),
    },
    session: readSession(problems, gate.session),
    assertion: readAssertion(problems, gate.assertion),
    rateLimits: limiters,
    routes: parseRoutes(problems, gate.routes, limiters),
    headers: parseSecurityHeaders(problems, gate.security_headers),
    store: readStore(problems, env, storeKind),
  };
  return problems.list.length === 0 ? { ok: true, config } : { ok: false, problems: problems.list };
}

function readGate(problems: Problems, value: unknown): Record<string, unknown> {
  let gate = value;
  if (typeof gate === "string") {
    try {
      gate = JSON.parse(gate);
    } catch {
      problems.add("GATE", "expected a table ([vars.GATE] in wrangler.toml) or its JSON text, got text that is not JSON");
      return {};
    }
  }
  return readTable(problems, "GATE", gate, GATE_KEYS);
}

function readOrigin(problems: Problems, env: Env): Config["origin"] {
  if (env.ORIGIN && typeof (env.ORIGIN as Fetcher).fetch === "function") return { binding: env.ORIGIN };
  const url = parseHttpUrl(env.ORIGIN_URL);
  if (!url || url.search || url.hash) {
    problems.add("ORIGIN_URL", `expected an http(s) URL without query or fragment (or a service binding named ORIGIN), got ${show(env.ORIGIN_URL)}`);
  }
  return { url };
}

/** `SESSION_STORE` and what reaches it: the KV binding, or the Upstash URL and token. */
function readStore(problems: Problems, env: Env, kind: StoreConfig["kind"]): StoreConfig {
  if (kind === "kv") {
    if (!isKv(env.SESSIONS)) problems.add("SESSIONS", 'expected a KV namespace binding named SESSIONS (SESSION_STORE is "kv")');
    return { kind, namespace: env.SESSIONS as KVNamespace };
  }
  if (kind === "durable") {
    if (!isObjectNamespace(env.SESSION_OBJECTS)) {
      problems.add("SESSION_OBJECTS", 'expected a Durable Object namespace binding of class GatehouseSessions (SESSION_STORE is "durable")');
    }
    return { kind, namespace: env.SESSION_OBJECTS as DurableObjectNamespace };
  }
  const url = parseHttpUrl(env.UPSTASH_REDIS_REST_URL);
  if (!url) problems.add("UPSTASH_REDIS_REST_URL", `expected the https URL of the Upstash database, got ${show(env.UPSTASH_REDIS_REST_URL)}`);
  if (!env.UPSTASH_REDIS_REST_TOKEN) problems.add("UPSTASH_REDIS_REST_TOKEN", "expected the Upstash REST token (a secret)");
  return { kind, url: String(env.UPSTASH_REDIS_REST_URL), token: String(env.UPSTASH_REDIS_REST_TOKEN) };
}

function isKv(value: unknown): value is KVNamespace {
  return isTable(value) && typeof value.get === "function" && typeof value.put === "function";
}

const isObjectNamespace = (value: unknown) => isTable(value) && typeof value.idFromName === "function" && typeof value.get === "function";

function parseHttpUrl(value: unknown): URL | undefined {
  if (typeof value !== "string" || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
}

function readSecret(problems: Problems, key: string, value: unknown, required: boolean): string | undefined {
  if (value === undefined || value === "") {
    if (required) problems.add(key, `expected a secret of at least ${MIN_SECRET_BYTES} bytes (wrangler secret put ${key}, or .dev.vars)`);
    return undefined;
  }
  if (typeof value !== "string" || new TextEncoder().encode(value).length < MIN_SECRET_BYTES) {
    problems.add(key, `expected a secret of at least ${MIN_SECRET_BYTES} bytes, got a shorter one`);
  }
  return String(value);
}

function readLoginPath(problems: Problems, value: unknown): string {
  if (value === undefined) return "/login";
  if (typeof value === "string" && /^\/(?![/\\])[\x21-\x22\x24-\x3e\x40-\x7e]*$/.test(value)) return value;
  problems.add("GATE.login_path", `expected a path on this host such as "/login", got ${show(value)}`);
  return "/login";
}

function readTrustedOrigins(problems: Problems, value: unknown): Set<string> {
  const origins = readStrings(problems, "GATE.trusted_origins", value) ?? [];
  for (const origin of origins) {
    const url = parseHttpUrl(origin);
    if (!url || url.origin !== origin) {
      problems.add("GATE.trusted_origins", `expected origins written exactly as browsers send them, such as "https://app.example.com", got ${show(origin)}`);
    }
  }
  return new Set(origins);
}

function readPublicOrigin(problems: Problems, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const url = parseHttpUrl(value);
  if (url && url.origin === value) return value;
  problems.add("GATE.public_origin", `expected an origin such as "https://app.example.com" (scheme and host, no path or trailing slash), got ${show(value)}`);
  return undefined;
}

function readIssuer(problems: Problems, value: unknown): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value === "string" && parseHttpUrl(value)) return value;
  problems.add("GATE.issuer", `expected an http(s) URL, or "" for the gate's own origin, got ${show(value)}`);
  return undefined;
}

function readCookieName(problems: Problems, value: unknown): string {
  if (value === undefined) return "__Host-session";
  if (typeof value === "string" && COOKIE_NAME.test(value)) return value;
  problems.add("GATE.cookie.name", `expected a cookie name (letters, digits and !#$%&'*+.^_\`|~-), got ${show(value)}`);
  return "__Host-session";
}

function readSession(problems: Problems, value: unknown): Config["session"] {
  const raw = readTable(problems, "GATE.session", value, ["idle_timeout", "absolute_timeout", "rotate_every", "rotation_grace", "binding", "max_per_user"]);
  const session = {
    idleTimeout: readDuration(problems, "GATE.session.idle_timeout", raw.idle_timeout, "30m"),
    absoluteTimeout: readDuration(problems, "GATE.session.absolute_timeout", raw.absolute_timeout, "12h"),
    rotateEvery: readDuration(problems, "GATE.session.rotate_every", raw.rotate_every, "15m"),
    rotationGrace: readDuration(problems, "GATE.session.rotation_grace", raw.rotation_grace, "30s", 0),
    binding: readChoice(problems, "GATE.session.binding", raw.binding, ["off", "report", "enforce"], "report"),
    maxPerUser: readInteger(problems, "GATE.session.max_per_user", raw.max_per_user, 50, [1, 1_000]),
  };
  if (session.idleTimeout > session.absoluteTimeout) {
    problems.add("GATE.session.idle_timeout", "must not be longer than GATE.session.absolute_timeout");
  }
  if (session.rotationGrace >= session.rotateEvery) {
    problems.add("GATE.session.rotation_grace", "must be shorter than GATE.session.rotate_every");
  }
  return session;
}
