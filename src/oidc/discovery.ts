import { type JWTVerifyGetKey, createRemoteJWKSet, customFetch } from "jose";
import type { AuthorizationServer } from "oauth4webapi";
import type { OidcProvider } from "../config/types";
import { codeOf, unavailable } from "./failure";
import { PROVIDER_TIMEOUT_MS, cappedFetch, isAllowedEndpoint, loadOauth, requestOptions } from "./oauth";

/** Discovery is refetched after this long, so a provider's new endpoints are picked up without a redeploy. */
const DISCOVERY_TTL_MS = 60 * 60_000;
/** An unknown `kid` refetches the JWKS, at most this often (contract §10): a flood of forged kids costs one fetch a minute. */
const JWKS_COOLDOWN_MS = 60_000;
/** A JWKS is refetched after this long even when every kid is known. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** Never acceptable for a provider's tokens: unsigned, or signed with a secret the client knows too. */
const REFUSED_ALG = /^(none|HS\d+)$/i;

/** What the gate knows of a provider after discovery, cached per isolate. */
export interface Discovered {
  /** The discovery document, issuer checked (oauth4webapi `processDiscoveryResponse`). */
  as: AuthorizationServer;
  /** The provider's signing keys (jose), shared by ID tokens and logout tokens. */
  keys: JWTVerifyGetKey;
  /** Algorithms its tokens may be signed with: those it advertises for ID tokens, minus `none` and `HS*`; RS256 when it advertises none. */
  algorithms: string[];
}

/** The accepted algorithms of a discovery document. */
export function allowedAlgorithms(as: AuthorizationServer): string[] {
  const advertised = Array.isArray(as.id_token_signing_alg_values_supported) ? as.id_token_signing_alg_values_supported : ["RS256"];
  return advertised.filter((alg): alg is string => typeof alg === "string" && !REFUSED_ALG.test(alg));
}

/** Fetches and checks one provider's discovery document; any failure is the provider's: 503. */
async function discover(provider: OidcProvider): Promise<Discovered> {
  const oauth = await loadOauth();
  const issuer = new URL(provider.issuer);
  let as: AuthorizationServer;
  try {
    const response = await oauth.discoveryRequest(issuer, requestOptions(oauth, provider.issuer));
    as = await oauth.processDiscoveryResponse(issuer, response);
  } catch (error) {
    const code = codeOf(error);
    throw unavailable(code === "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED" ? "discovery_invalid" : "discovery_unavailable", code);
  }
  for (const field of ["authorization_endpoint", "token_endpoint", "jwks_uri"] as const) {
    if (!isAllowedEndpoint(as[field], provider.issuer)) throw unavailable("discovery_invalid", field);
  }
  const algorithms = allowedAlgorithms(as);
  if (algorithms.length === 0) throw unavailable("discovery_invalid", "id_token_signing_alg_values_supported");
  const keys = createRemoteJWKSet(new URL(as.jwks_uri as string), {
    timeoutDuration: PROVIDER_TIMEOUT_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
    cacheMaxAge: JWKS_MAX_AGE_MS,
    [customFetch]: cappedFetch,
  });
  return { as, keys, algorithms };
}

/**
 * Per-isolate discovery, by provider name: one fetch serves every request
 * until it is an hour old. A failed discovery is not cached, so the next
 * request tries again once the provider is back.
 */
export function createDiscovery(now: () => number) {
  const cache = new Map<string, { at: number; value: Promise<Discovered> }>();
  return function discovered(provider: OidcProvider): Promise<Discovered> {
    const hit = cache.get(provider.name);
    if (hit && now() - hit.at < DISCOVERY_TTL_MS) return hit.value;
    const value = discover(provider);
    cache.set(provider.name, { at: now(), value });
    value.catch(() => {
      if (cache.get(provider.name)?.value === value) cache.delete(provider.name);
    });
    return value;
  };
}

/** Discovery of a provider, cached. */
export type Discovery = ReturnType<typeof createDiscovery>;
