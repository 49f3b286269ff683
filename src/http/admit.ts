import type { Context, MiddlewareHandler } from "hono";
import type { GateEnv } from "./context";
import type { Limiter } from "../config/types";
import type { Logger } from "../log";
import type { SessionManager, Via } from "../session/manager";
import type { LimiterBackend, LimitVerdict } from "../ratelimit/types";
import { type CookieOptions, clearedCookie, readSessionCookie, sessionCookie } from "../session/cookie";
import { bearerToken, hashToken, isTokenShaped } from "../session/token";
import { StoreUnavailableError } from "../store/types";
import { GateError } from "../errors";

/** Options of {@link admit}. */
export interface AdmitOptions {
  sessions: SessionManager;
  cookie: CookieOptions;
  limiters: ReadonlyMap<string, Limiter>;
  limits: LimiterBackend;
  log: Logger;
  now: () => number;
}

type Credential = { token: string; via: Via; tokenHash?: string };

/**
 * The credential a request presents: a gate bearer token wins over the cookie
 * (API clients). A bearer that is not token-shaped (the origin's own JWT, say)
 * is not the gate's: it passes to the origin untouched and the cookie still counts.
 */
function credentialOf(c: Context<GateEnv>, cookieName: string): Credential | "duplicate" | undefined {
  if (/^\/_gate\/admin(\/|$)/.test(c.get("path"))) return undefined; // the admin API's bearer is not a session token
  const bearer = bearerToken(c.req.header("authorization"));
  if (bearer) return { token: bearer, via: "bearer" };
  const cookie = readSessionCookie(c.req.header("cookie") ?? null, cookieName);
  if (cookie.kind === "duplicate") return "duplicate";
  return cookie.kind === "one" ? { token: cookie.value, via: "cookie" } : undefined;
}

/** The 429 for a refused verdict, with Retry-After and the RateLimit-* fields (seconds). */
function rateLimited(verdict: LimitVerdict): GateError {
  const seconds = String(Math.max(1, Math.ceil(verdict.resetIn / 1_000)));
  return new GateError("rate_limited", {
    "Retry-After": seconds,
    "RateLimit-Limit": String(verdict.limit),
    "RateLimit-Remaining": String(Math.max(0, verdict.remaining)),
    "RateLimit-Reset": seconds,
  });
}

/**
 * Admission: rate limits and the session check, together, because together
 * they cost one store round trip. IP-keyed limiters (and any limiter, for a
 * request without a session) are checked in the same tick as the token look-up;
 * session- and user-keyed limiters need the session, so they follow it.
 * A key the limiter already knows is blocked is refused before any round trip.
 * `failed_auth` counts refused tokens. A refused cookie is cleared; a store
 * outage is remembered so session routes answer 503 and public routes still work.
 */
export function admit(options: AdmitOptions): MiddlewareHandler<GateEnv> {
  const { sessions, cookie, limiters, limits, log, now } = options;
  const failedAuth = limiters.get("failed_auth");

  async function check(c: Context<GateEnv>, limiter: Limiter, key: string): Promise<void> {
    let verdict: LimitVerdict;
    try {
      verdict = await limits.limit(limiter, key);
    } catch (error) {
      log("ratelimit.error", { limiter: limiter.name, on_failure: limiter.onFailure, error: String(error), request_id: c.get("requestId") });
      if (limiter.onFailure === "open") return;
      verdict = { success: false, limit: limiter.limit, remaining: 0, resetIn: limiter.period };
    }
    if (!verdict.success) refuse(c, limiter, key, verdict);
  }

  function refuse(c: Context<GateEnv>, limiter: Limiter, key: string, verdict: LimitVerdict): never {
    log("ratelimit.blocked", { limiter: limiter.name, key: key.slice(0, key.indexOf(":")), ip: c.get("clientIp"), request_id: c.get("requestId") });
    throw rateLimited(verdict);
  }

  return async function admit(c, next) {
    const ipKey = `ip:${c.get("clientIp")}`;
    const route = c.get("route");
    const applicable = [limiters.get("default"), route.rateLimit ? limiters.get(route.rateLimit) : undefined].filter((l): l is Limiter => !!l);
    const credential = credentialOf(c, cookie.name);
    const presented = typeof credential === "object" ? credential : undefined;
    const early = applicable.filter((limiter) => limiter.key === "ip" || !presented);
    for (const limiter of early) {
      const known = limits.peek(limiter, ipKey);
      if (known) refuse(c, limiter, ipKey, known);
    }
    const knownFailing = presented && failedAuth ? limits.peek(failedAuth, ipKey) : undefined;
    if (knownFailing) refuse(c, failedAuth!, ipKey, knownFailing);
    if (presented && isTokenShaped(presented.token)) presented.tokenHash = await hashToken(presented.token);

    // One round trip: these calls are issued in the same tick and pipelined together.
    // Both are awaited even when a limiter refuses: a rotation the look-up made must reach the client.
    const [limited, checked] = await Promise.allSettled([
      Promise.all(early.map((limiter) => check(c, limiter, ipKey))),
      presented ? authenticate(c, presented) : Promise.resolve(credential === "duplicate" ? ({ status: "invalid", reason: "duplicate_cookie" } as const) : undefined),
    ]);
    if (checked.status === "rejected") throw checked.reason;
    const auth = checked.value;
    if (auth) c.set("auth", auth);
    if (limited.status === "rejected") throw limited.reason;

    const session = auth?.status === "valid" ? auth.session : undefined;
    for (const limiter of applicable.filter((l) => !early.includes(l))) {
      await check(c, limiter, !session ? ipKey : limiter.key === "session" ? `sid:${session.sid}` : `user:${session.sub}`);
    }
    if (auth?.status === "invalid") {
      log("auth.denied", { reason: auth.reason, via: presented?.via ?? "cookie", ip: c.get("clientIp"), request_id: c.get("requestId") });
      if (presented?.via !== "bearer") c.set("sessionCookie", clearedCookie(cookie));
      if (failedAuth) await check(c, failedAuth, ipKey);
    }
    await next();
  };

  async function authenticate(c: Context<GateEnv>, credential: Credential) {
    try {
      const background = (work: Promise<unknown>) => waitUntil(c, work);
      const client = { ip: c.get("clientIp"), userAgent: c.req.header("user-agent") ?? "" };
      const auth = await sessions.authenticate(credential, client, background);
      if (auth.status === "valid" && auth.setToken) {
        c.set("sessionCookie", sessionCookie(cookie, auth.setToken, (auth.session.expiresAt - now()) / 1_000));
      }
      return auth;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      log("store.error", { operation: "lookup", error: error.message, request_id: c.get("requestId") });
      c.set("storeDown", true);
      return undefined;
    }
  }
}

/** Lets work finish after the response when the runtime offers an execution context. */
export function waitUntil(c: { executionCtx: ExecutionContext }, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (a bare app.request() in a unit test): the promise still runs.
  }
}
