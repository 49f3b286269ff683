import { type JWTPayload, jwtVerify } from "jose";
import type { Identity } from "./manager";
import { utf8 } from "../util/encoding";

/** `X-Gate-Login` may not be valid for longer than this (contract §3). */
const MAX_LIFETIME_SECONDS = 300;
const MAX_CLAIMS_BYTES = 2_048;
const MAX_SUB_LENGTH = 256;
/**
 * `sub` and roles travel in request headers to the origin: visible ASCII only
 * (no CR/LF, no commas in roles), beginning and ending with a visible
 * character, because HTTP trims the rest: `X-Gate-User: alice ` reaches the
 * origin as `alice`, another user's name, while the assertion says otherwise.
 */
const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const ROLE = /^[\x21-\x2b\x2d-\x7e]+$/;

/** Why a login header was ignored; logged, never shown to the client. */
export type LoginRejection = { ok: false; reason: string };

/**
 * Verifies the origin's `X-Gate-Login` JWT: HS256 only (no `alg` confusion),
 * signed with GATE_ORIGIN_SECRET, `exp` required and at most five minutes
 * ahead, `sub` of 1–256 characters, optional string `roles` and a JSON object
 * `claims` of at most 2 KiB.
 */
export async function verifyLogin(jwt: string, secret: Uint8Array, now: number): Promise<{ ok: true; identity: Identity } | LoginRejection> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(jwt, secret, {
      algorithms: ["HS256"],
      requiredClaims: ["sub", "exp"],
      currentDate: new Date(now),
      clockTolerance: 5,
    }));
  } catch (error) {
    return { ok: false, reason: (error as { code?: string }).code ?? "invalid_jwt" };
  }
  const nowSeconds = Math.floor(now / 1_000);
  if ((payload.exp as number) > nowSeconds + MAX_LIFETIME_SECONDS) return { ok: false, reason: "exp_too_far" };
  const identity = identityFrom(payload);
  return "reason" in identity ? { ok: false, reason: identity.reason } : { ok: true, identity };
}

/**
 * Checks `sub`, `roles` and `claims` as the login header and the admin API
 * both carry them: `sub` 1–256 visible ASCII characters, roles visible ASCII
 * without commas, claims a JSON object of at most 2 KiB.
 */
export function identityFrom(payload: Record<string, unknown>): Identity | { reason: string } {
  const { sub, roles = [], claims } = payload as { sub: unknown; roles?: unknown; claims?: unknown };
  if (typeof sub !== "string" || sub.length < 1 || sub.length > MAX_SUB_LENGTH || !HEADER_SAFE.test(sub)) return { reason: "bad_sub" };
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === "string" && ROLE.test(role))) {
    return { reason: "bad_roles" };
  }
  if (claims !== undefined) {
    if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return { reason: "bad_claims" };
    if (utf8(JSON.stringify(claims)).length > MAX_CLAIMS_BYTES) return { reason: "claims_too_large" };
  }
  return { sub, roles, claims: claims as Record<string, unknown> | undefined };
}
