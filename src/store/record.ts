import { CorruptRecordError, type Lookup, type SessionRecord, type TokenRecord } from "./types";

const isTime = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;
const isText = (value: unknown): value is string => typeof value === "string" && value.length > 0;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const optional = (value: unknown, check: (value: unknown) => boolean) => value === undefined || check(value);

/** A device key as stored: a known algorithm, a JWK object and its thumbprint. */
const isDeviceKey = (value: unknown) =>
  isObject(value) && (value.alg === "ES256" || value.alg === "RS256") && isObject(value.jwk) && isText(value.jkt);

/**
 * Checks a session record read from the store. A record that is not exactly the
 * expected shape (missing or NaN times, wrong types: a corrupted or foreign
 * value) is refused instead of half-trusted.
 */
export function asSessionRecord(value: unknown): SessionRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const ok =
    isText(r.sid) &&
    isText(r.sub) &&
    Array.isArray(r.roles) &&
    r.roles.every((role) => typeof role === "string") &&
    (r.claims === undefined || (typeof r.claims === "object" && r.claims !== null && !Array.isArray(r.claims))) &&
    isTime(r.createdAt) &&
    isTime(r.authTime) &&
    isTime(r.lastSeenAt) &&
    isTime(r.expiresAt) &&
    (r.idleTimeout === null || isTime(r.idleTimeout)) &&
    Number.isInteger(r.gen) &&
    (r.gen as number) >= 0 &&
    isText(r.tokenHash) &&
    isTime(r.rotatedAt) &&
    typeof r.rotates === "boolean" &&
    typeof r.fingerprint === "string" &&
    typeof r.userAgent === "string" &&
    typeof r.ip === "string" &&
    optional(r.issuedBy, (v) => v === "admin") &&
    optional(r.idp, isText) &&
    optional(r.idpSid, isText) &&
    optional(r.device, isDeviceKey);
  return ok ? (r as unknown as SessionRecord) : undefined;
}

/** Checks a token pointer read from the store. */
export function asTokenRecord(value: unknown): TokenRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  return isText(r.sid) && Number.isInteger(r.gen) && (r.gen as number) >= 0 ? { sid: r.sid, gen: r.gen as number } : undefined;
}

/** Parses stored JSON without throwing: malformed text reads as `undefined`. */
export function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A stored session's text as a record: `null` when absent or not a well-formed session (read as gone). */
export function decodeSession(text: string | null): SessionRecord | null {
  return asSessionRecord(parseJson(text)) ?? null;
}

/**
 * What a token look-up found, from the stored texts every backend reads: the
 * pointer (`tok:`), the session (`ses:`) and whether the revocation mark
 * (`rev:`) exists. `null` for an unknown token; a malformed pointer or session
 * throws {@link CorruptRecordError} (refused and logged, never half-trusted).
 */
export function decodeLookup(pointer: string | TokenRecord | null, session: string | null, revoked: boolean): Lookup | null {
  if (pointer === null) return null;
  const token = typeof pointer === "string" ? asTokenRecord(parseJson(pointer)) : pointer;
  if (!token) throw new CorruptRecordError("tok: value is malformed");
  const record = session === null ? null : asSessionRecord(parseJson(session));
  if (record === undefined) throw new CorruptRecordError("ses: value is malformed");
  return { token, session: record, revoked };
}

/** The pointer a token's `tok:` key holds. */
export const pointerOf = (session: Pick<SessionRecord, "sid" | "gen">): TokenRecord => ({ sid: session.sid, gen: session.gen });
