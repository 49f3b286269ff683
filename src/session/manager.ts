import type { Config } from "../config/types";
import type { Logger } from "../log";
import type { GateKeys } from "./keys";
import { CorruptRecordError, type SessionRecord, type SessionStore } from "../store/types";
import { fingerprintOf } from "./fingerprint";
import { hashToken, isTokenShaped, newSid, newToken, successorOf } from "./token";

/** Where a token came from: cookies rotate and are CSRF-checked; bearer tokens do neither. */
export type Via = "cookie" | "bearer";

/** The connection facts the manager needs. */
export interface Client {
  ip: string;
  userAgent: string;
}

/** The outcome of checking a token. */
export type Authentication =
  | { status: "valid"; session: SessionRecord; via: Via; token: string; setToken?: string }
  | { status: "invalid"; reason: string };

/** Who logged in, as the origin said in `X-Gate-Login` or an admin in the API. */
export interface Identity {
  sub: string;
  roles: string[];
  claims?: Record<string, unknown>;
}

/** Dependencies of the session manager. */
export interface SessionManagerOptions {
  config: Config;
  store: SessionStore;
  keys: GateKeys;
  now: () => number;
  log: Logger;
}

/** How long a finished rotation is remembered for requests racing it (ms). */
const ROTATION_MEMORY = 1_000;

/**
 * A rotation that never settles (its request was cancelled mid-write) is
 * forgotten after this long (ms), so that no entry stays forever.
 */
const ROTATION_GIVE_UP = 30_000;

/** A rotation in progress (`settledAt` unset) or finished. */
type Rotation = { pending: Promise<SessionRecord | undefined>; startedAt: number; settledAt?: number };

/** Longest gap between two writes of `lastSeenAt`; see {@link touchInterval}. */
const MAX_TOUCH_INTERVAL = 60_000;

/**
 * How stale `lastSeenAt` may get before a request rewrites it: 10 % of the idle
 * timeout, at most 60 s. KV takes one write per second per key, so a session is
 * not written on every request; the price is that a session can end up to this
 * interval before `idle_timeout` after its true last use, never after.
 */
export const touchInterval = (idleTimeout: number) => Math.min(MAX_TOUCH_INTERVAL, Math.max(1_000, idleTimeout / 10));

/**
 * The session manager: validates, rotates, creates and revokes sessions over a
 * {@link SessionStore}. Every policy decision (timeouts, rotation, reuse,
 * binding) is made here, once, for every backend.
 */
