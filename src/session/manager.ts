import type { GateKeys } from "../derive";
import type { Logger } from "../log";
import { CorruptRecordError, type Lookup, type SessionRecord, type SessionStore } from "../store/types";
import {
  type RefusalReason,
  type RevocationReason,
  type SessionPolicy,
  bindingVerdict,
  expiryOf,
  remainingLife,
  rotationDue,
  touchDue,
  withinGrace,
} from "./decide";
import { type Lifetime, newSession } from "./create";
import { fingerprintOf } from "./fingerprint";
import { createRotations } from "./rotation";
import { hashToken, isTokenShaped, successorOf } from "./token";
import type { Authentication, Background, Client, Credential, Identity, Via } from "./types";

export type { Authentication, Background, Client, Credential, Identity, Via } from "./types";

/** Dependencies of the session manager. */
export interface SessionManagerOptions {
  policy: SessionPolicy;
  store: SessionStore;
  keys: GateKeys;
  now: () => number;
  log: Logger;
}

/** A token's standing against its session: current, the previous one in its grace window (with its successor), or not acceptable. */
type Standing = "current" | "stale_read" | { successor: string } | "token_mismatch" | "reuse_detected";

const refused = (reason: RefusalReason): Authentication => ({ status: "invalid", reason });

/**
 * The session manager: validates, rotates, creates and revokes sessions over a
 * {@link SessionStore}. The rules themselves are the pure functions of
 * `decide.ts`; this applies them to what the store holds, for every backend.
 */
export function createSessionManager(options: SessionManagerOptions) {
  const { policy, store, keys, now, log } = options;
  const rotations = createRotations<SessionRecord | undefined>(now);

  async function revoke(session: Pick<SessionRecord, "sid" | "sub"> & Partial<SessionRecord>, reason: RevocationReason): Promise<void> {
    await store.revoke(session.sid, session.sub, session.expiresAt ? remainingLife(session as SessionRecord, now()) : policy.absoluteTimeout);
    log("session.revoked", { sid: session.sid, sub: session.sub, reason });
  }

  /** Rotates once per isolate however many requests race; `undefined` when the store refused the write (the token stays valid). */
  function rotate(session: SessionRecord, successor: string): Promise<SessionRecord | undefined> {
    return rotations.once(`${session.sid}:${session.gen}`, async () => {
      try {
        const time = now();
        const next = { ...session, gen: session.gen + 1, tokenHash: await hashToken(successor), rotatedAt: time, lastSeenAt: time };
        if (!(await store.rotate(next, remainingLife(session, time)))) return undefined;
        log("session.rotated", { sid: session.sid, sub: session.sub, gen: next.gen });
        return next;
      } catch (error) {
        log("store.error", { operation: "rotate", sid: session.sid, error: String(error) });
        return undefined;
      }
    });
  }

  /** The token's standing: the pointer's generation against the session's; only the previous one needs its successor computed. */
  async function standing(token: string, tokenHash: string, pointerGen: number, session: SessionRecord): Promise<Standing> {
    if (pointerGen === session.gen) return tokenHash === session.tokenHash ? "current" : "token_mismatch";
    if (pointerGen > session.gen) return "stale_read";
    if (pointerGen < session.gen - 1) return "reuse_detected";
    const successor = await successorOf(token, keys.rotation);
    if ((await hashToken(successor)) !== session.tokenHash) return "reuse_detected";
    return withinGrace(session, now(), policy) ? { successor } : "reuse_detected";
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
    if (state === "reuse_detected") {
      log("session.reuse_detected", { sid: session.sid, sub: session.sub, gen: found.token.gen, current: session.gen });
      await revoke(session, "reuse_detected");
      return refused(state);
    }
    if (!(await bindingHolds(session, client))) return refused("binding_mismatch");
    if (typeof state === "object") return { status: "valid", session, via, token, setToken: via === "cookie" ? state.successor : undefined };
    if (state === "stale_read") return { status: "valid", session, via, token };
    return refresh(session, token, via, background);
  }

  /**
   * Rotates a cookie session that is due, or records its use when the stored
   * `lastSeenAt` is stale enough (after the response). Returns the session as
   * it now stands, so what the request reports (`idle_expires_at`) is current.
   */
  async function refresh(session: SessionRecord, token: string, via: Via, background: Background): Promise<Authentication> {
    const time = now();
    if (rotationDue(session, via === "cookie", time, policy)) {
      const successor = await successorOf(token, keys.rotation);
      const rotated = await rotate(session, successor);
      if (rotated) return { status: "valid", session: rotated, via, token, setToken: successor };
    } else if (touchDue(session, time, policy)) {
      const touched = { ...session, lastSeenAt: time };
      const write = store.update(touched, remainingLife(session, time));
      background(write.catch((error: unknown) => log("store.error", { operation: "touch", sid: session.sid, error: String(error) })));
      return { status: "valid", session: touched, via, token };
    }
    return { status: "valid", session, via, token };
  }

  /** Creates a session and returns its first token; `session.created` names how it authenticates. */
  async function create(identity: Identity, client: Client, lifetime: Lifetime) {
    const created = await newSession(identity, client, lifetime, now());
    await store.create(created.session, lifetime.ttl);
    log("session.created", { sid: created.session.sid, sub: created.session.sub, via: lifetime.rotates ? "cookie" : "bearer" });
    return created;
  }

  /**
   * Ends every session of a user, and `also` (the current session, which on
   * KV the user index may not list yet), each once. Returns how many were ended.
   */
  async function revokeUser(sub: string, reason: RevocationReason, also?: SessionRecord): Promise<number> {
    const sessions = new Map((await store.listUser(sub)).map((session) => [session.sid, session]));
    if (also) sessions.set(also.sid, also);
    await Promise.all([...sessions.values()].map((session) => revoke(session, reason)));
    return sessions.size;
  }

  return {
    authenticate,
    revoke,
    revokeUser,
    /** A browser login: a cookie session with the configured timeouts. */
    login: (identity: Identity, client: Client) => create(identity, client, { ttl: policy.absoluteTimeout, idleTimeout: policy.idleTimeout, rotates: true }),
    /** An API session from the admin API: a bearer token that neither rotates nor idles out. */
    issueBearer: (identity: Identity, client: Client, ttl: number) => create(identity, client, { ttl, idleTimeout: null, rotates: false }),
    /** The live sessions of a user. */
    list: async (sub: string) => (await store.listUser(sub)).filter((session) => expiryOf(session, now()) === undefined),
    get: (sid: string) => store.get(sid),
  };
}

/** The session manager's interface, as the rest of the gate sees it. */
export type SessionManager = ReturnType<typeof createSessionManager>;
