/** The oauth4webapi calls the gate makes (src/oidc/oauth-calls.ts), as {@link loadOauth} resolves them. */
export type OauthModule = typeof import("./oauth-calls");

import { readCapped } from "../util/read-capped";

/** How long the gate waits for a provider (discovery, JWKS, token endpoint): oauth4webapi has no timeout of its own. */
export const PROVIDER_TIMEOUT_MS = 5_000;
/** The largest answer read from a provider (discovery, JWKS with certificate chains, token response): far above any real one. */
export const MAX_PROVIDER_BODY_BYTES = 256 * 1024;

/**
 * `fetch` for the provider's endpoints, whose body is read up to
 * {@link MAX_PROVIDER_BODY_BYTES} and no further: oauth4webapi and jose would
 * buffer a hostile provider's megabytes whole before refusing them.
 */
export async function cappedFetch(url: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  const body = await readCapped(response, MAX_PROVIDER_BODY_BYTES);
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

let loading: Promise<OauthModule> | undefined;

/**
 * oauth4webapi, imported on first use. A gate without providers never mounts
 * the OIDC routes, so it never evaluates the module: its startup stays as it
 * was (docs/oidc.md, "Cost").
 */
export function loadOauth(): Promise<OauthModule> {
  loading ??= import("./oauth-calls");
  return loading;
}

/** `http:` is accepted only for a provider on this machine (contract §15): the tests' and the demo's. */
export function isLoopback(url: string | URL): boolean {
  const { hostname } = new URL(url);
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]";
}

/**
 * Whether an endpoint a provider advertises may be called: `https:`, or
 * `http:` when the issuer itself is a loopback one. oauth4webapi checks the
 * endpoints it calls; this covers those the gate uses itself (the
 * authorization and end-session redirects, the JWKS that jose fetches).
 */
export function isAllowedEndpoint(endpoint: unknown, issuer: string): endpoint is string {
  if (typeof endpoint !== "string" || !URL.canParse(endpoint)) return false;
  const { protocol } = new URL(endpoint);
  return protocol === "https:" || (protocol === "http:" && isLoopback(issuer) && isLoopback(endpoint));
}

/**
 * The options of one oauth4webapi request: a fresh timeout, and plain http
 * allowed only for a loopback issuer (oauth4webapi refuses it otherwise).
 */
export function requestOptions(oauth: OauthModule, issuer: string) {
  const insecure = isLoopback(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
  return { signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS), [oauth.customFetch]: cappedFetch, ...insecure };
}
