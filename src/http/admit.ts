import type { Context, MiddlewareHandler } from "hono";
import type { Limiter } from "../config/types";
import { type Logger, outageFields } from "../log";
import type { Authentication, Credential, SessionManager } from "../session/manager";
import { type CookieOptions, clearedCookie, sessionCookie } from "../session/cookie";
import { hashToken, isTokenShaped } from "../session/token";
import { StoreUnavailableError } from "../store/types";
import { isWebSocketUpgrade } from "./client";
import { type GateEnv, waitUntil } from "./context";
import { type Unusable, presentedCredential } from "./credential";
import type { FailedAuth } from "./failed-auth";
import type { LimitCheck } from "./limit";

/** Refusals of a device-bound session's cookie, which the browser's DBSC session manages: never cleared by the gate. */
const BOUND_REFUSALS: ReadonlySet<string> = new Set(["device_cookie_expired", "device_cookie_superseded"]);
/** Options of {@link admit}. */
export interface AdmitOptions {
  sessions: SessionManager;
  cookie: CookieOptions;
  /** The configured limiters by name (`GATE.rate_limits`). */
  limiters: ReadonlyMap<string, Limiter>;
  /** Checks a limiter for a key, over the configured backend. */
  limit: LimitCheck;
  failedAuth: FailedAuth;
  log: Logger;
  now: () => number;
}

/** Which limiters a request meets: those checked with the look-up, and those that need its session. */
interface LimiterPlan {
  early: Limiter[];
  late: Limiter[];
}

/**
 * Admission: rate limits and the session check, together, because together
 * they cost one store round trip. In phases:
 *
 * 1. what the request presents (a bearer token, the session cookie, or nothing);
 * 2. which limiters apply, split into those checked alongside the look-up and
 *    those keyed by the session (`session`, `user`), which must follow it;
 * 3. refusals already known, from memory, before any round trip (a blocked
 *    client; a token already refused, from an address over `failed_auth`);
 * 4. the look-up and the early limiters, issued in the same tick;
 * 5. the session- and user-keyed limiters;
 * 6. a refused token: logged, its cookie cleared, counted by `failed_auth`
 *    (past its limit, 429: a valid session from the same address still passes).
 *
 * A store outage is remembered, not thrown: session routes answer 503
 * (src/http/context.ts `requireSession`), public routes still work.
 */
export function admit(options: AdmitOptions): MiddlewareHandler<GateEnv> {
  const { sessions, cookie, limiters, limit, failedAuth, log, now } = options;

  /** Phase 2: the default limiter and the route's own; with a credential, the session-keyed ones wait for the session. */
  function plan(c: Context<GateEnv>, credential: Credential | undefined): LimiterPlan {
    const route = c.get("route");
    const applicable = [limiters.get("default"), route.rateLimit ? limiters.get(route.rateLimit) : undefined].filter((l) => l !== undefined);
    const early = applicable.filter((limiter) => limiter.key === "ip" || !credential);
    return { early, late: applicable.filter((limiter) => !early.includes(limiter)) };
  }

  /** Phase 3: refusals already known, so a blocked client costs no round trip (and no hashing). */
  function refuseKnown(c: Context<GateEnv>, { early }: LimiterPlan): void {
    for (const limiter of early) limit.refuseIfKnown(c, limiter, c.get("clientKey"));
  }

  /** Phase 3, for a token: hashed once, for the look-up; one already refused from an address over `failed_auth` is refused again at once. */
  async function hashAndRecheck(c: Context<GateEnv>, credential: Credential | undefined): Promise<void> {
    if (!credential || !isTokenShaped(credential.token)) return;
    credential.tokenHash = await hashToken(credential.token);
    failedAuth.refuseRepeat(c, credential.tokenHash);
  }

  /**
   * Phase 4: one round trip. The look-up and the limiters are issued in the
   * same tick and pipelined together; both are awaited even when a limiter
   * refuses, so a rotation the look-up made still reaches the client.
   */
  async function lookUpAndLimit(c: Context<GateEnv>, { early }: LimiterPlan, presented: Credential | Unusable | undefined) {
    const [limited, checked] = await Promise.allSettled([
      Promise.all(early.map((limiter) => limit.check(c, limiter, c.get("clientKey")))),
      presented && "refused" in presented ? ({ status: "invalid", reason: presented.refused } as const) : presented && authenticate(c, presented),
    ]);
    if (checked.status === "rejected") throw checked.reason;
    if (checked.value) c.set("auth", checked.value);
    if (limited.status === "rejected") throw limited.reason;
    return checked.value;
  }

  /** Phase 5: limiters keyed by the session or its user (by IP when there is no valid session). */
  async function limitBySession(c: Context<GateEnv>, { late }: LimiterPlan, auth: Authentication | undefined): Promise<void> {
    const session = auth?.status === "valid" ? auth.session : undefined;
    for (const limiter of late) {
      await limit.check(c, limiter, !session ? c.get("clientKey") : limiter.key === "session" ? `sid:${session.sid}` : `user:${session.sub}`);
    }
  }

  /** Phase 6: a refused token is logged, its cookie cleared (a bearer has none), and counted by `failed_auth`. */
  async function recordRefusal(c: Context<GateEnv>, auth: Authentication | undefined, presented: Credential | Unusable | undefined) {
    if (auth?.status !== "invalid") return;
    const via = presented?.via ?? "cookie";
    log("auth.denied", { reason: auth.reason, via, ip: c.get("clientIp"), request_id: c.get("requestId") });
    // Not for a device-bound session's refused token: the browser may hold its successor under the same name by now.
    if (via !== "bearer" && !BOUND_REFUSALS.has(auth.reason)) c.set("sessionCookie", clearedCookie(cookie));
    await failedAuth.record(c, presented && "tokenHash" in presented ? presented.tokenHash : undefined);
  }

  /** The session check, with the token hashed first so the look-up leaves at once; an outage is remembered. */
  async function authenticate(c: Context<GateEnv>, credential: Credential): Promise<Authentication | undefined> {
    try {
      const client = { ip: c.get("clientIp"), userAgent: c.req.header("user-agent") ?? "" };
      const auth = await sessions.authenticate(credential, client, (work) => waitUntil(c, work));
      if (auth.status === "valid" && auth.setToken)
        c.set("sessionCookie", sessionCookie(cookie, auth.setToken, (auth.session.expiresAt - now()) / 1_000));
      return auth;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      log("store.error", { ...outageFields(error), request_id: c.get("requestId") });
      c.set("storeOutage", error);
      return undefined;
    }
  }

  return async function admit(c, next) {
    const presented = presentedCredential(c, cookie.name);
    const credential = presented && "token" in presented ? presented : undefined;
    if (credential && isWebSocketUpgrade(c.req.raw)) credential.upgrade = true;
    const limiterPlan = plan(c, credential);
    refuseKnown(c, limiterPlan);
    await hashAndRecheck(c, credential);
    const auth = await lookUpAndLimit(c, limiterPlan, presented);
    await limitBySession(c, limiterPlan, auth);
    await recordRefusal(c, auth, presented);
    await next();
  };
}
