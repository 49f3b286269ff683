import type { Context, MiddlewareHandler } from "hono";
import type { Route } from "../config/types";
import { GATE_PREFIX, isUnder } from "../endpoints/paths";
import { type ErrorCode, GateError } from "../errors";
import type { Logger } from "../log";
import { DEFAULT_ROUTE, findRoute } from "../policy/match";
import { type NormalizedPath, normalizePath } from "../policy/path";
import { otherReadings } from "../policy/readings";
import { networkKey } from "./address";
import { clientIp } from "./client";
import type { GateEnv } from "./context";
import { inspectHeaders } from "./header-limits";

/** Methods no application needs and proxies should not pass (cross-site tracing). */
const REFUSED_METHODS = new Set(["TRACE", "TRACK", "CONNECT"]);
/** RFC 9110 §15.5.6: a 405 lists the methods the resource supports. */
const ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
/**
 * The admin API's user paths carry a `sub`, which may hold `/` or `\`
 * (`team/alice`, `DOMAIN\bob`): there, and only there, `%2F` and `%5C` are
 * allowed. These paths are the gate's own and never forwarded, so no origin
 * can read them another way.
 */
const ADMIN_USER_PATH = /^\/_gate\/admin\/users\/[^/]+\/sessions\/?$/i;

/** Each request's normalised path, computed once: Hono's router asks first, `prepare` next. */
const normalizedPaths = new WeakMap<Request, NormalizedPath>();

function normalizedPathOf(request: Request): NormalizedPath {
  let normalized = normalizedPaths.get(request);
  if (!normalized) {
    const { pathname } = new URL(request.url);
    normalized = normalizePath(pathname, { encodedSeparators: ADMIN_USER_PATH.test(pathname) });
    normalizedPaths.set(request, normalized);
  }
  return normalized;
}

/** Options of {@link prepare}. */
export interface PrepareOptions {
  routes: readonly Route[];
  /** `GATE.public_origin`: a request for any other origin is misdirected. */
  publicOrigin?: string;
  ipv6LimitPrefix: number;
  log: Logger;
}

/**
 * The first check of every request: refuses malformed or oversized headers
 * (400, 431; src/http/header-limits.ts), a body framed twice (400), TRACE,
 * TRACK and CONNECT (405), a request for another host than the public origin
 * (421), normalises the path (400 for encoded separators, for escaped letters
 * that fold to ASCII, and for a path an origin could read under another route:
 * src/policy/readings.ts), finds the route, and gives the request its client
 * address and limiter key.
 */
export function prepare(options: PrepareOptions): MiddlewareHandler<GateEnv> {
  const { routes, publicOrigin, log } = options;

  function refuse(c: Context<GateEnv>, code: ErrorCode, reason: string, fields: Record<string, unknown> = {}): never {
    log("request.rejected", { reason, ...fields, request_id: c.get("requestId") });
    throw new GateError(code, code === "method_not_allowed" ? { Allow: ALLOWED_METHODS } : {});
  }

  /** Headers, framing, method and host: everything decided before the path. */
  function checkRequest(c: Context<GateEnv>): void {
    const refusal = inspectHeaders(c.req.raw.headers);
    if (refusal) refuse(c, refusal.code, refusal.reason, { header: refusal.header });
    // A body framed both ways is read one way by one hop and the other way by the next (request smuggling).
    if (c.req.raw.headers.has("transfer-encoding") && c.req.raw.headers.has("content-length")) refuse(c, "bad_request", "ambiguous_framing");
    if (REFUSED_METHODS.has(c.req.method.toUpperCase())) refuse(c, "method_not_allowed", "method");
    if (publicOrigin && new URL(c.req.url).origin !== publicOrigin) refuse(c, "misdirected_request", "misdirected", { host: c.req.header("host") });
  }

  /**
   * The route, and whether the path is the gate's own. An origin that keeps
   * `;parameters`, decodes `%3B` into one, decodes `%25` once more or trims
   * trailing dots reads another path than the gate: when any reading falls
   * under another route, none can be trusted (400); when any falls under
   * /_gate/, the path is the gate's and is never forwarded.
   */
  function routeOf(c: Context<GateEnv>, normalized: Extract<NormalizedPath, { ok: true }>): void {
    const route = findRoute(routes, c.req.method, normalized.match) ?? DEFAULT_ROUTE;
    const readings = otherReadings(normalized);
    const gatePath = [normalized.match, ...readings].some((reading) => reading !== undefined && isUnder(reading, GATE_PREFIX));
    if (!gatePath && readings.some((reading) => reading === undefined || (findRoute(routes, c.req.method, reading) ?? DEFAULT_ROUTE) !== route)) {
      refuse(c, "bad_request", "ambiguous_path");
    }
    c.set("route", route);
    c.set("gatePath", gatePath);
  }

  return async function prepare(c, next) {
    const ip = clientIp(c.req.raw);
    c.set("clientIp", ip);
    c.set("clientKey", `ip:${networkKey(ip, options.ipv6LimitPrefix)}`);
    checkRequest(c);
    const normalized = normalizedPathOf(c.req.raw);
    if (!normalized.ok) refuse(c, "bad_request", normalized.reason);
    c.set("path", normalized.path);
    c.set("matchPath", normalized.match);
    routeOf(c, normalized);
    await next();
  };
}

/** Hono routes on the normalised path, so `//_gate/session` reaches the endpoint, not the origin. */
export function routingPath(request: Request): string {
  const normalized = normalizedPathOf(request);
  return normalized.ok ? normalized.path : new URL(request.url).pathname;
}
