import type { Route, RoutePolicy } from "../config/types";

/** A path test for one route, given the path lower-cased (ASCII). */
type Matcher = (lowerPath: string) => boolean;

/**
 * Patterns of literal segments, optionally ending in `/*`: what almost every
 * route list is made of (`/login`, `/static/*`, `/*`). They are matched as
 * plain string comparisons; URLPattern's regular expression costs about a
 * microsecond a test, twice per route, on every request (docs/benchmarks.md,
 * "Scaling"). Anything else (`:name`, groups, modifiers) keeps URLPattern.
 */
const LITERAL = /^\/(?:[A-Za-z0-9._~-]+\/)*(?:[A-Za-z0-9._~-]+|\*)?$/;
const ASCII = /^[\x20-\x7e]*$/;
const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
const matchers = new WeakMap<Route, Matcher | null>();

/** The string matcher of a literal pattern, equal to URLPattern's `{ ignoreCase: true }` on ASCII paths (test/policy/match.test.ts). */
export function literalMatcher(written: string): Matcher | undefined {
  if (!LITERAL.test(written)) return undefined;
  const lower = asciiLower(written);
  if (!lower.endsWith("*")) return (path) => path === lower;
  const prefix = lower.slice(0, -1);
  return (path) => path.startsWith(prefix);
}

function matcherOf(route: Route): Matcher | null {
  let matcher = matchers.get(route);
  if (matcher === undefined) {
    matcher = literalMatcher(route.path) ?? null;
    matchers.set(route, matcher);
  }
  return matcher;
}

/**
 * The first route whose methods and pattern match (first match wins). Patterns
 * match case-insensitively, and `/x` and `/x/` are the same path: both
 * spellings are tried, so `/admin` meets `/admin/*` as `/admin/` does. A
 * route that lists GET also covers HEAD, which must follow GET's policy.
 */
export function findRoute(routes: readonly Route[], method: string, matchPath: string): Route | undefined {
  const bare = matchPath.length > 1 && matchPath.endsWith("/") ? matchPath.slice(0, -1) : matchPath;
  const spellings = bare === "/" ? [bare] : [bare, `${bare}/`];
  // The normalised path is ASCII (the URL parser percent-encodes the rest); anything else takes URLPattern.
  const lower = ASCII.test(bare) ? spellings.map(asciiLower) : undefined;
  return routes.find((route) => {
    if (!allows(route, method)) return false;
    const matcher = lower && matcherOf(route);
    return matcher ? lower.some(matcher) : spellings.some((pathname) => route.pattern.test({ pathname }));
  });
}

function allows(route: Route, method: string): boolean {
  if (!route.methods) return true;
  return route.methods.has(method) || (method === "HEAD" && route.methods.has("GET"));
}

/** What applies when no route matches: a session is required (contract §1). */
export const DEFAULT_ROUTE: RoutePolicy = { path: "(no route matched)", access: "session", csrf: true, deviceBound: false };