export function createSessionManager(options: SessionManagerOptions) {
  const { config, store, keys, now, log } = options;
  const policy = config.session;
  /**
   * Rotations in progress or just finished, by `sid:gen`; a finished one stays
   * {@link ROTATION_MEMORY} ms (manager clock) for requests that read the session
   * just before it landed. Swept on the next rotation, not by a timer: workerd
   * cancels a request's timers once its response is sent, so a `setTimeout`
   * cleanup never ran and the map grew with every rotation.
   */
  const inflight = new Map<string, Rotation>();
  const remaining = (session: SessionRecord) => session.expiresAt - now();

  async function revoke(session: Pick<SessionRecord, "sid" | "sub"> & Partial<SessionRecord>, reason: string): Promise<void> {
    await store.revoke(session.sid, session.sub, session.expiresAt ? Math.max(1, remaining(session as SessionRecord)) : policy.absoluteTimeout);
    log("session.revoked", { sid: session.sid, sub: session.sub, reason });
  }

  /**
   * Rotates once per isolate however many requests race; the successor is
   * deterministic anyway. Resolves the rotated session, or `undefined` when the
   * rotation was not written (the current token then stays valid).
   */
  function rotate(session: SessionRecord, successor: string): Promise<SessionRecord | undefined> {
    const key = `${session.sid}:${session.gen}`;
    const at = now();
    for (const [other, rotation] of inflight) {
      const forgotten = rotation.settledAt === undefined ? at - rotation.startedAt >= ROTATION_GIVE_UP : at - rotation.settledAt >= ROTATION_MEMORY;
      if (forgotten) inflight.delete(other);
    }
    let rotation = inflight.get(key);
    if (!rotation) {
      const started: Rotation = {
        startedAt: at,
        pending: (async () => {
          const time = now();
          const next = { ...session, gen: session.gen + 1, tokenHash: await hashToken(successor), rotatedAt: time, lastSeenAt: time };
          if (!(await store.rotate(next, remaining(session)))) return undefined;
          log("session.rotated", { sid: session.sid, sub: session.sub, gen: next.gen });
          return next;
        })().catch((error: unknown) => {
          log("store.error", { operation: "rotate", sid: session.sid, error: String(error) });
          return undefined;
        }),
      };
      void started.pending.then(() => (started.settledAt = now()));
      inflight.set(key, (rotation = started));
    }
    return rotation.pending;
  }

  /** The token's own state against its session: current, previous (grace or reuse), or from a stale read. */
  async function generation(token: string, tokenHash: string, pointerGen: number, session: SessionRecord) {
    if (pointerGen === session.gen) return tokenHash === session.tokenHash ? "current" : "mismatch";
    if (pointerGen > session.gen) return "stale-read";
    const successor = await successorOf(token, keys.rotation);
    if (pointerGen === session.gen - 1 && (await hashToken(successor)) === session.tokenHash) {
      return now() < session.rotatedAt + policy.rotationGrace ? { successor } : "reuse";
    }
    return "reuse";
  }

  function expired(session: SessionRecord): string | undefined {
    const time = now();
    if (time >= session.expiresAt) return "absolute_timeout";
    if (session.idleTimeout !== null && time >= session.lastSeenAt + session.idleTimeout) return "idle_timeout";
    return undefined;
  }

  /**
   * Checks a presented token. `tokenHash` is computed by the caller, so the
   * store look-up is issued at once, in the same tick as whatever the caller
   * sends alongside it (the rate limiter's check: one round trip).
   */
  async function authenticate(
    credential: { token: string; tokenHash?: string; via: Via },
    client: Client,
    background: (work: Promise<unknown>) => void,
  ): Promise<Authentication> {
    const { token, tokenHash, via } = credential;
    if (!isTokenShaped(token) || tokenHash === undefined) return { status: "invalid", reason: "malformed" };
    let found;
    try {
      found = await store.lookup(tokenHash);
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      log("store.corrupt", { error: error.message });
      return { status: "invalid", reason: "corrupt_record" };
    }
    if (!found) return { status: "invalid", reason: "unknown_token" };
    const { session } = found;
    if (found.revoked) return { status: "invalid", reason: "revoked" };
    if (!session || session.sid !== found.token.sid) return { status: "invalid", reason: "no_session" };
    const ended = expired(session);
    if (ended) {
      log("session.expired", { sid: session.sid, sub: session.sub, reason: ended });
      return { status: "invalid", reason: ended };
    }
    const state = await generation(token, tokenHash, found.token.gen, session);
    if (state === "mismatch") return { status: "invalid", reason: "token_mismatch" };
    if (state === "reuse") {
      log("session.reuse_detected", { sid: session.sid, sub: session.sub, gen: found.token.gen, current: session.gen });
      await revoke(session, "reuse_detected");
      return { status: "invalid", reason: "reuse_detected" };
    }
    if (!(await bindingHolds(session, client))) return { status: "invalid", reason: "binding_mismatch" };
    if (typeof state === "object") return { status: "valid", session, via, token, setToken: via === "cookie" ? state.successor : undefined };
    if (state === "stale-read") return { status: "valid", session, via, token };
    return refresh(session, token, via, background);
  }

  async function bindingHolds(session: SessionRecord, client: Client): Promise<boolean> {
    if (policy.binding === "off" || session.fingerprint === "") return true;
    const seen = fingerprintOf(client.userAgent, client.ip);
    if (seen === session.fingerprint) return true;
    log("session.binding_mismatch", { sid: session.sid, sub: session.sub, expected: session.fingerprint, seen, mode: policy.binding });
    if (policy.binding === "report") return true;
    await revoke(session, "binding_mismatch");
    return false;
  }

  /**
   * Rotates a cookie session that is due, or records its use when the last
   * record is stale enough (after the response). Returns the session as it now
   * stands, so what the request reports (`idle_expires_at`) is current.
   */
  async function refresh(session: SessionRecord, token: string, via: Via, background: (work: Promise<unknown>) => void): Promise<Authentication> {
    const time = now();
    if (via === "cookie" && session.rotates && time >= session.rotatedAt + policy.rotateEvery) {
      const successor = await successorOf(token, keys.rotation);
      const rotated = await rotate(session, successor);
      if (rotated) return { status: "valid", session: rotated, via, token, setToken: successor };
    } else if (time - session.lastSeenAt >= touchInterval(session.idleTimeout ?? policy.idleTimeout)) {
      const touched = { ...session, lastSeenAt: time };
      background(store.update(touched, remaining(session)).catch((error: unknown) => log("store.error", { operation: "touch", sid: session.sid, error: String(error) })));
      return { status: "valid", session: touched, via, token };
    }
    return { status: "valid", session, via, token };
  }

  /** Creates a session for `identity` and returns its first token. */
  async function create(identity: Identity, client: Client, lifetime: { ttl: number; idleTimeout: number | null; rotates: boolean }) {
    const token = newToken();
    const time = now();
    const session: SessionRecord = {
      sid: newSid(),
      sub: identity.sub,
      roles: identity.roles,
      claims: identity.claims,
      createdAt: time,
      authTime: time,
      lastSeenAt: time,
      expiresAt: time + lifetime.ttl,
      idleTimeout: lifetime.idleTimeout,
      gen: 0,
      tokenHash: await hashToken(token),
      rotatedAt: time,
      rotates: lifetime.rotates,
      fingerprint: lifetime.rotates ? fingerprintOf(client.userAgent, client.ip) : "",
      userAgent: client.userAgent.slice(0, 256),
      ip: client.ip,
    };
    await store.create(session, lifetime.ttl);
    log("session.created", { sid: session.sid, sub: session.sub, via: lifetime.rotates ? "cookie" : "bearer" });
    return { token, session };
  }

  return {
    authenticate,
    revoke,
    /** A browser login: a cookie session with the configured timeouts. */
    login: (identity: Identity, client: Client) =>
      create(identity, client, { ttl: policy.absoluteTimeout, idleTimeout: policy.idleTimeout, rotates: true }),
    /** An API session from the admin API: a bearer token that neither rotates nor idles out. */
    issueBearer: (identity: Identity, client: Client, ttl: number) => create(identity, client, { ttl, idleTimeout: null, rotates: false }),
    /** Ends every session of a user; returns how many were found in the index. */
    async revokeUser(sub: string, reason: string): Promise<number> {
      const sessions = await store.listUser(sub);
      await Promise.all(sessions.map((session) => revoke(session, reason)));
      return sessions.length;
    },
    /** The live sessions of a user. */
    async list(sub: string): Promise<SessionRecord[]> {
      return (await store.listUser(sub)).filter((session) => expired(session) === undefined);
    },
    get: (sid: string) => store.get(sid),
  };
}

/** The session manager's interface, as the rest of the gate sees it. */
export type SessionManager = ReturnType<typeof createSessionManager>;
