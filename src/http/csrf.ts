import type { Context, MiddlewareHandler } from "hono";
import type { GateEnv } from "./context";
import type { Logger } from "../log";
import { GateError } from "../errors";
import { isWebSocketUpgrade } from "./client";

/**
 * Methods that need no same-origin proof. Contract §5 names POST, PUT, PATCH
 * and DELETE as the unsafe ones; workerd also delivers WebDAV and other
 * methods (PROPPATCH, MOVE, PURGE, …) that change state as much, so every
 * method but the safe ones (RFC 9110 §9.2.1) is checked. TRACE never gets here.
 */
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Options of {@link csrfVerdict}. */
export interface CsrfOptions {
  /** The gate's own origin, e.g. `https://app.example.com`. */
  origin: string;
  trustedOrigins: ReadonlySet<string>;
}

/**
 * Decides whether an unsafe request may pass, whatever its body type (Hono's
 * `csrf` only looks at form content types; a JSON or text/plain POST is as
 * dangerous, so the gate keeps its own). Fetch Metadata first:
 * `Sec-Fetch-Site` `same-origin` or `none` passes; `same-site` or
 * `cross-site` passes only with an `Origin` that is one of
 * `trusted_origins` (that is how browsers send a trusted origin's request).
 * Without Fetch Metadata, `Origin` must equal the gate's origin or a trusted
 * one, compared exactly as serialised (no suffix or case games). With
 * neither, only a request carrying no cookie at all passes: it cannot ride a
 * session. Returns the reason for a refusal, or `undefined` to let it through.
 */
export function csrfVerdict(request: Request, options: CsrfOptions): string | undefined {
  if (SAFE.has(request.method.toUpperCase())) return undefined;
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin" || site === "none") return undefined;
  if (site !== null) return options.trustedOrigins.has(request.headers.get("origin") ?? "") ? undefined : `sec-fetch-site:${site.slice(0, 32)}`;
  const origin = request.headers.get("origin");
  if (origin !== null) {
    return origin === options.origin || options.trustedOrigins.has(origin) ? undefined : "origin_mismatch";
  }
  return request.headers.has("cookie") ? "no_origin_with_cookie" : undefined;
}

/**
 * Cross-site WebSocket hijacking (contract §11, §15): a handshake is a GET, so
 * the CSRF rule above lets it through, yet a page of any site can open a
 * socket that carries the user's cookie. A handshake riding a cookie session
 * passes only with an `Origin` that is the gate's own or a trusted one; one
 * without `Origin` is refused like a foreign one. The caller applies it to
 * cookie sessions only (bearer clients are not browsers).
 */
export function hijackVerdict(request: Request, own: string, trustedOrigins: ReadonlySet<string>): string | undefined {
  if (!isWebSocketUpgrade(request)) return undefined;
  const origin = request.headers.get("origin");
  return origin === own || (origin !== null && trustedOrigins.has(origin)) ? undefined : `websocket_origin:${(origin ?? "absent").slice(0, 64)}`;
}

/**
 * Middleware enforcing {@link csrfVerdict} on requests not authenticated by a
 * bearer token; `applies` lets a route switch it off (`csrf = false`).
 */
export function csrfGuard(
  options: { trustedOrigins: ReadonlySet<string>; publicOrigin?: string },
  log: Logger,
  applies: (c: Context<GateEnv>) => boolean = () => true,
): MiddlewareHandler<GateEnv> {
  const { trustedOrigins, publicOrigin } = options;
  return async function csrfGuard(c, next) {
    const auth = c.get("auth");
    if (applies(c) && !(auth?.status === "valid" && auth.via === "bearer")) {
      const own = publicOrigin ?? new URL(c.req.url).origin;
      const reason =
        csrfVerdict(c.req.raw, { origin: own, trustedOrigins }) ??
        (auth?.status === "valid" ? hijackVerdict(c.req.raw, own, trustedOrigins) : undefined);
      if (reason) {
        log("csrf.blocked", { reason, path: c.get("path"), ip: c.get("clientIp"), request_id: c.get("requestId") });
        throw new GateError("csrf");
      }
    }
    await next();
  };
}
