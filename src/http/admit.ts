import type { Context, MiddlewareHandler } from "hono";
import type { Limiter } from "../config/types";
import { type Logger, outageFields } from "../log";
import type { LimiterBackend } from "../ratelimit/types";
import type { Authentication, Credential, SessionManager } from "../session/manager";
import { type CookieOptions, clearedCookie, sessionCookie } from "../session/cookie";
import { hashToken, isTokenShaped } from "../session/token";
import { StoreUnavailableError } from "../store/types";
import { type GateEnv, waitUntil } from "./context";
import { presentedCredential } from "./credential";
import { createLimitCheck } from "./limit";

/** Options of {@link admit}. */
export interface AdmitOptions {
  sessions: SessionManager;
  cookie: CookieOptions;
  /** The configured limiters by name (`GATE.rate_limits`). */
  limiters: ReadonlyMap<string, Limiter>;
  /** The backend that counts for them. */
  limiterBackend: LimiterBackend;
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
 * 3. refusals already known, from memory, before any round trip;
 * 4. the look-up and the early limiters, issued in the same tick;
 * 5. the session- and user-keyed limiters;
 * 6. a refused token: logged, its cookie cleared, counted by `failed_auth`.
 *
 * A store outage is remembered, not thrown: session routes answer 503
 * (src/http/context.ts `requireSession`), public routes still work.
 */
export function admit(options: AdmitOptions): MiddlewareHandler<GateEnv> {
  const { sessions, cookie, limiters, log, now } = options;
  const failedAuth = limiters.get("failed_auth");
  const limit = createLimitCheck(options.limiterBackend, log);

  /** Phase 2: the default limiter and the route's own; with a credential, the session-keyed ones wait for the session. */
  function plan(c: Context<GateEnv>, credential: Credential | undefined): LimiterPlan {
    const route = c.get("route");
    const applicable = [limiters.get("default"), route.rateLimit ? limiters.get(route.rateLimit) : undefined].filter((l) => l !== undefined);
    const early = applicable.filter((limiter) => limiter.key === "ip" || !credential);
    return { early, late: applicable.filter((limiter) => !early.includes(limiter)) };
  }

  /** Phase 3: refusals the backend already knows, so a blocked client costs no round trip. */
  function refuseKnown(c: Context<GateEnv>, { early }: LimiterPlan, credential: Credential | undefined): void {
    for (const limiter of early) limit.refuseIfKnown(c, limiter, ipKey(c));
    if (credential && failedAuth) limit.refuseIfKnown(c, failedAuth, ipKey(c));
  }

  /**
   * Phase 4: one round trip. The look-up and the limiters are issued in the
   * same tick and pipelined together; both are awaited even when a limiter
   * refuses, so a rotation the look-up made still reaches the client.
   */
  async function lookUpAndLimit(c: Context<GateEnv>, { early }: LimiterPlan, presented: Credential | "duplicate" | undefined) {
    const [limited, checked] = await Promise.allSettled([
      Promise.all(early.map((limiter) => limit.check(c, limiter, ipKey(c)))),
      presented === "duplicate" ? ({ status: "invalid", reason: "duplicate_cookie" } as const) : presented && authenticate(c, presented),
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
      await limit.check(c, limiter, !session ? ipKey(c) : limiter.key === "session" ? `sid:${session.sid}` : `user:${session.sub}`);
    }
  }

  /** Phase 6: a refused token is logged, its cookie cleared (a bearer has none), and counted by `failed_auth`. */
  async function recordRefusal(c: Context<GateEnv>, auth: Authentication | undefined, credential: Credential | undefined) {
    if (auth?.status !== "invalid") return;
    log("auth.denied", { reason: auth.reason, via: credential?.via ?? "cookie", ip: c.get("clientIp"), request_id: c.get("requestId") });
    if (credential?.via !== "bearer") c.set("sessionCookie", clearedCookie(cookie));
    if (failedAuth) await limit.check(c, failedAuth, ipKey(c));
  }

  /** The session check, with the token hashed first so the look-up leaves at once; an outage is remembered. */
  async function authenticate(c: Context<GateEnv>, credential: Credential): Promise<Authentication | undefined> {
    try {
      const client = { ip: c.get("clientIp"), userAgent: c.req.header("user-agent") ?? "" };
      const auth = await sessions.authenticate(credential, client, (work) => waitUntil(c, work));
      if (auth.status === "valid" && auth.setToken) c.set("sessionCookie", sessionCookie(cookie, auth.setToken, (auth.session.expiresAt - now()) / 1_000));
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
    const credential = typeof presented === "object" ? presented : undefined;
    const limiterPlan = plan(c, credential);
    refuseKnown(c, limiterPlan, credential);
    if (credential && isTokenShaped(credential.token)) credential.tokenHash = await hashToken(credential.token);
    const auth = await lookUpAndLimit(c, limiterPlan, presented);
    await limitBySession(c, limiterPlan, auth);
    await recordRefusal(c, auth, credential);
    await next();
  };
}

/** The limiter key of the request's client address. */
const ipKey = (c: Context<GateEnv>) => `ip:${c.get("clientIp")}`;
