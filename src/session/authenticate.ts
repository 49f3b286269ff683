import type { GateKeys } from "../derive";
import type { Logger } from "../log";
import { CorruptRecordError, type Lookup, type SessionRecord, type SessionStore } from "../store/types";
import {
  type RefusalReason,
  type RevocationReason,
  type SessionPolicy,
  bindingVerdict,
  deviceTokenExpired,
  expiryOf,
  remainingLife,
  rotationDue,
  touchDue,
  withinGrace,
} from "./decide";
import { fingerprintOf } from "./fingerprint";
import { hashToken, isTokenShaped, refreshSuccessorOf, successorOf } from "./token";
import type { Authentication, Background, Client, Credential, Via } from "./types";

/** Dependencies of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  policy: SessionPolicy;
  store: SessionStore;
  keys: GateKeys;
  now: () => number;
  log: Logger;
  /** Ends a session (reuse detected, binding enforced): the manager's own revocation. */
  revoke(session: SessionRecord, reason: RevocationReason): Promise<void>;
  /** Moves a session to its next token generation, once per isolate however many race (the manager's). */
  advance(session: SessionRecord, successor: string): Promise<SessionRecord | undefined>;
}

/** A token's standing against its session: current, the previous one in its grace window (with its successor), or not acceptable. */
type Standing = "current" | "stale_read" | { successor: string } | "token_mismatch" | "reuse_detected" | "superseded";

const refused = (reason: RefusalReason): Authentication => ({ status: "invalid", reason });

/**
 * Checking a presented token against its session: expiry, generation (grace
 * and reuse), binding, and the rotation or touch a valid request is due.
 */
export function createAuthenticator(options: AuthenticatorOptions) {
  const { policy, store, keys, now, log, revoke, advance } = options;

  /** The token's standing: the pointer's generation against the session's; only the previous one needs its successor computed. */
  async function standing(token: string, tokenHash: string, pointerGen: number, session: SessionRecord): Promise<Standing> {
    if (pointerGen === session.gen) return tokenHash === session.tokenHash ? "current" : "token_mismatch";
    if (pointerGen > session.gen) return "stale_read";
    // A bound session's older cookie is never reuse, or a thief's expired copy would log the device out (contract §12).
    if (session.device) return boundPredecessor(token, tokenHash, pointerGen, session);
    if (pointerGen < session.gen - 1) return "reuse_detected";
    const successor = await successorOf(token, keys.rotation);
    if ((await hashToken(successor)) !== session.tokenHash) return "reuse_detected";
    return withinGrace(session, now(), policy) ? { successor } : "reuse_detected";
  }

  /**
   * A bound session's older token: served within rotation_grace if it is the one the last binding or refresh
   * replaced (Chromium sends the redirect after the login alongside the registration, and the request that
   * starts a proactive refresh alongside the refresh, both with the old cookie), never handed the successor
   * (only the device's proof earns that); refused otherwise, without ending the session.
   */
  async function boundPredecessor(token: string, tokenHash: string, pointerGen: number, session: SessionRecord): Promise<Standing> {
    if (pointerGen !== session.gen - 1 || !withinGrace(session, now(), policy)) return "superseded";
    const bound = await hashToken(await successorOf(token, keys.rotation));
    const refreshed = await hashToken(await refreshSuccessorOf(session.sid, tokenHash, keys.rotation));
    return bound === session.tokenHash || refreshed === session.tokenHash ? { successor: "" } : "superseded";
  }

  /** The store's answer for a token hash; a corrupt record is a refusal, an outage propagates. */
  async function find(tokenHash: string): Promise<Lookup | RefusalReason> {
    try {
      return (await store.lookup(tokenHash)) ?? "unknown_token";
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      log("store.corrupt", { error: error.message });
      return "corrupt_record";
    }
  }

  /** The session a look-up found, if it is alive: not revoked, present, not expired. */
  function liveSession(found: Lookup): SessionRecord | RefusalReason {
    const { session } = found;
    if (found.revoked) return "revoked";
    if (!session || session.sid !== found.token.sid) return "no_session";
    const ended = expiryOf(session, now());
    if (ended) log("session.expired", { sid: session.sid, sub: session.sub, reason: ended });
    return ended ?? session;
  }

  /** Binding (contract §2): a mismatch is logged; under `enforce` it also ends the session. */
  async function bindingHolds(session: SessionRecord, client: Client): Promise<boolean> {
    let seen = "";
    const verdict = bindingVerdict(session, () => (seen = fingerprintOf(client.userAgent, client.ip)), policy.binding);
    if (verdict === "holds") return true;
    log("session.binding_mismatch", { sid: session.sid, sub: session.sub, expected: session.fingerprint, seen, mode: policy.binding });
    if (verdict === "report") return true;
    await revoke(session, "binding_mismatch");
    return false;
  }

  /**
   * Checks a presented token. `tokenHash` is computed by the caller, so the
   * store look-up is issued at once, in the same tick as whatever the caller
   * sends alongside it (the rate limiter's check: one round trip).
   */
  async function authenticate(credential: Credential, client: Client, background: Background): Promise<Authentication> {
    const { token, tokenHash, via } = credential;
    if (!isTokenShaped(token) || tokenHash === undefined) return refused("malformed");
    const found = await find(tokenHash);
    if (typeof found === "string") return refused(found);
    const session = liveSession(found);
    if (typeof session === "string") return refused(session);
    const state = await standing(token, tokenHash, found.token.gen, session);
    if (state === "token_mismatch") return refused(state);
    if (state === "superseded") return refused("device_cookie_superseded");
    if (state === "reuse_detected") {
      log("session.reuse_detected", { sid: session.sid, sub: session.sub, gen: found.token.gen, current: session.gen });
      await revoke(session, "reuse_detected");
      return refused(state);
    }
    if (state === "current" && deviceTokenExpired(session, now(), policy)) return refused("device_cookie_expired");
    if (!(await bindingHolds(session, client))) return refused("binding_mismatch");
    // A previous token in its grace window gets the successor back, unless the session is device-bound (only the
    // device's proof renews it) or this is an upgrade (a 101 cannot carry the cookie).
    const handsOn = via === "cookie" && !credential.upgrade && session.device === undefined;
    if (typeof state === "object") return { status: "valid", session, via, token, setToken: handsOn ? state.successor : undefined };
    if (state === "stale_read") return { status: "valid", session, via, token };
    return refresh(session, { token, via, rotatable: via === "cookie" && !credential.upgrade }, background);
  }

  /**
   * Rotates a cookie session that is due, or records its use when the stored
   * `lastSeenAt` is stale enough (after the response). Returns the session as
   * it now stands, so what the request reports (`idle_expires_at`) is current.
   */
  async function refresh(
    session: SessionRecord,
    request: { token: string; via: Via; rotatable: boolean },
    background: Background,
  ): Promise<Authentication> {
    const { token, via, rotatable } = request;
    const time = now();
    if (rotationDue(session, rotatable, time, policy)) {
      const successor = await successorOf(token, keys.rotation);
      // A rotation that fails (store down mid-write) leaves the current token valid: the request goes on with it.
      const rotated = await advance(session, successor).catch(() => undefined);
      if (rotated) return { status: "valid", session: rotated, via, token, setToken: successor };
    } else if (touchDue(session, time, policy)) {
      const touched = { ...session, lastSeenAt: time };
      const write = store.update(touched, remainingLife(session, time));
      background(write.catch((error: unknown) => log("store.error", { operation: "touch", sid: session.sid, error: String(error) })));
      return { status: "valid", session: touched, via, token };
    }
    return { status: "valid", session, via, token };
  }

  return { authenticate };
}
