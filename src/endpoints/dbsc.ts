import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { Config } from "../config/types";
import {
  type Challenges,
  boundCookie,
  challengeHeader,
  cookieAttributes,
  readProofHeader,
  readSessionId,
  readSkipped,
  registrationHeader,
  sessionConfig,
  verifyRefresh,
  verifyRegistration,
} from "../dbsc";
import { GateError } from "../errors";
import type { GateEnv } from "../http/context";
import type { Logger } from "../log";
import { expiryOf } from "../session/decide";
import type { SessionManager } from "../session/manager";
import type { DeviceKey, SessionRecord } from "../store/types";

/** Where the browser registers and refreshes (contract §12). */
export const REGISTRATION_PATH = "/_gate/dbsc/registration";
export const REFRESH_PATH = "/_gate/dbsc/refresh";

/** Dependencies of the DBSC endpoints. */
export interface DbscOptions {
  config: Config;
  sessions: SessionManager;
  challenges: Challenges;
  now: () => number;
  log: Logger;
}

/**
 * W3C Device Bound Session Credentials, the server side (contract §12):
 * offering registration on a new cookie session, binding its key, and
 * renewing a bound session's short-lived cookie against a proof by that key.
 * The protocol pieces are src/dbsc/; statuses follow the draft: 403 asks the
 * browser to retry with the challenge, other 4xx end its session, 5xx keep it.
 */
export function dbsc(options: DbscOptions) {
  const { config, sessions, challenges, now, log } = options;
  const ttlSeconds = Math.floor(config.session.deviceCookieTtl / 1_000);
  const cookie = { name: config.cookie.name, sameSite: config.cookie.sameSite };

  /** The session configuration JSON, with the cookie it binds and the next refresh challenge. */
  async function boundAnswer(c: Context<GateEnv>, session: SessionRecord, token: string): Promise<Response> {
    const origin = config.publicOrigin ?? new URL(c.req.url).origin;
    const body = sessionConfig({
      sessionId: session.sid,
      origin,
      refreshPath: REFRESH_PATH,
      cookie: { name: cookie.name, attributes: cookieAttributes(cookie.sameSite) },
    });
    // Never past the session's own end: a cookie the gate would refuse is one the browser should not keep.
    c.set("sessionCookie", boundCookie(cookie, token, Math.min(ttlSeconds, Math.floor((session.expiresAt - now()) / 1_000))));
    c.header("Secure-Session-Challenge", challengeHeader(await challenges.issue(session.sid, session.gen, "refresh"), session.sid));
    c.header("Cache-Control", "no-store");
    return c.json(body);
  }

  /** A 403 with a fresh challenge: the browser signs it and tries again. */
  async function challenge(c: Context<GateEnv>, session: SessionRecord): Promise<Response> {
    c.header("Secure-Session-Challenge", challengeHeader(await challenges.issue(session.sid, session.gen, "refresh"), session.sid));
    c.header("Cache-Control", "no-store");
    return c.body(null, 403);
  }

  /** The bound session `sid` names, if it is still live. */
  async function live(sid: string): Promise<(SessionRecord & { device: DeviceKey }) | undefined> {
    const session = await sessions.get(sid);
    return session?.device && expiryOf(session, now()) === undefined ? { ...session, device: session.device } : undefined;
  }

  const app = new Hono<GateEnv>();
  // Only its own paths: a sub-app's "*" would cover every /_gate/ route mounted after it.
  app.use("/dbsc/*", async (_c, next) => {
    if (config.session.deviceBound === "off") throw new GateError("not_found");
    await next();
  });

  app.post("/dbsc/registration", async (c) => {
    const auth = c.get("auth");
    if (auth?.status !== "valid" || auth.via !== "cookie") throw c.get("storeOutage") ?? new GateError("unauthenticated");
    const { session } = auth;
    if (session.device) throw new GateError("bad_request");
    const proof = readProofHeader(c.req.header("secure-session-response"));
    const result = await verifyRegistration(proof, { expectChallenge: (jti) => challenges.verify(jti, session.sid, session.gen, "registration") });
    if (!result.ok) {
      log("session.device_proof_failed", {
        sid: session.sid,
        sub: session.sub,
        phase: "registration",
        reason: result.reason,
        request_id: c.get("requestId"),
      });
      throw new GateError("bad_request");
    }
    const bound = await sessions.device.bind(session, auth.token, result.key);
    if (!bound) throw new GateError("unauthenticated");
    return boundAnswer(c, bound.session, bound.token);
  });

  app.post("/dbsc/refresh", async (c) => {
    const sid = readSessionId(c.req.header("sec-secure-session-id"));
    if (!sid) throw new GateError("bad_request");
    const session = await live(sid);
    if (!session) throw new GateError("unauthenticated");
    const proof = readProofHeader(c.req.header("secure-session-response"));
    if (!proof) return challenge(c, session);
    let expired = false;
    const expectChallenge = async (jti: string) => {
      const checked = await challenges.check(jti, sid, session.gen, "refresh");
      expired = checked === "expired";
      return checked === "valid";
    };
    const result = await verifyRefresh(proof, session.device, { expectChallenge });
    if (!result.ok) {
      // The device's own proof over the last challenge it got, now stale (the bound cookie outlives a challenge): routine, not a failure.
      if (!expired)
        log("session.device_proof_failed", { sid, sub: session.sub, phase: "refresh", reason: result.reason, request_id: c.get("requestId") });
      return challenge(c, session);
    }
    const refreshed = await sessions.device.refresh(session);
    if (refreshed) return boundAnswer(c, refreshed.session, refreshed.token);
    // Another refresh of this generation won: a proof is accepted once, so sign a fresh challenge (a 401 would end the browser's session).
    const current = await live(sid);
    if (!current) throw new GateError("unauthenticated");
    return challenge(c, current);
  });

  return app;
}

