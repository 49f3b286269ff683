import type { MiddlewareHandler } from "hono";
import type { GateEnv } from "./context";
import type { Logger } from "../log";
import type { SessionManager, Via } from "../session/manager";
import { type CookieOptions, clearedCookie, readSessionCookie, sessionCookie } from "../session/cookie";
import { StoreUnavailableError } from "../store/types";

/** Options of {@link authenticate}. */
export interface AuthenticateOptions {
  sessions: SessionManager;
  cookie: CookieOptions;
  log: Logger;
  now: () => number;
}

/** The credential a request presents: a bearer token wins over the cookie (API clients). */
function credentialOf(request: Request, cookieName: string): { token: string; via: Via } | { duplicate: true } | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  if (bearer) return { token: bearer[1], via: "bearer" };
  const cookie = readSessionCookie(request.headers.get("cookie"), cookieName);
  if (cookie.kind === "duplicate") return { duplicate: true };
  return cookie.kind === "one" ? { token: cookie.value, via: "cookie" } : undefined;
}

/**
 * Checks the request's session token, once, before anything else looks at
 * it. A refused cookie is cleared; a store outage is remembered so that
 * session routes answer 503 while public routes still work, and no cookie is
 * cleared for it. Never throws for a bad credential: policy decides later.
 */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler<GateEnv> {
  const { sessions, cookie, log, now } = options;
  return async function authenticate(c, next) {
    const credential = credentialOf(c.req.raw, cookie.name);
    if (credential && "duplicate" in credential) {
      c.set("auth", { status: "invalid", reason: "duplicate_cookie" });
    } else if (credential) {
      try {
        const background = (work: Promise<unknown>) => waitUntil(c, work);
        const auth = await sessions.authenticate(credential.token, credential.via, { ip: c.get("clientIp"), userAgent: c.req.header("user-agent") ?? "" }, background);
        c.set("auth", auth);
        if (auth.status === "valid" && auth.setToken) c.set("sessionCookie", sessionCookie(cookie, auth.setToken, (auth.session.expiresAt - now()) / 1_000));
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        log("store.error", { operation: "lookup", error: error.message, request_id: c.get("requestId") });
        c.set("storeDown", true);
      }
    }
    const auth = c.get("auth");
    if (auth?.status === "invalid") {
      log("auth.denied", { reason: auth.reason, via: credential && "via" in credential ? credential.via : "cookie", ip: c.get("clientIp"), request_id: c.get("requestId") });
      if (!credential || !("via" in credential) || credential.via === "cookie") c.set("sessionCookie", clearedCookie(cookie));
    }
    await next();
  };
}

/** Lets work finish after the response when the runtime offers an execution context. */
export function waitUntil(c: { executionCtx: ExecutionContext }, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (a bare app.request() in a unit test): the promise still runs.
  }
}
