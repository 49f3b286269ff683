import type { GateKeys } from "../derive";
import type { Logger } from "../log";
import type { SessionRecord, SessionStore } from "../store/types";
import { createAuthenticator } from "./authenticate";
import { createDeviceSessions } from "./device";
import { type Lifetime, newSession } from "./create";
import { type RevocationReason, type SessionPolicy, evictions, expiryOf, remainingLife } from "./decide";
import { createRotations } from "./rotation";
import { hashToken } from "./token";
import type { Client, Identity } from "./types";

export type { Authentication, Background, Client, Credential, Identity, Via } from "./types";

/** Dependencies of the session manager. */
export interface SessionManagerOptions {
  policy: SessionPolicy;
  store: SessionStore;
  keys: GateKeys;
  now: () => number;
  log: Logger;
}

/**
 * The session manager: validates (src/session/authenticate.ts), rotates,
 * creates and revokes sessions over a {@link SessionStore}. The rules
 * themselves are the pure functions of `decide.ts`; this applies them to what
 * the store holds, for every backend.
 */
export function createSessionManager(options: SessionManagerOptions) {
  const { policy, store, now, log } = options;

  async function revoke(session: Pick<SessionRecord, "sid" | "sub"> & Partial<SessionRecord>, reason: RevocationReason): Promise<void> {
    await store.revoke(session.sid, session.sub, session.expiresAt ? remainingLife(session as SessionRecord, now()) : policy.absoluteTimeout);
    log("session.revoked", { sid: session.sid, sub: session.sub, reason });
  }

  /** Ends the user's least recently used sessions that one more would put past `max_per_user`. */
  async function makeRoom(sub: string): Promise<void> {
    const evicted = evictions(await store.listUser(sub), now(), policy.maxPerUser);
    await Promise.all(
      evicted.map(async (session) => {
        await store.revoke(session.sid, session.sub, remainingLife(session, now()));
        log("session.evicted", { sid: session.sid, sub: session.sub, reason: "max_per_user" });
      }),
    );
  }

  /** Creates a session and returns its first token; `session.created` names how it authenticates. */
  async function create(identity: Identity, client: Client, lifetime: Lifetime) {
    await makeRoom(identity.sub);
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

  const rotations = createRotations<SessionRecord | undefined>(now);

  /**
   * Moves a session to its next token generation (`patch` may change more, e.g.
   * bind a device key), once per isolate however many requests race: the
   * successor is deterministic anyway. `undefined` when the store refused the
   * write (revoked or moved on meanwhile: the current token stays valid); a
   * store outage rejects (logged once, however many requests share it).
   */
  function advance(session: SessionRecord, successor: string, patch: Partial<SessionRecord> = {}): Promise<SessionRecord | undefined> {
    return rotations.once(`${session.sid}:${session.gen}`, async () => {
      const time = now();
      const next = { ...session, ...patch, gen: session.gen + 1, tokenHash: await hashToken(successor), rotatedAt: time, lastSeenAt: time };
      try {
        if (!(await store.rotate(next, remainingLife(session, time)))) return undefined;
      } catch (error) {
        log("store.error", { operation: "rotate", sid: session.sid, error: String(error) });
        throw error;
      }
      log("session.rotated", { sid: session.sid, sub: session.sub, gen: next.gen });
      return next;
    });
  }

  const { authenticate } = createAuthenticator({ ...options, revoke, advance });
  const device = createDeviceSessions({ ...options, advance });

  return {
    authenticate,
    device,
    revoke,
    revokeUser,
    /** A browser login: a cookie session with the configured timeouts. */
    login: (identity: Identity, client: Client) =>
      create(identity, client, { ttl: policy.absoluteTimeout, idleTimeout: policy.idleTimeout, rotates: true }),
    /** An API session from the admin API: a bearer token that neither rotates nor idles out, recorded as the admin API's, not the admin's device. */
    issueBearer: (identity: Identity, ttl: number) =>
      create(identity, { ip: "", userAgent: "" }, { ttl, idleTimeout: null, rotates: false, issuedBy: "admin" }),
    /** The live sessions of a user. */
    list: async (sub: string) => (await store.listUser(sub)).filter((session) => expiryOf(session, now()) === undefined),
    get: (sid: string) => store.get(sid),
  };
}

/** The session manager's interface, as the rest of the gate sees it. */
export type SessionManager = ReturnType<typeof createSessionManager>;
