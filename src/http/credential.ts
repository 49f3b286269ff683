import type { Context } from "hono";
import { ADMIN_PREFIX, GATE_PREFIX, isUnder } from "../endpoints/paths";
import { readSessionCookie } from "../session/cookie";
import type { RefusalReason } from "../session/decide";
import type { Credential, Via } from "../session/manager";
import { readAuthorization } from "../session/token";
import type { GateEnv } from "./context";

/** A credential the request presents in a form that authenticates nobody, and where it came from. */
export interface Unusable {
  refused: Extract<RefusalReason, "duplicate_cookie" | "ambiguous_authorization">;
  via: Via;
}

/**
 * The credential a request presents: a gate bearer token wins over the cookie
 * (API clients). A bearer that is not token-shaped (the origin's own JWT, say)
 * is not the gate's: it passes to the origin untouched and the cookie still
 * counts. The admin API's bearer is the admin token, never a session token,
 * and so is the health probe's (which needs no session: no look-up for it).
 * A session cookie sent twice, or a gate token among other credentials in
 * `Authorization`, authenticates nobody (an attacker who can add one must not
 * shadow or smuggle the other).
 */
export function presentedCredential(c: Context<GateEnv>, cookieName: string): Credential | Unusable | undefined {
  if (isUnder(c.get("path"), ADMIN_PREFIX) || c.get("path") === `${GATE_PREFIX}/health`) return undefined;
  const authorization = readAuthorization(c.req.header("authorization"));
  if (authorization.ambiguous) return { refused: "ambiguous_authorization", via: "bearer" };
  if (authorization.token) return { token: authorization.token, via: "bearer" };
  const cookie = readSessionCookie(c.req.header("cookie") ?? null, cookieName);
  if (cookie.kind === "duplicate") return { refused: "duplicate_cookie", via: "cookie" };
  return cookie.kind === "one" ? { token: cookie.value, via: "cookie" } : undefined;
}
