import type { MiddlewareHandler } from "hono";
import type { DeviceBoundMode } from "../config/types";
import { GateError } from "../errors";
import { isNavigation, isPreflight } from "../http/client";
import { type GateEnv, requireSession } from "../http/context";
import type { Logger } from "../log";
import { oidcPath } from "../oidc/deps";

/** Options of {@link enforcePolicy}. */
export interface EnforcePolicyOptions {
  loginPath: string;
  /** `GATE.login_provider`: navigations go to that provider's login (`/_gate/oidc/<name>/login`) instead of `loginPath`. */
  loginProvider?: string;
  /** `session.device_bound`: with "require", routes with `device_bound = true` admit only device-bound sessions. */
  deviceBound?: DeviceBoundMode;
  now: () => number;
  log: Logger;
}

/**
 * Applies the matched route's policy (contract §1, §5, §14): `deny` answers 404,
 * `public` passes (with identity when a session is present), and so does a
 * CORS preflight on a `session` route (without identity); `session`
 * requires a valid session with one of the route's roles and, with `fresh`, a
 * recent enough login. Navigations are sent to the login page instead of
 * getting a 401; `next` carries the path back after login (with
 * `login_provider`, the provider's login, which asks for a fresh login on `reauth=1`).
 */
export function enforcePolicy(options: EnforcePolicyOptions): MiddlewareHandler<GateEnv> {
  const { now, log } = options;
  const loginPath = options.loginProvider ? oidcPath(options.loginProvider, "login") : options.loginPath;
  return async function enforcePolicy(c, next) {
    const route = c.get("route");
    if (route.access === "deny") throw new GateError("not_found");
    if (route.access === "public" || isPreflight(c.req.raw)) return next();
    const navigation = isNavigation(c.req.raw);
    const signedOut = c.get("auth")?.status !== "valid" && !c.get("storeOutage");
    if (signedOut && navigation) return c.redirect(loginUrl(loginPath, c.get("path"), c.req.url), 302);
    const { session } = requireSession(c);
    const fields = { route: route.path, path: c.get("path"), request_id: c.get("requestId"), sid: session.sid, sub: session.sub };
    if (route.roles && !route.roles.some((role) => session.roles.includes(role))) {
      log("auth.denied", { ...fields, reason: "missing_role" });
      throw new GateError("forbidden");
    }
    if (route.deviceBound && options.deviceBound === "require" && !session.device) {
      log("auth.denied", { ...fields, reason: "device_binding_required" });
      throw new GateError("device_binding_required");
    }
    if (route.fresh !== undefined && now() - session.authTime > route.fresh) {
      log("auth.denied", { ...fields, reason: "not_fresh" });
      if (navigation) return c.redirect(loginUrl(loginPath, c.get("path"), c.req.url, true), 302);
      throw new GateError("reauthentication_required");
    }
    return next();
  };
}

/** `login_path?next=<path and query>`, plus `reauth=1` when a fresher login is needed. */
export function loginUrl(loginPath: string, path: string, requestUrl: string, reauth = false): string {
  const next = path + new URL(requestUrl).search;
  return `${loginPath}?next=${encodeURIComponent(next)}${reauth ? "&reauth=1" : ""}`;
}
