import { bridge, type WebSocketCloseEvent } from "./websocket-bridge";
import { MAX_TIMER_DELAY, type WebSocketActivity } from "./websocket-watch";

export type { WebSocketCloseEvent, WebSocketCloseReason } from "./websocket-bridge";
export type { WebSocketActivity } from "./websocket-watch";

/** Options of {@link proxyWebSocket}. Durations and times are milliseconds, on the `now()` clock. */
export interface WebSocketProxyOptions {
  /** Sends the upgrade to the origin: `fetch`, or a service binding's `fetch`. Its rejection is passed on. */
  send(request: Request): Promise<Response>;
  /** The gate's clock (ms since the epoch), injected as everywhere else. */
  now(): number;
  /** Time between two calls of `recheck`; used only with `recheck`. At most MAX_TIMER_DELAY. */
  recheckEvery: number;
  /** The session's absolute end; the connection is ended at that moment. `Infinity` for public routes. */
  endsAt: number;
  /**
   * Asks whether the session still stands, given the traffic since the last
   * answer (use for the idle timeout, without a store write per message).
   * `false` ends the connection; a rejection keeps it, and is retried at the
   * next tick, so log the failure in here. Undefined for public routes.
   */
  recheck?(activity: WebSocketActivity): Promise<boolean>;
  /** After this many rechecks the connection ends with 1012 "reconnect" while its session stands; default: never. */
  maxRechecks?: number;
  /** Told once how the connection ended (for `session.websocket_closed`); what it throws is ignored. */
  onClose?(event: WebSocketCloseEvent): void;
}

/**
 * Headers of the client's handshake that belong to the runtime: workerd's
 * fetch() makes its own key, version and `Connection: Upgrade` for the origin
 * hop (the client's were dropped, measured), and answers the client with its own accept.
 */
const RUNTIME_HANDSHAKE = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-accept"];

/**
 * The upgrade as the origin gets it: `Upgrade: websocket` (set again, since
 * the gate strips it as hop-by-hop) is all workerd needs to upgrade. The
 * client's `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` offers stay:
 * workerd rewrites the extension offer to what it supports itself
 * (permessage-deflate), so the origin hop can compress.
 */
function upgradeRequest(upstream: Request): Request {
  const headers = new Headers(upstream.headers);
  for (const name of RUNTIME_HANDSHAKE) headers.delete(name);
  headers.set("Upgrade", "websocket");
  return new Request(upstream, { headers });
}

/**
 * The client's 101. Only the origin's choice of subprotocol is copied: the
 * runtime writes Upgrade, Connection and Sec-WebSocket-Accept, and negotiates
 * compression per hop (the origin's `Sec-WebSocket-Extensions` describes the
 * other hop, and copied would claim what the client hop may not use). Anything
 * else the origin put on its 101 (cookies, `X-Gate-*`, `Server`) stays out:
 * the gate's response middleware passes a 101 undecorated and unfiltered.
 */
function clientHandshake(fromOrigin: Response, client: WebSocket): Response {
  const headers = new Headers();
  const protocol = fromOrigin.headers.get("sec-websocket-protocol");
  if (protocol) headers.set("Sec-WebSocket-Protocol", protocol);
  return new Response(null, { status: 101, webSocket: client, headers });
}

/** Accepts `ws` for the relay: binary as ArrayBuffer, closes answered by the relay itself. */
function acceptForRelay(ws: WebSocket): void {
  // From compat 2026-03-17 binary messages arrive as Blob, and send(blob) sends the text "[object Blob]".
  ws.binaryType = "arraybuffer";
  // No automatic reply to a Close frame, whatever the compat date (auto-reply is the default from
  // 2026-04-07): the relay answers each side itself, so a date bump changes nothing here.
  ws.accept({ allowHalfOpen: true });
}

/** Fails at once for timings no timer can keep. */
function checkTimings(options: WebSocketProxyOptions): void {
  const every = options.recheckEvery;
  if (options.recheck && !(every > 0 && every <= MAX_TIMER_DELAY)) {
    throw new RangeError(`recheckEvery must be between 1 and ${MAX_TIMER_DELAY} ms, not ${every}`);
  }
  if (Number.isNaN(options.endsAt)) throw new RangeError("endsAt must be a time or Infinity, not NaN");
}

/**
 * A terminating WebSocket proxy (contract §11): sends `upstream` (the request
 * already built for the origin, identity headers set) as an upgrade, and
 * answers with a 101 whose socket the gate holds, so it can end it itself:
 * 1008 "session ended" to the client (and 1000 to the origin) when `recheck`
 * says the session ended or `endsAt` passes. Messages, close codes and reasons
 * pass both ways unchanged where the wire allows (see `sendableClose`). An
 * origin that refuses the upgrade (any status but 101) is returned as it is,
 * for the gate to handle like any response.
 */
export async function proxyWebSocket(upstream: Request, options: WebSocketProxyOptions): Promise<Response> {
  checkTimings(options);
  const fromOrigin = await options.send(upgradeRequest(upstream));
  const origin = fromOrigin.webSocket;
  if (fromOrigin.status !== 101 || !origin) return fromOrigin;
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  acceptForRelay(origin);
  acceptForRelay(server);
  bridge(server, origin, options);
  return clientHandshake(fromOrigin, client);
}
