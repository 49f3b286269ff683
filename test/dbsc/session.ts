/**
 * DBSC session state on the client side: parsing and validating the JSON
 * session instructions ("JSON Session Instruction Format", "Create session"),
 * and the scope and credential checks of "Identify session needing refresh".
 */
import { type CookieJar, canSet, isSecureUrl, parseAttributes, sameBinding, wouldAttach } from "./cookies";

/** The session configuration JSON, as the server sends it (spec "JSON Session Instruction Format"). */
export interface SessionConfig {
  session_identifier?: string;
  refresh_url?: string;
  continue?: boolean;
  scope?: {
    origin?: string;
    include_site?: boolean;
    scope_specification?: Array<{ type: "include" | "exclude"; domain?: string; path?: string }>;
  };
  credentials?: Array<{ type: "cookie"; name: string; attributes?: string }>;
  allowed_refresh_initiators?: string[];
}

/** A scope rule ("scope specification"). */
export interface ScopeRule {
  type: "include" | "exclude";
  domain: string;
  path: string;
}

/** A bound cookie ("session credential"). */
export interface Credential {
  name: string;
  attributes: string;
}

/** A device bound session, as the client stores it ("Device bound session"). */
export interface DbscSession {
  id: string;
  refreshUrl: URL;
  /** Serialised scope origin. */
  origin: string;
  includeSite: boolean;
  rules: ScopeRule[];
  credentials: Credential[];
  allowedRefreshInitiators: string[];
  /** The URL whose response carried the instructions: defaults for credential attributes come from it. */
  configUrl: URL;
  cachedChallenge: string | null;
}

/** The result of "Create session": a session, or why the session is to be terminated (or not stored). */
export type CreateResult =
  | { ok: true; session: DbscSession; config: SessionConfig }
  | { ok: false; reason: string; terminate: boolean; config?: SessionConfig };

/**
 * An approximation of the registrable domain without a public suffix list:
 * the last two labels, or the host itself for IPs and single-label hosts.
 */
export function siteOf(url: URL): string {
  const h = url.hostname;
  if (/^[0-9.]+$/.test(h) || h.startsWith("[") || !h.includes(".")) return `${url.protocol}//${h}`;
  return `${url.protocol}//${h.split(".").slice(-2).join(".")}`;
}

/** Schemeful same-site, with {@link siteOf}'s approximation. */
export const sameSite = (a: URL, b: URL) => siteOf(a) === siteOf(b);

const fail = (reason: string, terminate = true, config?: SessionConfig): CreateResult => ({ ok: false, reason, terminate, config });

/**
 * "Create session" steps 2-22 minus storage: parses `body` as the instructions
 * served at `destination` for `sessionId` (null at registration), and validates them.
 * The .well-known check for site-scoped sessions registered by a subdomain is not done:
 * such a registration fails here with reason "well-known-unchecked". `chromeRules` adds
 * Chrome's refusal of Max-Age/Expires in credential attributes.
 */
