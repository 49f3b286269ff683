import type { Env } from "./env";
import type { Problems } from "./problems";
import type { GateTable } from "./schema/gate";
import type { Config, Limiter, OidcProvider, Route, StoreConfig } from "./types";

/**
 * Turns what the schema read (src/config/schema/gate.ts) into the typed
 * {@link Config}, with the checks that need more than one value: relations
 * between durations, references between tables, and what the store mode
 * demands of limiters.
 */

/** Workers Rate Limiting bindings count over 10 or 60 seconds, nothing else. */
const BINDING_PERIODS = [10_000, 60_000];
/** A duration in its largest whole unit, as a user would write it (600000 ms is "10m"). */
const formatDuration = (ms: number) => {
  const [unit, size] = (
    [
      ["d", 86_400_000],
      ["h", 3_600_000],
      ["m", 60_000],
    ] as const
  ).find(([, size]) => ms % size === 0) ?? ["s", 1_000];
  return `${ms / size}${unit}`;
};

/** `GATE.session`, with its relations checked. */
export function sessionOf(problems: Problems, raw: GateTable["session"]): Config["session"] {
  if (raw.idle_timeout > raw.absolute_timeout) problems.add("GATE.session.idle_timeout", "must not be longer than GATE.session.absolute_timeout");
  if (raw.rotation_grace >= raw.rotate_every) problems.add("GATE.session.rotation_grace", "must be shorter than GATE.session.rotate_every");
  return {
    idleTimeout: raw.idle_timeout,
    absoluteTimeout: raw.absolute_timeout,
    rotateEvery: raw.rotate_every,
    rotationGrace: raw.rotation_grace,
    binding: raw.binding,
    maxPerUser: raw.max_per_user,
    deviceBound: raw.device_bound,
    deviceCookieTtl: raw.device_cookie_ttl,
  };
}

/** `GATE.assertion`, with the publication lead shorter than the rotation period. */
export function assertionOf(problems: Problems, raw: GateTable["assertion"]): Config["assertion"] {
  if (raw.publish_ahead >= raw.rotate_every) problems.add("GATE.assertion.publish_ahead", "must be shorter than GATE.assertion.rotate_every");
  return { rotateEvery: raw.rotate_every, publishAhead: raw.publish_ahead, retain: raw.retain };
}

/** `GATE.rate_limits`; in kv mode each needs its binding `RATE_LIMIT_<NAME>`, over 10 s or 60 s. */
export function limitersOf(problems: Problems, raw: GateTable["rate_limits"], store: StoreConfig["kind"], env: Env): Map<string, Limiter> {
  const limiters = new Map<string, Limiter>();
  for (const [name, entry] of raw) {
    const key = `GATE.rate_limits.${name}`;
    const bindingName = `RATE_LIMIT_${name.toUpperCase()}`;
    const binding = env[bindingName] as RateLimit | undefined;
    if (store === "kv") {
      if (!BINDING_PERIODS.includes(entry.period))
        problems.add(`${key}.period`, `expected "10s" or "1m" in kv mode (Workers Rate Limiting periods), got "${formatDuration(entry.period)}"`);
      if (typeof binding?.limit !== "function")
        problems.add(key, `expected a rate limiting binding named ${bindingName} in wrangler.toml ([[ratelimits]]) in kv mode`);
    }
    limiters.set(name, {
      name,
      limit: entry.limit,
      period: entry.period,
      key: entry.key,
      onFailure: entry.on_failure,
      binding: store === "kv" ? binding : undefined,
    });
  }
  return limiters;
}

/** `GATE.routes`, compiled, with their methods, roles and limiter names checked. */
export function routesOf(problems: Problems, raw: GateTable["routes"], limiters: ReadonlyMap<string, Limiter>): Route[] {
  const routes: Route[] = [];
  raw.forEach((entry, index) => {
    if (entry.rate_limit !== undefined && !limiters.has(entry.rate_limit)) {
      problems.add(`GATE.routes[${index}].rate_limit`, `expected the name of a limiter in GATE.rate_limits, got ${JSON.stringify(entry.rate_limit)}`);
    }
    if (!entry.path) return;
    const { written, pattern } = entry.path;
    const { methods, access, roles, fresh, csrf, audience } = entry;
    routes.push({
      path: written,
      pattern,
      methods: methods && new Set(methods),
      access,
      roles,
      fresh,
      rateLimit: entry.rate_limit,
      csrf,
      audience,
      deviceBound: entry.device_bound,
    });
  });
  return routes;
}

/** `GATE.oidc`, each provider with its client secret; `openid` is a scope every provider needs. */
export function providersOf(problems: Problems, raw: GateTable["oidc"], env: Env): Map<string, OidcProvider> {
  const providers = new Map<string, OidcProvider>();
  for (const [name, entry] of raw) {
    const key = `GATE.oidc.${name}`;
    const scopes = entry.scopes ?? [];
    if (!scopes.includes("openid")) problems.add(`${key}.scopes`, `must contain "openid", got ${JSON.stringify(scopes)}`);
    const secret = env[`GATE_OIDC_${name.toUpperCase()}_CLIENT_SECRET`];
    if (secret !== undefined && (typeof secret !== "string" || secret === ""))
      problems.add(`GATE_OIDC_${name.toUpperCase()}_CLIENT_SECRET`, "expected the client secret as text");
    if (!entry.issuer || !entry.client_id) continue;
    providers.set(name, {
      name,
      issuer: entry.issuer,
      clientId: entry.client_id,
      clientSecret: typeof secret === "string" && secret !== "" ? secret : undefined,
      scopes,
      userClaim: entry.user_claim ?? "sub",
      // A sub (or a user name) is unique only at its provider (OpenID Connect Core §2): another provider's "42" is
      // someone else. A verified email means the same person wherever it comes from.
      subPrefix: entry.sub_prefix ?? ((entry.user_claim ?? "sub") === "email" ? "" : `${name}:`),
      rolesClaim: entry.roles_claim,
      allowedEmailDomains: (entry.allowed_email_domains ?? []).map((domain) => domain.toLowerCase()),
      allowedUsers: entry.allowed_users ?? [],
    });
  }
  return providers;
}

/** `GATE.login_provider` must name a provider of `GATE.oidc`. */
export function loginProviderOf(problems: Problems, name: string | undefined, providers: ReadonlyMap<string, OidcProvider>): string | undefined {
  if (name === undefined || providers.has(name)) return name;
  problems.add(
    "GATE.login_provider",
    `expected the name of a provider in GATE.oidc (${[...providers.keys()].join(", ") || "none defined"}), got ${JSON.stringify(name)}`,
  );
  return undefined;
}
