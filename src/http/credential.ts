import type { Context } from "hono";
import { ADMIN_PREFIX, isUnder } from "../endpoints/paths";
import { readSessionCookie } from "../session/cookie";
import type { Credential } from "../session/manager";
import { bearerToken } from "../session/token";
import type { GateEnv } from "./context";

/**
 * The credential a request presents: a gate bearer token wins over the cookie
 * (API clients). A bearer that is not token-shaped (the origin's own JWT, say)
 * is not the gate's: it passes to the origin untouched and the cookie still
 * counts. The admin API's bearer is the admin token, never a session token.
 * `"duplicate"`: the session cookie came more than once, which authenticates nobody.
 */
export function presentedCredential(c: Context<GateEnv>, cookieName: string): Credential | "duplicate" | undefined {
  if (isUnder(c.get("path"), ADMIN_PREFIX)) return undefined;
  const bearer = bearerToken(c.req.header("authorization"));
  if (bearer) return { token: bearer, via: "bearer" };
  const cookie = readSessionCookie(c.req.header("cookie") ?? null, cookieName);
  if (cookie.kind === "duplicate") return "duplicate";
  return cookie.kind === "one" ? { token: cookie.value, via: "cookie" } : undefined;
}
