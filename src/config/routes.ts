import type { Access, Limiter, Route, RoutePolicy } from "./types";
import { type Problems, isTable, readBoolean, readChoice, readDuration, readStrings, readTable, show } from "./problems";

const ROUTE_KEYS = ["path", "methods", "access", "roles", "fresh", "rate_limit", "csrf", "audience"] as const;
const ACCESS: readonly Access[] = ["public", "session", "deny"];
const METHOD = /^[A-Z]+$/;

/**
 * Compiles `GATE.routes` into matchers, in order (first match wins). Patterns
 * are URLPattern pathnames matched case-insensitively; see `src/policy/` for how
 * a request path is normalised before it meets them.
 */
export function parseRoutes(problems: Problems, value: unknown, limiters: ReadonlyMap<string, Limiter>): Route[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add("GATE.routes", `expected a list of tables ([[vars.GATE.routes]]), got ${show(value)}`);
    return [];
  }
  const routes: Route[] = [];
  value.forEach((entry, index) => {
    const route = parseRoute(problems, `GATE.routes[${index}]`, entry, limiters);
    if (route) routes.push(route);
  });
  return routes;
}

function parseRoute(
  problems: Problems,
  key: string,
  value: unknown,
  limiters: ReadonlyMap<string, Limiter>,
): Route | undefined {
  if (!isTable(value)) {
    problems.add(key, `expected a table, got ${show(value)}`);
    return undefined;
  }
  const raw = readTable(problems, key, value, ROUTE_KEYS);
  const pattern = compilePattern(problems, `${key}.path`, raw.path);
  const methods = readStrings(problems, `${key}.methods`, raw.methods);
  if (methods?.length === 0) problems.add(`${key}.methods`, "is empty: the route could never match (leave it out to match every method)");
  for (const method of methods ?? []) {
    if (!METHOD.test(method)) problems.add(`${key}.methods`, `expected upper-case HTTP methods such as "GET", got ${show(method)}`);
  }
  const rateLimit = raw.rate_limit;
  if (rateLimit !== undefined && (typeof rateLimit !== "string" || !limiters.has(rateLimit))) {
    problems.add(`${key}.rate_limit`, `expected the name of a limiter in GATE.rate_limits, got ${show(rateLimit)}`);
  }
  const audience = raw.audience;
  if (audience !== undefined && (typeof audience !== "string" || audience.length === 0)) {
    problems.add(`${key}.audience`, `expected a non-empty string, got ${show(audience)}`);
  }
  const roles = readStrings(problems, `${key}.roles`, raw.roles);
  if (roles?.length === 0) problems.add(`${key}.roles`, "is empty: nobody could pass (leave it out to admit any session)");
  const route: RoutePolicy = {
    path: String(raw.path),
    methods: methods && new Set(methods),
    access: readChoice(problems, `${key}.access`, raw.access, ACCESS, "session"),
    roles,
    fresh: raw.fresh === undefined ? undefined : readDuration(problems, `${key}.fresh`, raw.fresh, "1m"),
    rateLimit: typeof rateLimit === "string" ? rateLimit : undefined,
    csrf: readBoolean(problems, `${key}.csrf`, raw.csrf, true),
    audience: typeof audience === "string" ? audience : undefined,
  };
  return pattern ? { ...route, pattern } : undefined;
}

function compilePattern(problems: Problems, key: string, path: unknown): URLPattern | undefined {
  if (typeof path !== "string" || !path.startsWith("/")) {
    problems.add(key, `expected a URLPattern pathname starting with "/" such as "/api/*", got ${show(path)}`);
    return undefined;
  }
  try {
    return new URLPattern({ pathname: path }, { ignoreCase: true });
  } catch {
    problems.add(key, `is not a valid URLPattern pathname: ${show(path)}`);
    return undefined;
  }
}
