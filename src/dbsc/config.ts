/**
 * The session instructions the gate answers a registration with (draft
 * §"JSON Session Instruction Format", §"JSON Session Scope Instruction Format",
 * §"JSON Session Scope Rule Format", §"JSON Session Credentials Format"), and
 * the bound cookie's attributes, built in one place so the credential the
 * browser checks and the Set-Cookie the gate sends cannot drift apart.
 *
 * Scope: the gate's origin (`include_site: false`), and by default an empty
 * `scope_specification`, excluding nothing. Every path behind the gate needs
 * the bound cookie, /_gate/session, /_gate/logout and /_gate/sessions too, so
 * excluding /_gate/ would send those requests with an expired cookie instead
 * of refreshing first; the refresh URL itself is excluded by the draft
 * (§"Identify if a URL is in scope": "If URL matches session's refresh URL,
 * return exclude"). Paths that need no session can be excluded by option.
 */
import { DbscError } from "./errors";
import { SESSION_ID_PATTERN } from "./headers";

/** The cookie's SameSite, as `GATE.cookie.same_site` allows. */
export type SameSite = "Lax" | "Strict";

/** A rule of `scope_specification`. */
export interface ScopeRule {
  type: "include" | "exclude";
  domain: string;
  path: string;
}

/** The JSON session instructions, exactly the keys the gate sends. */
export interface SessionConfig {
  session_identifier: string;
  refresh_url: string;
  scope: { origin: string; include_site: boolean; scope_specification: ScopeRule[] };
  credentials: Array<{ type: "cookie"; name: string; attributes: string }>;
  allowed_refresh_initiators?: string[];
}

/** Options of {@link sessionConfig}. */
export interface SessionConfigOptions {
  /** The session's id (the gate's sid); what `Sec-Secure-Session-Id` will carry back. */
  sessionId: string;
  /** The gate's origin, serialised: "https://gate.example". */
  origin: string;
  /** The refresh endpoint's path, e.g. "/_gate/dbsc/refresh". */
  refreshPath: string;
  /** The bound cookie: its name and {@link cookieAttributes}. */
  cookie: { name: string; attributes: string };
  /** A site-wide session; default false (the draft allows true only when the origin's host is the registrable domain). */
  includeSite?: boolean;
  /** Path prefixes on the origin that need no session and so trigger no refresh; default none. */
  exclude?: readonly string[];
  /** Hosts outside the scope allowed to trigger refreshes (draft §"Identify if a request is allowed to refresh"); default none. */
  allowedRefreshInitiators?: readonly string[];
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/; // RFC 6265 §4.1.1 cookie-name (a token)
const PATH = /^\/(?!\/)[\x21-\x7e]*$/; // absolute path, not protocol-relative, no spaces or controls
// Chrome 156 refuses a registration whose attributes name Max-Age or Expires; the draft refuses Partitioned.
const UNPERMITTED = /(^|;)\s*(max-age|expires|partitioned)\s*(=|;|$)/i;

const invalid = (what: string): never => {
  throw new DbscError("invalid_option", what);
};

/**
 * The bound cookie's attributes as the credential names them: exactly what the
 * gate's Set-Cookie carries, minus Max-Age. `Path=/; Secure; HttpOnly; SameSite=Lax`.
 */
export function cookieAttributes(sameSite: SameSite): string {
  if (sameSite !== "Lax" && sameSite !== "Strict") invalid(`SameSite ${JSON.stringify(sameSite)}`);
  return `Path=/; Secure; HttpOnly; SameSite=${sameSite}`;
}

/**
 * The Set-Cookie value of a bound cookie: {@link cookieAttributes} plus
 * `Max-Age` (the bound-cookie lifetime, `device_cookie_ttl`, in seconds).
 */
export function boundCookie(cookie: { name: string; sameSite: SameSite }, value: string, maxAgeSeconds: number): string {
  if (!COOKIE_NAME.test(cookie.name)) invalid(`cookie name ${JSON.stringify(cookie.name)}`);
  if (!/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/.test(value)) invalid("cookie value"); // RFC 6265 §4.1.1 cookie-octet
  return `${cookie.name}=${value}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; ${cookieAttributes(cookie.sameSite)}`;
}

/** `text` as a URL, or `undefined`. */
function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The serialised origin, checked: https (or loopback http for development), nothing after the port. */
function checkedOrigin(origin: string): URL {
  const url = parseUrl(origin);
  const loopback = url?.hostname === "localhost" || url?.hostname === "127.0.0.1" || url?.hostname === "[::1]";
  if (!url || url.origin !== origin || (url.protocol !== "https:" && !loopback)) return invalid(`origin ${JSON.stringify(origin)}`);
  return url;
}

/** Checks the options that name things: the id, the cookie, the paths. */
function checkNames(options: SessionConfigOptions): void {
  if (!SESSION_ID_PATTERN.test(options.sessionId)) invalid("sessionId");
  if (!COOKIE_NAME.test(options.cookie.name)) invalid(`cookie name ${JSON.stringify(options.cookie.name)}`);
  if (UNPERMITTED.test(options.cookie.attributes)) invalid("cookie attributes name Max-Age, Expires or Partitioned");
  if (!PATH.test(options.refreshPath)) invalid(`refreshPath ${JSON.stringify(options.refreshPath)}`);
  for (const path of options.exclude ?? []) if (!PATH.test(path)) invalid(`exclude ${JSON.stringify(path)}`);
}

/**
 * The registration response body: session id, refresh URL (relative to the
 * origin), scope, and the one credential, the session cookie with the
 * attributes it is set with. Throws a {@link DbscError} on options the
 * browser would refuse, so a misconfiguration fails in tests, not in Chrome.
 */
export function sessionConfig(options: SessionConfigOptions): SessionConfig {
  const origin = checkedOrigin(options.origin);
  checkNames(options);
  // Chrome (origin-scoped sessions) takes a rule only when its domain is exactly the origin's host.
  const rules: ScopeRule[] = (options.exclude ?? []).map((path) => ({ type: "exclude", domain: origin.hostname, path }));
  const config: SessionConfig = {
    session_identifier: options.sessionId,
    refresh_url: options.refreshPath,
    scope: { origin: origin.origin, include_site: options.includeSite ?? false, scope_specification: rules },
    credentials: [{ type: "cookie", name: options.cookie.name, attributes: options.cookie.attributes }],
  };
  const initiators = options.allowedRefreshInitiators ?? [];
  if (initiators.length > 0) config.allowed_refresh_initiators = [...initiators];
  return config;
}
