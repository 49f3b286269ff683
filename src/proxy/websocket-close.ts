/** Which socket of a proxied connection: the client's (the gate's end of the pair) or the origin's. */
export type WebSocketSide = "client" | "origin";

/** A close as `WebSocket.close()` can send it: no code at all (an empty Close frame), or a code and its reason. */
export interface SendableClose {
  code?: number;
  reason?: string;
}

/** Codes RFC 6455 §7.4 allows in a Close frame (1012–1014 are IANA-registered since). */
function isSendable(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * The close to pass on to one side for a close received from the other, code
 * and reason kept wherever the wire allows them. workerd's `close()` throws on
 * the codes that only describe a close and are never sent
 * (`InvalidAccessError: Invalid WebSocket close code: 1006.`), so:
 * - 1005 (the peer's Close frame had no code) becomes a Close frame without one,
 *   which the other side reads as 1005 again (measured with `ws`);
 * - 1006 (the peer dropped the connection without a Close frame) and 1015 (TLS
 *   failure) become 1011 "<side> connection lost": the other side should retry,
 *   as after a server error, rather than take it as a normal end;
 * - anything else not allowed on the wire (1004, 1016–2999, out of range) becomes 1011, reason kept.
 */
export function sendableClose(code: number, reason: string, from: WebSocketSide): SendableClose {
  if (code === 1005) return {};
  if (code === 1006 || code === 1015) return { code: 1011, reason: `${from} connection lost` };
  return { code: isSendable(code) ? code : 1011, reason };
}

/**
 * Starts (or answers) the closing handshake on `ws`, never throwing: a close on
 * a closed socket is nothing to do, and one the runtime refuses (a reason over
 * 123 UTF-8 bytes, a code it will not send) is retried with less, so the socket
 * is closed whatever it was given.
 */
export function safeClose(ws: WebSocket, close: SendableClose): void {
  if (ws.readyState === WebSocket.CLOSED) return;
  const attempts: Array<() => void> = [() => ws.close(close.code, close.reason), () => ws.close(close.code), () => ws.close()];
  for (const attempt of close.code === undefined ? attempts.slice(2) : attempts) {
    try {
      attempt();
      return;
    } catch {
      // A CLOSING socket may refuse on other runtimes; workerd ignores it. Try the plainer close.
    }
  }
}

/**
 * Sends `data` on `ws` if it is still open. Returns the error when an open
 * socket refused it, so the relay can end the connection instead of silently
 * dropping a message from the middle of the stream.
 */
export function trySend(ws: WebSocket, data: string | ArrayBuffer): unknown {
  if (ws.readyState !== WebSocket.OPEN) return undefined;
  try {
    ws.send(data);
    return undefined;
  } catch (error) {
    return error ?? new Error("send failed");
  }
}