export function createSession(body: string, destination: URL, sessionId: string | null, chromeRules = false): CreateResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return fail("invalid-json");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail("invalid-json");
  const config = json as SessionConfig;
  if (config.continue === false) return fail("continue-false", true, config);
  const id = config.session_identifier;
  if (typeof id !== "string" || !id) return fail("missing-session_identifier", true, config);
  const scope = config.scope;
  if (typeof scope !== "object" || scope === null || typeof scope.include_site !== "boolean") return fail("missing-scope", true, config);
  if (!Array.isArray(config.credentials)) return fail("missing-credentials", true, config);
  if (sessionId !== null && sessionId !== id) return fail("mismatched-session_identifier", true, config);

  let origin: URL;
  let refreshUrl: URL;
  try {
    origin = new URL(scope.origin ?? destination.origin);
    refreshUrl = config.refresh_url === undefined ? destination : new URL(config.refresh_url, destination);
  } catch {
    return fail("invalid-url", true, config);
  }
  if (origin.origin === "null") return fail("opaque-origin", true, config);
  if (!sameSite(origin, destination)) return fail("origin-not-same-site", true, config);
  if (!isSecureUrl(refreshUrl)) return fail("refresh_url-not-secure", true, config);
  if (!sameSite(refreshUrl, destination)) return fail("refresh_url-not-same-site", true, config);

  const credentials: Credential[] = [];
  for (const c of config.credentials) {
    if (c?.type !== "cookie") return fail("credential-type-not-cookie", true, config);
    if (typeof c.name !== "string" || !c.name) return fail("credential-without-name", true, config);
    const attributes = typeof c.attributes === "string" ? c.attributes : "";
    const parsed = parseAttributes(attributes, destination);
    if (parsed.partitioned) return fail("credential-partitioned", true, config);
    // Chrome 156 refuses Max-Age/Expires here (InvalidCredentialsCookieUnpermittedAttribute); the draft only ignores them.
    if (chromeRules && (parsed.maxAge !== undefined || /(^|;)\s*expires\s*=/i.test(attributes)))
      return fail("credential-unpermitted-attribute", true, config);
    credentials.push({ name: c.name, attributes });
  }
  if (scope.include_site) {
    if (origin.hostname !== siteOf(destination).split("//")[1]) return fail("include_site-origin-not-site", true, config);
    if (destination.hostname !== origin.hostname && sessionId === null) return fail("well-known-unchecked", true, config);
  }
  const rules: ScopeRule[] = [];
  for (const r of scope.scope_specification ?? []) {
    if (r?.type !== "include" && r?.type !== "exclude") return fail("invalid-scope-rule", true, config);
    rules.push({ type: r.type, domain: r.domain ?? "*", path: r.path ?? "/" });
  }
  // "If a cookie with credential's attributes could not be set by response, continue": one settable credential stores the session.
  if (!credentials.some((c) => canSet(c.name, parseAttributes(c.attributes, destination), destination))) {
    return fail("no-credential-can-be-set", false, config);
  }
  const session: DbscSession = {
    id,
    refreshUrl,
    origin: origin.origin,
    includeSite: scope.include_site,
    rules,
    credentials,
    allowedRefreshInitiators: Array.isArray(config.allowed_refresh_initiators) ? config.allowed_refresh_initiators : [],
    configUrl: destination,
    cachedChallenge: null,
  };
  return { ok: true, session, config };
}

/** "Identify if a host matches a pattern". */
export function hostMatches(host: string, pattern: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*") && !/^[0-9.]+$/.test(host) && !host.startsWith("[")) {
    return pattern.startsWith("*.") && host.endsWith(pattern.slice(1));
  }
  return host === pattern;
}

/** "Identify if a URL is in scope of a session": rules are checked last to first. */
export function inScope(url: URL, s: DbscSession): boolean {
  const origin = new URL(s.origin);
  if (s.includeSite ? !sameSite(url, origin) : url.origin !== s.origin) return false;
  if (url.origin === s.refreshUrl.origin && url.pathname === s.refreshUrl.pathname) return false;
  for (const rule of [...s.rules].reverse()) {
    if (!hostMatches(url.hostname, rule.domain)) continue;
    const p = url.pathname;
    if (p === rule.path || (rule.path.endsWith("/") && p.startsWith(rule.path)) || p.startsWith(`${rule.path}/`)) {
      return rule.type === "include";
    }
  }
  return true;
}

/**
 * "Identify if missing session credential": true if some credential whose cookie
 * would be attached to a request for `url` has no live cookie in `jar` with the
 * same name, Domain, Path, Secure, HttpOnly and SameSite.
 */
export function missingCredential(jar: CookieJar, s: DbscSession, url: URL): string | undefined {
  const present = jar.forUrl(url);
  for (const c of s.credentials) {
    const want = parseAttributes(c.attributes, s.configUrl);
    if (!wouldAttach(want, url)) continue;
    if (present.some((k) => k.name === c.name && sameBinding(k, want))) continue;
    return c.name;
  }
  return undefined;
}
