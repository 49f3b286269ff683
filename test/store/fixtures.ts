import type { SessionRecord } from "../../src/store/types";
import { base64url, randomBytes, sha256 } from "../../src/util/encoding";

/** 2026-01-01T00:00:00Z: the time written into test records (stores never read it). */
export const T0 = Date.UTC(2026, 0, 1);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A random id with a readable label; every test uses its own, since a backend may be shared across tests. */
export const uniqueId = (label: string) => `${label}-${base64url(randomBytes(12))}`;

/** The hash of a fresh random token, as the session manager would store it. */
export const freshTokenHash = async () => sha256(base64url(randomBytes(32)));

/** A well-formed session at generation 0 with a random sid, sub and token. */
export async function makeSession(overrides: Partial<SessionRecord> = {}): Promise<SessionRecord> {
  return {
    sid: base64url(randomBytes(16)),
    sub: uniqueId("user"),
    roles: ["user", "rôle:ü"],
    claims: { email: "alice@example.com", nested: { list: [1, "two", null], flag: true } },
    createdAt: T0,
    authTime: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 12 * HOUR,
    idleTimeout: 30 * MINUTE,
    gen: 0,
    tokenHash: await freshTokenHash(),
    rotatedAt: T0,
    rotates: true,
    fingerprint: "chrome/126|203.0.113",
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0.0.0",
    ip: "203.0.113.7",
    ...overrides,
  };
}

/** The next generation of `session`, as the session manager writes it at rotation. */
export async function successorOf(session: SessionRecord, time = session.rotatedAt + 15 * MINUTE): Promise<SessionRecord> {
  return { ...session, gen: session.gen + 1, tokenHash: await freshTokenHash(), rotatedAt: time, lastSeenAt: time };
}

/** Sids of a list of sessions, sorted: `listUser` promises no order. */
export const sidsOf = (sessions: SessionRecord[]) => sessions.map((s) => s.sid).sort();

/**
 * Values that must never pass for a token pointer (`tok:`). JSON cannot carry
 * NaN, so a NaN written by mistake arrives as `null`, or as invalid JSON when
 * the text was built by hand.
 */
export const CORRUPT_POINTERS: Array<[string, (sid: string) => string]> = [
  ["text that is not JSON", () => "{not json"],
  ["JSON null", () => "null"],
  ["a JSON string", (sid) => JSON.stringify(sid)],
  ["an empty object", () => "{}"],
  ["a missing gen", (sid) => JSON.stringify({ sid })],
  ["a NaN gen (as written by JSON.stringify)", (sid) => JSON.stringify({ sid, gen: Number.NaN })],
  ["a raw NaN gen", (sid) => `{"sid":${JSON.stringify(sid)},"gen":NaN}`],
  ["a negative gen", (sid) => JSON.stringify({ sid, gen: -1 })],
  ["a fractional gen", (sid) => JSON.stringify({ sid, gen: 1.5 })],
  ["a gen as text", (sid) => JSON.stringify({ sid, gen: "0" })],
  ["an empty sid", () => JSON.stringify({ sid: "", gen: 0 })],
  ["a numeric sid", () => JSON.stringify({ sid: 42, gen: 0 })],
];

/** Values that must never pass for a session record (`ses:`), built from a good one. */
export const CORRUPT_SESSIONS: Array<[string, (good: SessionRecord) => string]> = [
  ["text that is not JSON", () => '{"sid":'],
  ["JSON null", () => "null"],
  ["a JSON array", () => "[]"],
  ["a NaN createdAt (as written by JSON.stringify)", (good) => JSON.stringify({ ...good, createdAt: Number.NaN })],
  ["a raw NaN lastSeenAt", (good) => JSON.stringify(good).replace(/"lastSeenAt":\d+/, '"lastSeenAt":NaN')],
  ["an infinite expiresAt", (good) => JSON.stringify(good).replace(/"expiresAt":\d+/, '"expiresAt":1e999')],
  ["a missing expiresAt", (good) => JSON.stringify({ ...good, expiresAt: undefined })],
  ["a missing authTime", (good) => JSON.stringify({ ...good, authTime: undefined })],
  ["a negative rotatedAt", (good) => JSON.stringify({ ...good, rotatedAt: -1 })],
  ["a time as text", (good) => JSON.stringify({ ...good, lastSeenAt: String(good.lastSeenAt) })],
  ["a missing idleTimeout", (good) => JSON.stringify({ ...good, idleTimeout: undefined })],
  ["a NaN idleTimeout", (good) => JSON.stringify({ ...good, idleTimeout: Number.NaN }).replace('"idleTimeout":null', '"idleTimeout":NaN')],
  ["roles that are not a list", (good) => JSON.stringify({ ...good, roles: "admin" })],
  ["a missing gen", (good) => JSON.stringify({ ...good, gen: undefined })],
  ["a missing tokenHash", (good) => JSON.stringify({ ...good, tokenHash: undefined })],
  ["claims that are a list", (good) => JSON.stringify({ ...good, claims: ["admin"] })],
  ["an unknown issuer", (good) => JSON.stringify({ ...good, issuedBy: "someone" })],
  ["an empty identity provider name", (good) => JSON.stringify({ ...good, idp: "" })],
  ["a device key with alg none", (good) => JSON.stringify({ ...good, device: { alg: "none", jwk: {}, jkt: "x" } })],
  ["a device key without its JWK", (good) => JSON.stringify({ ...good, device: { alg: "ES256", jkt: "x" } })],
];
