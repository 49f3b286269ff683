import { type JWTPayload, jwtVerify } from "jose";
import type { OidcProvider } from "../config/types";
import type { Discovered } from "./discovery";
import { codeOf, refused, unavailable } from "./failure";

/** Seconds of clock difference tolerated between the gate and a provider (oauth4webapi's default too). */
export const CLOCK_TOLERANCE_S = 30;

/**
 * jose's errors that mean the provider's keys could not be fetched (down,
 * slow, or serving something that is not a JWKS), not that the token is bad.
 */
const OUTAGE_CODES = new Set(["ERR_JOSE_GENERIC", "ERR_JWKS_INVALID", "ERR_JWKS_TIMEOUT", "TypeError", "TimeoutError", "AbortError"]);

/** Whether a jose verification failed for want of the provider's keys. */
export const isKeysOutage = (error: unknown) => OUTAGE_CODES.has(codeOf(error));

/** jose's refusal of an ID token, as a reason: unknown key, bad signature, refused alg, or a claim. */
function signatureFailure(error: unknown): Error {
  const code = codeOf(error);
  if (isKeysOutage(error)) return unavailable("jwks_unavailable", code);
  if (code === "ERR_JWKS_NO_MATCHING_KEY") return refused("id_token_unknown_key");
  if (code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") return refused("id_token_signature");
  if (code === "ERR_JOSE_ALG_NOT_ALLOWED" || code === "ERR_JOSE_NOT_SUPPORTED") return refused("id_token_alg", code);
  const claim = (error as { claim?: unknown }).claim;
  return refused("id_token_invalid", typeof claim === "string" ? claim : code);
}

/**
 * Verifies what oauth4webapi leaves out (contract §10): the ID token's
 * signature, by the provider's JWKS (cached per isolate, refetched on an
 * unknown `kid` at most once a minute), with the alg allow list (advertised
 * minus `none` and `HS*`); `iss`, `aud` and `exp` once more, by jose; an
 * `iat` no later than now (oauth4webapi only checks that it is a number);
 * and `azp`, when present, even beside a single audience.
 */
export async function verifyIdToken(idToken: string, provider: OidcProvider, discovered: Discovered, now: number): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, discovered.keys, {
      algorithms: discovered.algorithms,
      issuer: discovered.as.issuer,
      audience: provider.clientId,
      currentDate: new Date(now),
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ["iat", "exp", "sub"],
    }));
  } catch (error) {
    throw signatureFailure(error);
  }
  if (typeof payload.iat !== "number" || payload.iat > now / 1_000 + CLOCK_TOLERANCE_S) throw refused("id_token_iat");
  // OIDC Core 3.1.3.7 (5): an azp, when present, must be this client; oauth4webapi checks it only beside several audiences.
  if (payload.azp !== undefined && payload.azp !== provider.clientId) throw refused("id_token_invalid", "azp");
  return payload;
}
