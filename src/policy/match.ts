import type { Route, RoutePolicy } from "../config/types";

/**
 * The first route whose methods and pattern match (first match wins). Patterns
 * match case-insensitively, and `/x` and `/x/` are the same path: both
 * spellings are tried, so `/admin` meets `/admin/*` as `/admin/` does. A
 * route that lists GET also covers HEAD, which must follow GET's policy.
 */
export function findRoute(routes: readonly Route[], method: string, matchPath: string): Route | undefined {
  const bare = matchPath.length > 1 && matchPath.endsWith("/") ? matchPath.slice(0, -1) : matchPath;
  const spellings = bare === "/" ? [bare] : [bare, `${bare}/`];
  return routes.find(
    (route) =>
      allows(route, method) && spellings.some((pathname) => route.pattern.test({ pathname })),
  );
}

function allows(route: Route, method: string): boolean {
  if (!route.methods) return true;
  return route.methods.has(method) || (method === "HEAD" && route.methods.has("GET"));
}

/** What applies when no route matches: a session is required (contract §1). */
export const DEFAULT_ROUTE: RoutePolicy = { path: "(no route matched)", access: "session", csrf: true, deviceBound: false };
