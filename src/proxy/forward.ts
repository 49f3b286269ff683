import type { Context } from "hono";
import type { Config } from "../config/types";
import { GateError } from "../errors";
import { type GateEnv, waitUntil } from "../http/context";
import { type Logger, outageFields } from "../log";
import type { AssertionSigner } from "../assertion/sign";
import type { Transitions } from "../session/transitions";
import { type SessionRecord, StoreUnavailableError } from "../store/types";
import { readOriginInstructions } from "./instructions";
import { upstreamRequest, upstreamUrl } from "./upstream";
import { type WebSocketActivity, proxyWebSocket } from "./websocket";
import { isWebSocketUpgrade } from "../http/client";
import { hashToken } from "../session/token";

/** Options of {@link forward}. */
export interface ForwardOptions {
  config: Config;
  transitions: Transitions;
  /** Whether an open WebSocket's session still stands (src/session/device.ts `stillValid`). */
  stillValid(tokenHash: string, activity: WebSocketActivity): Promise<boolean>;
  log: Logger;
  now: () => number;
  /** Signs `X-Gate-Assertion` for a request with a session (src/assertion/). */
  signAssertion: AssertionSigner;
}

/**
 * The last step: sends the request to the origin (service binding or URL)
 * and carries out what the origin's reply says about sessions. Redirects and
 * the origin's own cookies reach the client unchanged.
 */
export function forward(options: ForwardOptions) {
  const { config, log, now } = options;
  const binding = config.origin.binding;
  const send = binding ? (request: Request) => binding.fetch(request) : (request: Request) => fetch(request);
  const instructions = { originSecret: config.secrets.origin, transitions: options.transitions, log, now };

  /**
   * The assertion of a request with a session. When the keyset cannot be read
   * (store down, nothing cached), a `session` route fails with 503 and a
   * `public` route is forwarded without identity, as on any store outage.
   */
  async function assertionFor(c: Context<GateEnv>, session: SessionRecord, url: URL): Promise<string | undefined> {
    const route = c.get("route");
    try {
      const request = { url, path: c.get("path"), method: c.req.method, audience: route.audience, session };
      return await options.signAssertion(request, (work) => waitUntil(c, work));
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || route.access !== "public") throw error;
      log("store.error", { ...outageFields(error), request_id: c.get("requestId") });
      return undefined;
    }
  }

  /** Sends to the origin, timing the wait for its response headers (`originTime`); unreachable is 502. */
  async function sendTimed(c: Context<GateEnv>, request: Request): Promise<Response> {
    const start = performance.now();
    try {
      return await send(request);
    } catch (error) {
      log("origin.error", { error: String(error), request_id: c.get("requestId") });
      throw new GateError("bad_gateway");
    } finally {
      c.set("originTime", performance.now() - start);
    }
  }

  return async function forward(c: Context<GateEnv>, _tools?: unknown): Promise<Response> {
    const auth = c.get("auth");
    const incoming = new URL(c.req.url);
    const valid = auth?.status === "valid" ? auth.session : undefined;
    const assertion = valid && (await assertionFor(c, valid, incoming));
    // Identity goes all together or not at all: never X-Gate-User without its assertion.
    const session = assertion ? valid : undefined;
    const base = config.origin.url ?? new URL(incoming.origin);
    const request = upstreamRequest(upstreamUrl(base, c.get("path"), incoming.search), {
      request: c.req.raw,
      path: c.get("path"),
      clientIp: c.get("clientIp"),
      cookieName: config.cookie.name,
      session,
      assertion,
      requestId: c.get("requestId"),
    });
    if (isWebSocketUpgrade(c.req.raw)) return socket(c, request, session);
    const response = await sendTimed(c, request);
    await readOriginInstructions(c, response, instructions);
    return response;
  };

  /**
   * A WebSocket (contract §11): the gate terminates it and relays to the
   * origin's, so it can end it with 1008 when the session ends, rechecked every
   * `websocket.recheck` and at the absolute end. Public routes relay without a
   * session to watch. The origin's answer is not read for X-Gate-Login: a 101
   * cannot carry a cookie back.
   */
  async function socket(c: Context<GateEnv>, request: Request, session: SessionRecord | undefined): Promise<Response> {
    const auth = c.get("auth");
    const tokenHash = session && auth?.status === "valid" ? await hashToken(auth.token) : undefined;
    const fields = { request_id: c.get("requestId"), sid: session?.sid, route: c.get("route").path };
    return proxyWebSocket(request, {
      // An origin that refuses the upgrade answers like any response: its X-Gate-Login or X-Gate-Logout is carried out.
      send: async (upgrade) => {
        const answer = await sendTimed(c, upgrade);
        if (answer.status !== 101) await readOriginInstructions(c, answer, instructions);
        return answer;
      },
      now,
      recheckEvery: config.websocket.recheck,
      maxRechecks: config.websocket.maxRechecks,
      endsAt: session ? socketEnd(session, config.session.deviceCookieTtl) : Number.POSITIVE_INFINITY,
      recheck: tokenHash ? (activity) => options.stillValid(tokenHash, activity) : undefined,
      onClose: (event) => log("session.websocket_closed", { ...fields, reason: event.reason, code: event.code, detail: event.detail }),
    });
  }
}

/**
 * When a socket must end at the latest: the session's absolute end, and for a
 * device-bound session the end of the cookie token it was opened with, so a
 * stolen cookie buys no socket longer than the cookie (contract §12). The
 * page reconnects with the cookie its device refreshed.
 */
function socketEnd(session: SessionRecord, deviceCookieTtl: number): number {
  return session.device ? Math.min(session.expiresAt, session.rotatedAt + deviceCookieTtl) : session.expiresAt;
}
