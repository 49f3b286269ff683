import type { Context } from "hono";
import type { Config, OidcProvider } from "../config/types";
import { GATE_PREFIX } from "../endpoints/paths";
import { GateError } from "../errors";
import type { GateEnv } from "../http/context";
import type { Logger } from "../log";
import type { SessionManager } from "../session/manager";
import type { Transitions } from "../session/transitions";
import type { SessionStore } from "../store/types";
import type { Discovery } from "./discovery";
import type { TransactionSeal } from "./transaction";

/** Where the OIDC endpoints live: `/_gate/oidc/<name>/…`. */
export const OIDC_PREFIX = `${GATE_PREFIX}/oidc`;

/** One of a provider's endpoints at the gate. */
export type OidcEndpoint = "login" | "callback" | "backchannel-logout";

/** The path of a provider's endpoint, e.g. `/_gate/oidc/corp/callback`. */
export const oidcPath = (name: string, endpoint: OidcEndpoint) => `${OIDC_PREFIX}/${name}/${endpoint}`;

/** What the OIDC handlers are built from: the gate's own parts, and the per-isolate discovery cache and seal. */
export interface OidcDeps {
  config: Config;
  store: SessionStore;
  sessions: SessionManager;
  transitions: Transitions;
  now: () => number;
  log: Logger;
  discovery: Discovery;
  seal: TransactionSeal;
}

/** The provider a path names; an unknown name is answered like any unknown gate path (404). */
export function providerOf(config: Config, c: Context<GateEnv>): OidcProvider {
  const provider = config.oidc.get(c.req.param("name") ?? "");
  if (!provider) throw new GateError("not_found");
  return provider;
}

/** The gate's public origin: `GATE.public_origin`, else the request's own (which prepare() already held to it when set). */
export const gateOrigin = (config: Config, c: Context<GateEnv>) => config.publicOrigin ?? new URL(c.req.url).origin;

/** The redirect URI the provider must have registered: `https://<public origin>/_gate/oidc/<name>/callback`. */
export const redirectUri = (config: Config, c: Context<GateEnv>, provider: OidcProvider) =>
  gateOrigin(config, c) + oidcPath(provider.name, "callback");

/**
 * oauth4webapi reads its own clock (`Date.now()`); this offset, in seconds,
 * makes it read the gate's injected one, so every time check agrees.
 */
export const clockSkewOf = (now: () => number) => Math.round((now() - Date.now()) / 1_000);
