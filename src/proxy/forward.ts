import type { Context } from "hono";
import type { Config } from "../config/types";
import type { GateEnv } from "../http/context";
import type { Logger } from "../log";
import type { SessionManager } from "../session/manager";
import { GateError } from "../errors";
import { upstreamRequest, upstreamUrl } from "./upstream";
import { readOriginInstructions } from "./instructions";

/** Options of {@link forward}. */
export interface ForwardOptions {
  config: Config;
  sessions: SessionManager;
  log: Logger;
  now: () => number;
}

/**
 * The last step: sends the request to the origin (service binding or URL)
 * and carries out what the origin's reply says about sessions. Redirects and
 * the origin's own cookies reach the client unchanged.
 */
export function forward(options: ForwardOptions) {
  const { config, log } = options;
  const send = config.origin.binding
    ? (request: Request) => config.origin.binding!.fetch(request)
    : (request: Request) => fetch(request);
  return async function forward(c: Context<GateEnv>): Promise<Response> {
    const auth = c.get("auth");
    const session = auth?.status === "valid" ? auth.session : undefined;
    const incoming = new URL(c.req.url);
    const base = config.origin.url ?? new URL(incoming.origin);
    const request = upstreamRequest(upstreamUrl(base, c.get("path"), incoming.search), {
      request: c.req.raw,
      path: c.get("path"),
      clientIp: c.get("clientIp"),
      cookieName: config.cookie.name,
      session,
      requestId: c.get("requestId"),
    });
    let response: Response;
    try {
      response = await send(request);
    } catch (error) {
      log("origin.error", { error: String(error), request_id: c.get("requestId") });
      throw new GateError("bad_gateway");
    }
    await readOriginInstructions(c, response, options);
    return response;
  };
}
