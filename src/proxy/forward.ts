import type { Context } from "hono";
import type { Config } from "../config/types";
import type { GateEnv } from "../http/context";
import type { Logger } from "../log";
import type { SessionManager } from "../session/manager";
import { GateError } from "../errors";
import { upstreamRequest, upstreamUrl } from "./upstream";
import { readOriginInstructions } from "./instructions";
import type { AssertionSigner } from "../assertion/sign";
import type { SessionRecord } from "../store/types";
import { StoreUnavailableError } from "../store/types";
import { waitUntil } from "../http/admit";

/** Options of {@link forward}. */
export interface ForwardOptions {
  config: Config;
  sessions: SessionManager;
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
  const { config, log } = options;
  const send = config.origin.binding
    ? (request: Request) => config.origin.binding!.fetch(request)
    : (request: Request) => fetch(request);
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
      log("store.error", { operation: "keyset", error: error.message, request_id: c.get("requestId") });
      return undefined;
    }
  }

  return async function forward(c: Context<GateEnv>): Promise<Response> {
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
