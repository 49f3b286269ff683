import type { BindingMode } from "../config/types";
import type { SessionRecord } from "../store/types";

/**
 * The session policy's decisions, each a pure function of (session, now,
 * policy): nothing here reads a clock, a store or a key, so each rule is
 * written once, for every backend, and tested alone.
 */

/** The session settings the decisions read, in ms (`GATE.session`). */
export interface SessionPolicy {
  idleTimeout: number;
  absoluteTimeout: number;
  rotateEvery: number;
  rotationGrace: number;
  binding: BindingMode;
  maxPerUser: number;
  /** How long a device-bound session's cookie token is accepted after it was issued (DBSC). */
  deviceCookieTtl: number;
}

/** Why a session has ended on its own. */
export type Expiry = "absolute_timeout" | "idle_timeout";

/**
 * Why a presented token was refused: logged, never shown to the client.
 * A closed list, as the error codes are.
 */
export type RefusalReason =
  | "malformed"
  | "duplicate_cookie"
  | "ambiguous_authorization"
  | "corrupt_record"
  | "unknown_token"
  | "revoked"
  | "no_session"
  | Expiry
  | "token_mismatch"
  | "reuse_detected"
  | "binding_mismatch"
  | "device_cookie_expired"
  /** An older cookie token of a device-bound session (bound or refreshed since): refused, never treated as reuse. */
  | "device_cookie_superseded";

/** Why a session was ended by someone, as `session.revoked` logs it. */
export type RevocationReason =
  | "logout"
  | "logout_user"
  | "login_replaced"
  | "reuse_detected"
  | "binding_mismatch"
  | "admin"
  | "self_service"
  /** The identity provider ended its session (OpenID Connect Back-Channel Logout). */
  | "idp_logout";

/** Longest gap between two writes of `lastSeenAt`; see {@link touchInterval}. */
const MAX_TOUCH_INTERVAL = 60_000;

/**
 * How stale `lastSeenAt` may get before a request rewrites it: 10 % of the idle
 * timeout, at most 60 s. KV takes one write per second per key, so a session is
 * not written on every request; the price is that a session can end up to this
 * interval before `idle_timeout` after its true last use, never after.
 */
export const touchInterval = (idleTimeout: number) => Math.min(MAX_TOUCH_INTERVAL, Math.max(1_000, idleTimeout / 10));

/** Whether, and why, the session has ended at `now`: its absolute end, or its idle timeout (bearer sessions have none). */
export function expiryOf(session: SessionRecord, now: number): Expiry | undefined {
  if (now >= session.expiresAt) return "absolute_timeout";
  if (session.idleTimeout !== null && now >= session.lastSeenAt + session.idleTimeout) return "idle_timeout";
  return undefined;
}

/**
 * Whether a request on this session gets a new token: cookie sessions only,
 * `rotate_every` after the last rotation; never a device-bound session (its
 * browser refreshes it with a proof instead, contract §12), never an upgrade
 * (a WebSocket handshake cannot carry the new cookie back, §11).
 */
export function rotationDue(session: SessionRecord, viaCookie: boolean, now: number, policy: Pick<SessionPolicy, "rotateEvery">): boolean {
  return viaCookie && session.rotates && session.device === undefined && now >= session.rotatedAt + policy.rotateEvery;
}

/**
 * A device-bound session's current cookie token is accepted for
 * `device_cookie_ttl` after it was issued, then refused (not as reuse): a
 * stolen copy is worth at most that long, and only the device's key renews it.
 */
export function deviceTokenExpired(session: SessionRecord, now: number, policy: Pick<SessionPolicy, "deviceCookieTtl">): boolean {
  return session.device !== undefined && now >= session.rotatedAt + policy.deviceCookieTtl;
}

/** Whether the request should rewrite `lastSeenAt` (after the response): it is older than the touch interval. */
export function touchDue(session: SessionRecord, now: number, policy: Pick<SessionPolicy, "idleTimeout">): boolean {
  return now - session.lastSeenAt >= touchInterval(session.idleTimeout ?? policy.idleTimeout);
}

/** Whether a token of the previous generation is still inside its grace window. */
export function withinGrace(session: SessionRecord, now: number, policy: Pick<SessionPolicy, "rotationGrace">): boolean {
  return now < session.rotatedAt + policy.rotationGrace;
}

/** What binding says of a request: it matches, or it does not and is only reported, or it does not and is refused. */
export type BindingVerdict = "holds" | "report" | "refuse";

/**
 * Compares the request's fingerprint (`seen`, computed only when it matters)
 * with the session's (contract §2). Sessions without one (bearer sessions)
 * and `binding = "off"` always hold.
 */
export function bindingVerdict(session: SessionRecord, seen: () => string, mode: BindingMode): BindingVerdict {
  if (mode === "off" || session.fingerprint === "" || seen() === session.fingerprint) return "holds";
  return mode === "report" ? "report" : "refuse";
}

/**
 * The sessions to end so that one more fits under `max_per_user`: the least
 * recently used first (contract §14). Sessions already ended on their own
 * do not count.
 */
export function evictions(sessions: readonly SessionRecord[], now: number, max: number): SessionRecord[] {
  const live = sessions.filter((session) => expiryOf(session, now) === undefined);
  const excess = live.length + 1 - max;
  return excess > 0 ? [...live].sort((a, b) => a.lastSeenAt - b.lastSeenAt).slice(0, excess) : [];
}

/** How long a write about this session should be kept: until its absolute end, at least 1 ms. */
export const remainingLife = (session: Pick<SessionRecord, "expiresAt">, now: number) => Math.max(1, session.expiresAt - now);