/**
 * The registration offer a response that creates a cookie session carries
 * (`device_bound` "offer" or "require"): `Secure-Session-Registration` with
 * a challenge for this session's first generation.
 */
export function createDeviceOffer(config: Config, challenges: Challenges) {
  return async function offerDevice(c: Context<GateEnv>, session: SessionRecord): Promise<void> {
    if (config.session.deviceBound === "off" || !session.rotates) return;
    const challenge = await challenges.issue(session.sid, session.gen, "registration");
    c.set("deviceOffer", registrationHeader({ challenge, path: REGISTRATION_PATH }));
  };
}

/**
 * Logs `Secure-Session-Skipped`: a browser that could not refresh a bound
 * session (the gate unreachable, a 5xx, its quota) sends the request without
 * the bound cookie and says why. The request itself goes on as unauthenticated.
 */
export function logSkippedRefresh(log: Logger): MiddlewareHandler<GateEnv> {
  return async function logSkippedRefresh(c, next) {
    const skipped = readSkipped(c.req.header("secure-session-skipped"));
    // One line per admitted request (this runs after the rate limits), whatever the header lists.
    if (skipped.length > 0)
      log("session.device_skipped", {
        skipped: skipped.map(({ reason, sessionId }) => ({ reason, sid: sessionId })),
        path: c.get("path"),
        request_id: c.get("requestId"),
      });
    await next();
  };
}

/**
 * A rate-limited refresh answers 503 (with the same Retry-After and body)
 * instead of 429: the draft keeps a session on either, but Chrome ends the
 * browser's bound session on a 429, which would log the user out at the next
 * expiry of the short-lived cookie. A 5xx makes it retry later.
 */
export function refreshLimitKeepsSession(): MiddlewareHandler<GateEnv> {
  return async function refreshLimitKeepsSession(c, next) {
    await next();
    if (c.req.method !== "POST" || c.get("path") !== REFRESH_PATH || c.res.status !== 429) return;
    const limited = c.res;
    c.res = undefined as unknown as Response; // the setter would merge the old headers in again (see secure-response.ts)
    c.res = new Response(limited.body, { status: 503, headers: limited.headers });
  };
}
