import type { MiddlewareHandler } from "hono";
import type { Route } from "../config/types";
import type { GateEnv } from "./context";
import type { Logger } from "../log";
import { GateError } from "../errors";
import { normalizePath } from "../policy/path";
import { DEFAULT_ROUTE, findRoute } from "../policy/match";
import { clientIp } from "./client";

/** Methods no application needs and proxies should not pass (cross-site tracing). */
const REFUSED_METHODS = new Set(["TRACE", "TRACK", "CONNECT"]);

/**
 * The first check of every request: refuses TRACE, TRACK and CONNECT (405),
 * normalises the path (400 for encoded separators), finds the route, and
 * gives the request its id and client address.
 */
export function prepare(routes: readonly Route[], log: Logger): MiddlewareHandler<GateEnv> {
  return async function prepare(c, next) {
    c.set("requestId", crypto.randomUUID());
    c.set("clientIp", clientIp(c.req.raw));
    if (REFUSED_METHODS.has(c.req.method.toUpperCase())) {
      throw new GateError("method_not_allowed");
    }
    const normalized = normalizePath(new URL(c.req.url).pathname);
    if (!normalized.ok) {
      log("request.rejected", { reason: normalized.reason, request_id: c.get("requestId") });
      throw new GateError("bad_request");
    }
    const route = findRoute(routes, c.req.method, normalized.match) ?? DEFAULT_ROUTE;
    // An origin that keeps `;parameters` reads another path than one that cuts them;
    // when the two readings fall under different routes, neither can be trusted.
    if (normalized.match !== normalized.path && (findRoute(routes, c.req.method, normalized.path) ?? DEFAULT_ROUTE) !== route) {
      log("request.rejected", { reason: "ambiguous_path_parameters", request_id: c.get("requestId") });
      throw new GateError("bad_request");
    }
    c.set("path", normalized.path);
    c.set("matchPath", normalized.match);
    c.set("route", route);
    await next();
  };
}

/** Hono routes on the normalised path, so `//_gate/session` reaches the endpoint, not the origin. */
export function routingPath(request: Request): string {
  const pathname = new URL(request.url).pathname;
  const normalized = normalizePath(pathname);
  return normalized.ok ? normalized.path : pathname;
}
