import type { MiddlewareHandler } from "hono";
import type { HeaderRule } from "../config/types";
import type { GateEnv } from "./context";
import { isGateHeader } from "../proxy/strip";

/** Options of {@link secureResponse}. */
export interface SecureResponseOptions {
  /** Lower-case header name → rule (src/config/headers.ts). */
  headers: ReadonlyMap<string, HeaderRule>;
}

/** Headers that advertise the software behind the gate (and its version). */
const DISCLOSING = ["server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version"];

/**
 * The outermost middleware: decorates every response, the gate's own errors
 * included, after everything else has run. It adds the security headers,
 * removes `x-gate-*` and `Server`/`X-Powered-By`, sets the session cookie the
 * pipeline decided on, and keeps authenticated responses out of shared caches.
 */
export function secureResponse(options: SecureResponseOptions): MiddlewareHandler<GateEnv> {
  const rules = [...options.headers.entries()];
  return async function secureResponse(c, next) {
    await next();
    const original = c.res;
    if (original.status === 101) return;
    const response = new Response(original.body, original);
    const headers = response.headers;
    for (const name of [...headers.keys()]) {
      if (isGateHeader(name) || DISCLOSING.includes(name.toLowerCase())) headers.delete(name);
    }
    for (const [name, rule] of rules) {
      // A blank value is no policy at all: it does not count as the origin's own.
      if (!rule.originWins || !headers.get(name)?.trim()) headers.set(name, rule.value);
    }
    // Every gate response names its request (contract §15), so a user can quote it and an operator find it.
    const id = c.get("requestId");
    if (id) headers.set("X-Request-Id", id);
    const cookie = c.get("sessionCookie");
    if (cookie) headers.append("Set-Cookie", cookie);
    const offer = c.get("deviceOffer");
    if (offer) headers.set("Secure-Session-Registration", offer);
    const authenticated = c.get("auth")?.status === "valid";
    if (authenticated || cookie) keepPrivate(headers, cookie !== undefined);
    // Hono's `c.res` setter copies the old response's headers onto the new one,
    // which would bring back what was removed above; clearing it first prevents that.
    c.res = undefined as unknown as Response;
    c.res = response;
  };
}

/**
 * A response to a session must not be stored by a shared cache (contract §5);
 * one that sets or clears the session cookie must not be stored at all, or the
 * back button could show a page of a session that has ended.
 */
function keepPrivate(headers: Headers, touchesCookie: boolean): void {
  const directives = cacheDirectives(headers.get("cache-control") ?? "");
  const noStore = directives.has("no-store");
  // `private="Set-Cookie"` (RFC 9111 §5.2.2.7) keeps only the named fields private:
  // a shared cache may still store the rest, so only the bare directive counts.
  const isPrivate = directives.has("private") && directives.get("private") === undefined;
  if (touchesCookie ? !noStore : !(noStore || isPrivate)) headers.set("Cache-Control", "private, no-store");
  const vary = headers.get("vary") ?? "";
  if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(vary)) headers.set("Vary", vary ? `${vary}, Cookie` : "Cookie");
}

/** Cache-Control directives by lower-case name, with their argument if any; commas inside quotes do not split. */
function cacheDirectives(value: string): Map<string, string | undefined> {
  const found = new Map<string, string | undefined>();
  for (const part of value.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name && !found.has(name)) found.set(name, eq < 0 ? undefined : part.slice(eq + 1).trim());
  }
  return found;
}
