import type { Context } from "hono";
import type { GateEnv } from "../http/context";
import { type CookieOptions, clearedCookie, sessionCookie } from "./cookie";
import type { Identity, SessionManager } from "./manager";
import type { SessionRecord } from "../store/types";

/** Which sessions a logout ends: the request's own, or every session of its user. */
export type LogoutScope = "session" | "user";

/** Dependencies of {@link createTransitions}. */
export interface TransitionOptions {
  sessions: SessionManager;
  cookie: CookieOptions;
  now: () => number;
  /** What a response that creates a cookie session also carries (the DBSC registration offer). */
  offer?: (c: Context<GateEnv>, session: SessionRecord) => Promise<void>;
}

/**
 * Logging a request's user in and out, as `X-Gate-Login` and `X-Gate-Logout`
 * do (contract §3), written once for every way in: the origin's response
 * headers, the middleware's `login()`/`logout()`, an identity provider's callback.
 */
export function createTransitions(options: TransitionOptions) {
  const { sessions, cookie, now } = options;

  /** Ends the request's session, or all of its user's, and clears the cookie. Nothing happens without a session. */
  async function logout(c: Context<GateEnv>, scope: LogoutScope): Promise<void> {
    const auth = c.get("auth");
    // The store could not say whose session this is: clearing the cookie with a success would leave the
    // session valid for anyone holding a copy. The outage answers 503 instead, and the cookie stays.
    const outage = auth?.status !== "valid" ? c.get("storeOutage") : undefined;
    if (outage) throw outage;
    if (auth?.status !== "valid") return;
    // The current session is named too: on KV the user index may not list it yet.
    if (scope === "user") await sessions.revokeUser(auth.session.sub, "logout_user", auth.session);
    else await sessions.revoke(auth.session, "logout");
    c.set("sessionCookie", clearedCookie(cookie));
  }

  /**
   * Logs `identity` in: a new session with a new sid and token, always. The
   * session the request presented is ended first (`also` says how, when a
   * logout came with the login), so a session fixed by an attacker before
   * login, or a lower-privilege one, is never promoted.
   */
  async function login(c: Context<GateEnv>, identity: Identity, also?: LogoutScope): Promise<void> {
    const auth = c.get("auth");
    if (auth?.status === "valid") {
      if (also) await logout(c, also);
      else await sessions.revoke(auth.session, "login_replaced");
    }
    const client = { ip: c.get("clientIp"), userAgent: c.req.header("user-agent") ?? "" };
    const { token, session } = await sessions.login(identity, client);
    c.set("sessionCookie", sessionCookie(cookie, token, (session.expiresAt - now()) / 1_000));
    await options.offer?.(c, session);
  }

  return { login, logout };
}

/** Logging in and out on a request. */
export type Transitions = ReturnType<typeof createTransitions>;
