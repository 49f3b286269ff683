import type { GateKeys } from "../derive";
import type { Logger } from "../log";
import type { DeviceKey, SessionRecord, SessionStore } from "../store/types";
import { type SessionPolicy, expiryOf, remainingLife, touchDue } from "./decide";
import { refreshSuccessorOf, successorOf } from "./token";

/** Dependencies of {@link createDeviceSessions}. */
export interface DeviceSessionOptions {
  policy: SessionPolicy;
  store: SessionStore;
  keys: GateKeys;
  now: () => number;
  log: Logger;
  advance(session: SessionRecord, successor: string, patch?: Partial<SessionRecord>): Promise<SessionRecord | undefined>;
}

/**
 * What a session can do besides answering a request: be bound to a device key
 * and refreshed with its proof (W3C DBSC, contract §12), and be rechecked from
 * a long-lived WebSocket (§11). The protocol itself (headers, challenges,
 * proofs) is src/dbsc/; this is what it does to sessions.
 */
export function createDeviceSessions(options: DeviceSessionOptions) {
  const { policy, store, keys, now, log, advance } = options;

  const refreshSuccessor = (session: SessionRecord) => refreshSuccessorOf(session.sid, session.tokenHash, keys.rotation);

  return {
    /**
     * Binds the session to `key` and issues its first bound cookie token (a new
     * generation): the cookie issued before it keeps only its grace window.
     * `undefined` when the store refused (the session was revoked or moved on).
     */
    async bind(session: SessionRecord, token: string, key: DeviceKey): Promise<{ session: SessionRecord; token: string } | undefined> {
      const successor = await successorOf(token, keys.rotation);
      const bound = await advance(session, successor, { device: key });
      // A scheduled rotation of the same generation in flight in this isolate wins the de-duplication and
      // carries no key: the session is not bound, and the registration must not say it is.
      if (!bound?.device) return undefined;
      log("session.device_bound", { sid: session.sid, sub: session.sub, jkt: key.jkt, alg: key.alg });
      return { session: bound, token: successor };
    },

    /** A bound session's next cookie token, after its device proved it holds the key. */
    async refresh(session: SessionRecord): Promise<{ session: SessionRecord; token: string } | undefined> {
      const successor = await refreshSuccessor(session);
      const refreshed = await advance(session, successor);
      if (!refreshed) return undefined;
      log("session.device_refreshed", { sid: session.sid, sub: session.sub, gen: refreshed.gen });
      return { session: refreshed, token: successor };
    },

    /**
     * Whether the session behind an open WebSocket still stands: not revoked,
     * not past its absolute end, not idle (the socket's own traffic counts as
     * use, `since` its last message), touching `lastSeenAt` at most once per
     * touch interval. The look-up is by the handshake's token, whose pointer
     * names the session whatever rotations came since. An outage rejects: the
     * socket stays open and the next recheck tries again.
     */
    async stillValid(tokenHash: string, activity: { messages: number; since: number }): Promise<boolean> {
      const found = await store.lookup(tokenHash).catch((error: unknown) => {
        log("store.error", { operation: "websocket_recheck", error: String(error) });
        throw error;
      });
      const session = found?.session;
      if (!found || found.revoked || !session || session.sid !== found.token.sid) return false;
      const used = activity.messages > 0 ? { ...session, lastSeenAt: Math.max(session.lastSeenAt, activity.since) } : session;
      if (expiryOf(used, now()) !== undefined) return false;
      if (activity.messages > 0 && touchDue(session, activity.since, policy)) await store.update(used, remainingLife(session, now()));
      return true;
    },
  };
}
