import { type JWTPayload, jwtVerify } from "jose";
import type { OidcProvider } from "../config/types";
import type { Discovered } from "./discovery";
import { OidcFailure, codeOf, unavailable } from "./failure";
import { CLOCK_TOLERANCE_S, isKeysOutage } from "./id-token";
import type { LogoutSubject } from "./marks";

/** The event a logout token must carry (Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";
/** A logout token older than this is refused, with `exp` or without (some providers omit it; errata set 1 requires it). */
const MAX_AGE_S = 300;

/** A logout token the gate accepted: whom it logs out, its `jti`, and until when (Unix s) a replay must be refused. */
export interface LogoutToken {
  subject: LogoutSubject;
  jti: string;
  keepUntil: number;
}

/** A refused logout token: 400 (Back-Channel Logout 1.0 §2.8). */
export const badLogoutToken = (detail?: string) => new OidcFailure("bad_request", "logout_token_invalid", detail);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

/** The checks jose does not make (§2.6): `typ` when present, the event, no `nonce`, `sub` or `sid`, a string `jti`. */
function subjectOf(payload: JWTPayload, typ: unknown): LogoutSubject {
  // Explicit typing (§2.4, recommended): when present it must say logout+jwt; an ID token is refused by the events and nonce rules.
  if (
    typ !== undefined &&
    String(typ)
      .toLowerCase()
      .replace(/^application\//, "") !== "logout+jwt"
  )
    throw badLogoutToken("typ");
  if (!isObject(payload.events) || !isObject(payload.events[BACKCHANNEL_LOGOUT_EVENT])) throw badLogoutToken("events");
  if (payload.nonce !== undefined) throw badLogoutToken("nonce");
  if (!text(payload.jti)) throw badLogoutToken("jti");
  const sid = text(payload.sid);
  const sub = text(payload.sub);
  if (sid) return { sid };
  if (sub) return { sub };
  throw badLogoutToken("sub_or_sid");
}

/**
 * Verifies a logout token (Back-Channel Logout 1.0 with errata set 1, §2.6):
 * the signature by the provider's JWKS with the same alg allow list as ID
 * tokens, `iss`, `aud` = client_id, `iat` (not in the future, at most 5
 * minutes old), `exp` when present, then {@link subjectOf}. A JWKS that
 * cannot be fetched is the provider's outage (503), not a bad token.
 */
export async function verifyLogoutToken(token: string, provider: OidcProvider, discovered: Discovered, now: number): Promise<LogoutToken> {
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(token, discovered.keys, {
      algorithms: discovered.algorithms,
      issuer: discovered.as.issuer,
      audience: provider.clientId,
      requiredClaims: ["iat", "jti", "events"],
      maxTokenAge: MAX_AGE_S,
      clockTolerance: CLOCK_TOLERANCE_S,
      currentDate: new Date(now),
    });
  } catch (error) {
    throw isKeysOutage(error) ? unavailable("jwks_unavailable", codeOf(error)) : badLogoutToken(codeOf(error));
  }
  const { payload, protectedHeader } = verified;
  const subject = subjectOf(payload, protectedHeader.typ);
  const iat = payload.iat as number;
  const keepUntil = Math.min(typeof payload.exp === "number" ? payload.exp : Number.POSITIVE_INFINITY, iat + MAX_AGE_S) + CLOCK_TOLERANCE_S;
  return { subject, jti: payload.jti as string, keepUntil };
}
