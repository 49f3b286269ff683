import type { Context } from "hono";
import type { GateEnv } from "../http/context";
import type { SessionRecord } from "../store/types";
import { type OidcDeps, gateOrigin } from "./deps";
import { OidcFailure } from "./failure";
import { isAllowedEndpoint } from "./oauth";

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): where a
 * browser whose session came from a provider goes after `POST /_gate/logout`,
 * or `undefined` to keep the gate's own answer. The provider's
 * `end_session_endpoint` with `client_id` and `post_logout_redirect_uri` =
 * the gate's public origin + `login_path` (register it with the provider).
 * No `id_token_hint`: the gate does not keep ID tokens. A provider without
 * the endpoint, or one that cannot be reached now, leaves the logout local
 * (the gate's session is over either way).
 */
export function createEndSession(deps: OidcDeps) {
  return async function endSessionUrl(c: Context<GateEnv>, session: SessionRecord): Promise<string | undefined> {
    const provider = session.idp === undefined ? undefined : deps.config.oidc.get(session.idp);
    if (!provider) return undefined;
    let endpoint: unknown;
    try {
      endpoint = (await deps.discovery(provider)).as.end_session_endpoint;
    } catch (error) {
      const detail = error instanceof OidcFailure ? error.reason : "error";
      deps.log("oidc.failed", {
        provider: provider.name,
        step: "rp_logout",
        reason: "rp_logout_unavailable",
        detail,
        request_id: c.get("requestId"),
      });
      return undefined;
    }
    if (!isAllowedEndpoint(endpoint, provider.issuer)) return undefined;
    const url = new URL(endpoint);
    url.searchParams.set("client_id", provider.clientId);
    url.searchParams.set("post_logout_redirect_uri", gateOrigin(deps.config, c) + deps.config.loginPath);
    return url.href;
  };
}

/** Where a provider's session's logout continues, if anywhere. */
export type EndSession = ReturnType<typeof createEndSession>;
