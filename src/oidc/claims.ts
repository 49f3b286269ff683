import type { OidcProvider } from "../config/types";
import { identityFrom } from "../session/login";
import type { Identity } from "../session/types";
import { forbidden, refused } from "./failure";

/**
 * The ID token claims a session keeps (in its `claims`, as `X-Gate-Login`'s):
 * a fixed, documented list (docs/oidc.md), each a string of at most
 * {@link MAX_CLAIM_LENGTH} characters (email_verified a boolean), so the
 * whole stays far below the 2 KiB the gate allows.
 */
export const KEPT_CLAIMS = ["email", "email_verified", "name", "preferred_username", "given_name", "family_name"] as const;
const MAX_CLAIM_LENGTH = 256;
/** A roles claim with more entries than this is refused rather than cut: which roles to drop is not the gate's to guess. */
const MAX_ROLES = 100;

/**
 * A claim by name: the name as written when the token has it (namespaced
 * claims like `https://example.com/roles` contain dots), else a dotted path
 * through nested objects (`realm_access.roles`). Own properties only.
 */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A role the gate accepts (src/session/login.ts `identityFrom`: visible ASCII, no comma). */
const isRole = (role: string) => role.length <= MAX_CLAIM_LENGTH && !("reason" in identityFrom({ sub: "-", roles: [role] }));

/**
 * Roles from the roles claim: a string is one role, a list gives its strings;
 * anything else in it is dropped, and so is a string the gate's identity
 * rules refuse (a comma would split it in `X-Gate-Roles`). Fewer roles is
 * never a privilege. Returns the roles and how many entries were dropped.
 */
export function rolesOf(value: unknown): { roles: string[]; dropped: number } {
  const list = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
  if (list.length > MAX_ROLES) throw refused("identity_invalid", "too_many_roles");
  const roles = [...new Set(list.filter((entry): entry is string => typeof entry === "string" && isRole(entry)))];
  return { roles, dropped: list.length - roles.length };
}

/** The kept claims of an ID token (see {@link KEPT_CLAIMS}). */
export function keptClaims(claims: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const name of KEPT_CLAIMS) {
    const value = claims[name];
    if (name === "email_verified" ? typeof value === "boolean" : typeof value === "string" && value.length <= MAX_CLAIM_LENGTH) kept[name] = value;
  }
  return kept;
}

/**
 * The domain of an address `local@domain`, lower-cased in ASCII only: exactly
 * one "@", a non-empty local part, and a domain of ASCII letters, digits, "-"
 * and "." (an IDN arrives as punycode). Anything else has no domain, so no
 * Unicode case folding can turn another domain into an allowed one (K, the
 * Kelvin sign, lower-cases to "k").
 */
export function emailDomain(email: string): string | undefined {
  const at = email.indexOf("@");
  if (at <= 0 || at !== email.lastIndexOf("@")) return undefined;
  const domain = email.slice(at + 1);
  return /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(domain) ? asciiLower(domain) : undefined;
}

/** Lower case for A–Z only: `toLowerCase()` would also fold look-alikes from elsewhere in Unicode into ASCII. */
const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * The allow lists (403 when refused): `allowed_email_domains` needs a
 * verified email (`email_verified === true`) whose domain, after the last
 * "@", is listed (case-insensitive, no subdomains); `allowed_users` needs the
 * user's `user_claim` value listed (exactly; case-insensitive for "email").
 * With both, both must pass.
 */
export function checkAllowLists(provider: OidcProvider, claims: Record<string, unknown>, user: string): void {
  if (provider.allowedEmailDomains.length > 0) {
    if (claims.email_verified !== true || typeof claims.email !== "string") throw forbidden("email_domain_unverified");
    const domain = emailDomain(claims.email);
    if (domain === undefined || !provider.allowedEmailDomains.includes(domain))
      throw forbidden("email_domain_not_allowed", (domain ?? "").slice(0, 64));
  }
  if (provider.allowedUsers.length > 0) {
    const fold = (value: string) => (provider.userClaim === "email" ? asciiLower(value) : value);
    if (!provider.allowedUsers.some((allowed) => fold(allowed) === fold(user))) throw forbidden("user_not_allowed");
  }
}

/**
 * The identity an ID token logs in: `sub` from `user_claim` (a string; for
 * "email", only with `email_verified === true`), the allow lists, roles from
 * `roles_claim`, the kept claims, all held to the gate's identity rules like
 * `X-Gate-Login`'s; then the provider's name and its session id (`sid`).
 */
export function identityOf(provider: OidcProvider, claims: Record<string, unknown>): { identity: Identity; droppedRoles: number } {
  const user = claimAt(claims, provider.userClaim);
  if (typeof user !== "string" || user === "") throw refused("user_claim_missing", provider.userClaim.slice(0, 64));
  if (provider.userClaim === "email" && claims.email_verified !== true) throw refused("email_unverified");
  checkAllowLists(provider, claims, user);
  const { roles, dropped } = provider.rolesClaim ? rolesOf(claimAt(claims, provider.rolesClaim)) : { roles: [], dropped: 0 };
  const checked = identityFrom({ sub: provider.subPrefix + user, roles, claims: keptClaims(claims) });
  if ("reason" in checked) throw refused("identity_invalid", checked.reason);
  const idpSid = typeof claims.sid === "string" && claims.sid.length <= MAX_CLAIM_LENGTH ? claims.sid : undefined;
  const authTime = typeof claims.auth_time === "number" && Number.isFinite(claims.auth_time) ? claims.auth_time * 1_000 : undefined;
  return {
    identity: { ...checked, idp: provider.name, ...(idpSid && { idpSid }), ...(authTime !== undefined && { authTime }) },
    droppedRoles: dropped,
  };
}
