import { base64url, randomBytes, sha256, utf8 } from "../util/encoding";

/** A session token: 32 CSPRNG bytes as base64url, exactly 43 characters (contract §2). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** True when `value` has the form of a token; anything else is refused without a store look-up. */
export function isTokenShaped(value: string | undefined): value is string {
  return value !== undefined && TOKEN_PATTERN.test(value);
}

/**
 * The gate token an `Authorization: Bearer …` header carries, or `undefined`
 * when it carries none (no header, another scheme, or a bearer that is not
 * token-shaped, such as the origin's own JWT). One definition for both sides:
 * what authenticates a request is exactly what is stripped before forwarding.
 */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  return isTokenShaped(token) ? token : undefined;
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
