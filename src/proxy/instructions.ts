import type { Context } from "hono";
import type { GateEnv } from "../http/context";
import type { ForwardOptions } from "./forward";
import { GateError } from "../errors";
import { clearedCookie, sessionCookie } from "../session/cookie";
import { verifyLogin } from "../session/login";
import { StoreUnavailableError } from "../store/types";
import { utf8 } from "../util/encoding";
import { STORE_RETRY_AFTER } from "../policy/enforce";

/**
 * Carries out the origin's `X-Gate-Logout` and `X-Gate-Login` (contract §3).
 * The headers themselves never reach the client: the outermost middleware
 * removes every `x-gate-*` response header.
 *
 * A valid login always creates a new session with a new sid and token and ends
 * the one the request presented, so a session fixed by an attacker before login,
 * or a lower-privilege one, is never promoted.
 */
export async function readOriginInstructions(c: Context<GateEnv>, response: Response, options: ForwardOptions): Promise<void> {
  const { config, sessions, log, now } = options;
  const login = response.headers.get("x-gate-login");
  const logout = response.headers.get("x-gate-logout")?.trim().toLowerCase();
  if (login === null && logout === undefined) return;
  const auth = c.get("auth");
  const current = auth?.status === "valid" ? auth.session : undefined;
  // Verified before anything ends: an invalid login is ignored as a whole and
  // must not cost the user the session they already have.
  const verified = login === null ? undefined : await verifyLogin(login, utf8(config.secrets.origin), now());
  if (verified && !verified.ok) log("login.invalid", { reason: verified.reason, request_id: c.get("requestId") });
  const loggingIn = verified?.ok === true;
  try {
    if (current && (logout === "user" || logout === "session" || loggingIn)) {
      // The current session is revoked by name too: on KV the user index may not list it yet.
      if (logout === "user") await Promise.all([sessions.revokeUser(current.sub, "logout_user"), sessions.revoke(current, "logout_user")]);
      else await sessions.revoke(current, loggingIn && logout === undefined ? "login_replaced" : "logout");
      c.set("sessionCookie", clearedCookie(config.cookie));
    } else if (logout !== undefined && logout !== "session" && logout !== "user") {
      log("login.invalid", { reason: "unknown_logout_value", request_id: c.get("requestId") });
    }
    if (!verified || !verified.ok) return;
    const client = { ip: c.get("clientIp"), userAgent: c.req.header("user-agent") ?? "" };
    const { token, session } = await sessions.login(verified.identity, client);
    c.set("sessionCookie", sessionCookie(config.cookie, token, (session.expiresAt - now()) / 1_000));
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    log("store.error", { operation: "origin_instruction", error: error.message, request_id: c.get("requestId") });
    throw new GateError("unavailable", { "Retry-After": STORE_RETRY_AFTER });
  }
}
