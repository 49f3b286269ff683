import { type WebSocketSide, safeClose, sendableClose, trySend } from "./websocket-close";
import { type SessionEnd, type SessionWatchOptions, type WebSocketActivity, watchSession } from "./websocket-watch";

/** Why a proxied connection ended. */
export type WebSocketCloseReason = SessionEnd | "client_closed" | "origin_closed" | "error";

/**
 * How a proxied connection ended, reported once. `code` is the code as the
 * ending side gave it (before {@link sendableClose}: 1005 and 1006 included), 1008
 * for a session end, 1011 for an error; `detail` is the close reason received, or the error.
 */
export interface WebSocketCloseEvent {
  reason: WebSocketCloseReason;
  code: number;
  detail?: string;
}

/** What {@link bridge} needs: the session watch's options, and who to tell when it is over. */
export interface BridgeOptions extends SessionWatchOptions {
  onClose?(event: WebSocketCloseEvent): void;
}

/** Contract §11: the client learns its session ended; the origin gets a normal close, with the same reason. */
const SESSION_END_TO_CLIENT = { code: 1008, reason: "session ended" };
const SESSION_END_TO_ORIGIN = { code: 1000, reason: "session ended" };
/**
 * A socket that has used its invocation's budget of store operations (one or
 * two per recheck; KV allows 1,000 per invocation) ends with 1012 "service
 * restart" while its session stands, for the client to reconnect on a fresh
 * invocation: past the budget every recheck would fail, and a failing recheck
 * keeps the socket, so a revocation would go unseen until the absolute end.
 */
const RECONNECT = { code: 1012, reason: "reconnect" };

/** What one side's listeners do to the connection as a whole. */
interface Connection {
  /** Records the first ending and stops the timers; false when the connection had already ended. */
  settle(event: WebSocketCloseEvent): boolean;
  /** Ends the connection for an error on `side`: 1011 both ways. */
  fail(side: WebSocketSide, error: unknown): void;
  traffic: WebSocketActivity;
  now(): number;
}

/**
 * Relays `from`'s messages to `to` unchanged (strings stay text, ArrayBuffers
 * binary), counting each, and passes `from`'s close on to `to`.
 *
 * Back-pressure: there is none to pass on. workerd's WebSocket has no
 * `bufferedAmount` and `send()` returns nothing, so a relay cannot see that a
 * reader has stopped reading: whatever the fast side sends is taken in and
 * queued in the isolate for the slow one. Measured locally in workerd: 200 MiB sent towards a client that had
 * stopped reading took workerd from 57 to 258 MB of RSS, all delivered in order
 * once it read again. On the edge the isolate has 128 MB, so such a connection
 * ends when the isolate is killed, taking its other requests with it. The only
 * cap is the runtime's per message (32 MiB received; more ends that socket with
 * 1009, which its peer sees as 1006, passed on here as 1011). A byte budget per
 * window would be rate limiting, not flow control, and could not bound the
 * queue either; only pass-through (`return fetch(request)`) has real flow
 * control, and it cannot end a session's socket with 1008.
 */
function relay(from: WebSocket, to: WebSocket, side: WebSocketSide, connection: Connection): void {
  from.addEventListener("message", (event) => {
    connection.traffic.messages += 1;
    connection.traffic.since = connection.now();
    const refused = trySend(to, event.data);
    if (refused !== undefined) connection.fail(side === "client" ? "origin" : "client", refused);
  });
  from.addEventListener("close", (event) => {
    connection.settle({ reason: `${side}_closed`, code: event.code, detail: event.reason || undefined });
    const close = sendableClose(event.code, event.reason, side);
    safeClose(to, close);
    // With allowHalfOpen the runtime does not answer a Close frame itself: this is the answer.
    safeClose(from, close);
  });
  from.addEventListener("error", (event) => connection.fail(side, event.error ?? event.message));
}

/** Calls `onClose`, whose failure (a logger that throws) must not stop the cleanup. */
function report(onClose: BridgeOptions["onClose"], event: WebSocketCloseEvent): void {
  try {
    onClose?.(event);
  } catch {
    // Nothing to do: the sockets are closed either way.
  }
}

/**
 * Pipes two accepted sockets into each other until either side closes, either
 * errs, or the session watch ends the connection; then closes both, clears
 * the timers and reports once through `onClose`. No listener throws.
 */
export function bridge(client: WebSocket, origin: WebSocket, options: BridgeOptions): void {
  let ended = false;
  const traffic = { messages: 0, since: options.now() };
  const connection: Connection = {
    traffic,
    now: options.now,
    settle(event) {
      if (ended) return false;
      ended = true;
      stop();
      report(options.onClose, event);
      return true;
    },
    fail(side, error) {
      // workerd fires "Network connection lost." on a socket after a clean close: not a failure then.
      if (!connection.settle({ reason: "error", code: 1011, detail: `${side}: ${describe(error)}` })) return;
      safeClose(side === "client" ? origin : client, { code: 1011, reason: `${side} error` });
      safeClose(side === "client" ? client : origin, { code: 1011 });
    },
  };
  const stop = watchSession(options, traffic, (why) => {
    const [toClient, toOrigin] = why === "recheck_budget" ? [RECONNECT, RECONNECT] : [SESSION_END_TO_CLIENT, SESSION_END_TO_ORIGIN];
    connection.settle({ reason: why, code: toClient.code });
    safeClose(client, toClient);
    safeClose(origin, toOrigin);
  });
  relay(client, origin, "client", connection);
  relay(origin, client, "origin", connection);
}

/** An error as one line for the log. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
