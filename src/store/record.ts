import type { SessionRecord, TokenRecord } from "./types";

const isTime = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;
const isText = (value: unknown): value is string => typeof value === "string" && value.length > 0;

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
    typeof r.ip === "string";
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
