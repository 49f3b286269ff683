import type { Env } from "./env";
import { assertionOf, limitersOf, loginProviderOf, providersOf, routesOf, sessionOf } from "./assemble";
import { type Problems, createProblems, isTable, readChoice, show } from "./problems";
import { parseHttpUrl } from "./schema/checks";
import { GATE } from "./schema/gate";
import type { Config, StoreConfig } from "./types";

/** The outcome of validating an environment: a whole config, or every problem found. */
export type ParsedConfig = { ok: true; config: Config } | { ok: false; problems: string[] };

/** How the gate runs: in front of an origin (which it needs), or as middleware in front of the Worker's own handlers. */
export type ParseMode = "proxy" | "middleware";

const MIN_SECRET_BYTES = 32;

/**
 * Validates the whole environment into one typed {@link Config}. Nothing is
 * defaulted silently when it was written wrongly: every problem is collected
 * and returned together, so a misconfigured gate can refuse all traffic. The
 * `GATE` table is read by its schema (src/config/schema/gate.ts).
 */
export function parseConfig(env: Env, options: { mode?: ParseMode } = {}): ParsedConfig {
  const problems = createProblems();
  const storeKind = readChoice(problems, "SESSION_STORE", env.SESSION_STORE || undefined, ["kv", "redis", "durable"], "kv");
  const origin = options.mode === "middleware" ? {} : readOrigin(problems, env);
  const secrets = {
    // A required secret that is missing is a problem: no config is returned with "" in it.
    gate: readSecret(problems, "GATE_SECRET", env.GATE_SECRET, true) ?? "",
    origin: readSecret(problems, "GATE_ORIGIN_SECRET", env.GATE_ORIGIN_SECRET, true) ?? "",
    admin: readSecret(problems, "GATE_ADMIN_TOKEN", env.GATE_ADMIN_TOKEN, false),
  };
  const gate = GATE.read(problems, "GATE", gateValue(problems, env.GATE));
  const rateLimits = limitersOf(problems, gate.rate_limits, storeKind, env);
  const oidc = providersOf(problems, gate.oidc, env);
  const config: Config = {
    origin,
    secrets,
    loginPath: gate.login_path ?? "/login",
    publicOrigin: gate.public_origin,
    trustedOrigins: gate.trusted_origins,
    ipv6LimitPrefix: gate.ipv6_limit_prefix,
    issuer: gate.issuer,
    errorPage: gate.error_page,
    loginProvider: loginProviderOf(problems, gate.login_provider, oidc),
    cookie: { name: gate.cookie.name, sameSite: gate.cookie.same_site },
    session: sessionOf(problems, gate.session),
    assertion: assertionOf(problems, gate.assertion),
    websocket: { recheck: gate.websocket.recheck, maxRechecks: gate.websocket.max_rechecks },
    rateLimits,
    routes: routesOf(problems, gate.routes, rateLimits),
    headers: gate.security_headers,
    oidc,
    store: readStore(problems, env, storeKind),
  };
  return problems.list.length === 0 ? { ok: true, config } : { ok: false, problems: problems.list };
}

/** `GATE` as wrangler gives it: a table, or its JSON text (a variable set in the dashboard is text). */
function gateValue(problems: Problems, value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    problems.add("GATE", "expected a table ([vars.GATE] in wrangler.toml) or its JSON text, got text that is not JSON");
    return undefined;
  }
}

function readOrigin(problems: Problems, env: Env): Config["origin"] {
  if (env.ORIGIN && typeof (env.ORIGIN as Fetcher).fetch === "function") return { binding: env.ORIGIN };
  const url = parseHttpUrl(env.ORIGIN_URL);
  if (!url || url.search || url.hash) {
    problems.add("ORIGIN_URL", `expected an http(s) URL without query or fragment (or a service binding named ORIGIN), got ${show(env.ORIGIN_URL)}`);
  }
  return { url };
}

/** `SESSION_STORE` and what reaches it: the KV binding, the Durable Object namespace, or the Upstash URL and token. */
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

const isKv = (value: unknown): value is KVNamespace => isTable(value) && typeof value.get === "function" && typeof value.put === "function";
const isObjectNamespace = (value: unknown) => isTable(value) && typeof value.idFromName === "function" && typeof value.get === "function";

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
