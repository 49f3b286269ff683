import type { MiddlewareHandler } from "hono";
import type { Route } from "../config/types";
import type { GateEnv } from "./context";
import type { Logger } from "../log";
import { GateError } from "../errors";
import { type NormalizedPath, normalizePath } from "../policy/path";
import { DEFAULT_ROUTE, findRoute } from "../policy/match";
import { otherReadings } from "../policy/readings";
import { clientIp } from "./client";
import { inspectHeaders } from "./header-limits";

/** Methods no application needs and proxies should not pass (cross-site tracing). */
const REFUSED_METHODS = new Set(["TRACE", "TRACK", "CONNECT"]);
/** RFC 9110 §15.5.6: a 405 lists the methods the resource supports. */
const ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/** Each request's normalised path, computed once: Hono's router asks first, `prepare` next. */
const normalizedPaths = new WeakMap<Request, NormalizedPath>();

function normalizedPathOf(request: Request): NormalizedPath {
  let normalized = normalizedPaths.get(request);
  if (!normalized) {
    normalized = normalizePath(new URL(request.url).pathname);
    normalizedPaths.set(request, normalized);
  }
  return normalized;
}

/**
 * The first check of every request: refuses malformed or oversized headers
 * (400, 431; src/http/header-limits.ts), TRACE, TRACK and CONNECT (405),
 * normalises the path (400 for encoded separators, and for a path an origin
 * could read under another route: src/policy/readings.ts), finds the route,
 * and gives the request its id and client address.
 */
export function prepare(routes: readonly Route[], log: Logger): MiddlewareHandler<GateEnv> {
  return async function prepare(c, next) {
    c.set("requestId", crypto.randomUUID());
    c.set("clientIp", clientIp(c.req.raw));
    const refusal = inspectHeaders(c.req.raw.headers);
    if (refusal) {
      log("request.rejected", { reason: refusal.reason, header: refusal.header, request_id: c.get("requestId") });
      throw new GateError(refusal.code);
    }
    if (REFUSED_METHODS.has(c.req.method.toUpperCase())) {
      throw new GateError("method_not_allowed", { Allow: ALLOWED_METHODS });
    }
    const normalized = normalizedPathOf(c.req.raw);
    if (!normalized.ok) {
      log("request.rejected", { reason: normalized.reason, request_id: c.get("requestId") });
      throw new GateError("bad_request");
    }
    const route = findRoute(routes, c.req.method, normalized.match) ?? DEFAULT_ROUTE;
    // An origin that keeps `;parameters`, decodes `%3B` into one, or decodes `%25` once
    // more reads another path than the gate; when a reading falls under another route,
    // none can be trusted.
    const readings = otherReadings(normalized);
    if (readings.some((reading) => reading === undefined || (findRoute(routes, c.req.method, reading) ?? DEFAULT_ROUTE) !== route)) {
      log("request.rejected", { reason: "ambiguous_path", request_id: c.get("requestId") });
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
  const normalized = normalizedPathOf(request);
  return normalized.ok ? normalized.path : new URL(request.url).pathname;
}
