import { base64url, randomBytes, sha256, utf8 } from "../util/encoding";

/** A session token: 32 CSPRNG bytes as base64url, exactly 43 characters (contract §2). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** True when `value` has the form of a token; anything else is refused without a store look-up. */
export function isTokenShaped(value: string | undefined): value is string {
  return value !== undefined && TOKEN_PATTERN.test(value);
}

const BEARER = /^Bearer[ \t]+(\S+)$/i;

/**
 * What an `Authorization` header says about gate tokens: `token` when it is
 * exactly one `Bearer <gate token>`; `ambiguous` when a gate token is one of
 * several credentials (comma-combined, or several fields, which Fetch joins
 * with ", "), which authenticates nobody; nothing for no header, another
 * scheme, or a bearer that is not token-shaped (the origin's own JWT). One
 * definition for both sides: a header carrying a gate token anywhere is
 * never forwarded (`carriesGateToken`).
 */
export function readAuthorization(authorization: string | null | undefined): { token?: string; ambiguous?: true; carriesGateToken: boolean } {
  if (!authorization) return { carriesGateToken: false };
  const parts = authorization.split(",").map((part) => part.trim());
  const tokens = parts.map((part) => BEARER.exec(part)?.[1]).filter(isTokenShaped);
  if (tokens.length === 0) return { carriesGateToken: false };
  return parts.length === 1 ? { token: tokens[0], carriesGateToken: true } : { ambiguous: true, carriesGateToken: true };
}

/** A fresh token for a new session. */
export function newToken(): string {
  return base64url(randomBytes(32));
}

/** A fresh session id: 128 random bits, not secret; it names the session in logs, headers and the API. */
export function newSid(): string {
  return base64url(randomBytes(16));
}

/** The store key of a token. The store never holds a raw token, only this hash. */
export function hashToken(token: string): Promise<string> {
  return sha256(token);
}

/**
 * The successor of `token` at rotation: HMAC-SHA256 under a key derived from
 * GATE_SECRET. Deterministic, so every request racing at the rotation boundary
 * computes the same successor without a lock (docs/rotation.md); unpredictable
 * without the key, so a stolen store cannot compute tokens.
 */
export async function successorOf(token: string, rotationKey: CryptoKey): Promise<string> {
  return base64url(await crypto.subtle.sign("HMAC", rotationKey, utf8(token)));
}

/**
 * The token a DBSC refresh issues (src/session/device.ts): HMAC of the current
 * token's hash, which the store has (the refresh request need not carry the
 * cookie, which may have lapsed). Two tabs refreshing one generation converge
 * on it, as rotation's successors do.
 */
export async function refreshSuccessorOf(sid: string, tokenHash: string, rotationKey: CryptoKey): Promise<string> {
  return base64url(await crypto.subtle.sign("HMAC", rotationKey, utf8(`dbsc-refresh:${sid}:${tokenHash}`)));
}
