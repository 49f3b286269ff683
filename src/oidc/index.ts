import { Hono } from "hono";
import type { GateEnv } from "../http/context";
import { oidcBackchannelLogout } from "./backchannel";
import { oidcCallback } from "./callback";
import type { OidcDeps } from "./deps";
import { createDiscovery } from "./discovery";
import { oidcLogin } from "./login";
import { createEndSession } from "./rp-logout";
import { createTransactionSeal } from "./transaction";

export { OIDC_PREFIX, oidcPath } from "./deps";
export type { EndSession } from "./rp-logout";

/** What the gate's OIDC login is built from (src/app.ts). */
export type OidcOptions = Omit<OidcDeps, "discovery" | "seal">;

/**
 * The gate's OpenID Connect login (contract §10), for a gate with providers:
 * its endpoints, to mount at `/_gate/oidc`, and the RP-initiated logout for
 * `POST /_gate/logout`. Discovery and JWKS are cached in here, so once per
 * isolate; oauth4webapi is imported by the first request that needs it.
 */
export function createOidc(options: OidcOptions) {
  const deps: OidcDeps = { ...options, discovery: createDiscovery(options.now), seal: createTransactionSeal(options.config.secrets.gate) };
  const routes = new Hono<GateEnv>();
  routes.get("/:name/login", oidcLogin(deps));
  routes.get("/:name/callback", oidcCallback(deps));
  routes.post("/:name/backchannel-logout", oidcBackchannelLogout(deps));
  return { routes, endSession: createEndSession(deps) };
}
