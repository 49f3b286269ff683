import type { Client, IDToken } from "oauth4webapi";
import type { OidcProvider } from "../config/types";
import type { Discovered } from "./discovery";
import { OidcFailure, codeOf, refused, unavailable } from "./failure";
import { type OauthModule, loadOauth, requestOptions } from "./oauth";
import type { Transaction } from "./transaction";

/** What the code exchange yields: the ID token as sent, and its claims as oauth4webapi checked them. */
export interface Exchanged {
  idToken: string;
  claims: IDToken;
}

/** What the exchange needs besides the provider: the callback's URL, the transaction, the redirect URI, the clock offset. */
export interface ExchangeInput {
  callbackUrl: URL;
  transaction: Transaction;
  redirectUri: string;
  clockSkew: number;
}

/** An OAuth error code, as logged: short, and only the characters RFC 6749 allows in one. */
const oauthCode = (value: unknown) => (typeof value === "string" ? value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "").slice(0, 64) : "unknown");

/**
 * The authorization response: `iss` (RFC 9207, when the provider says it
 * sends it), then `state` against the transaction, then an `error` the
 * provider sent (access_denied: the user said no).
 */
function callbackParameters(oauth: OauthModule, discovered: Discovered, client: Client, input: ExchangeInput): URLSearchParams {
  try {
    return oauth.validateAuthResponse(discovered.as, client, input.callbackUrl, input.transaction.state);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) throw refused("provider_error", oauthCode(error.error));
    throw refused("authorization_response_invalid", codeOf(error));
  }
}

/**
 * Why oauth4webapi refused a token response: an OAuth error from the token
 * endpoint (`invalid_grant`: a code used twice, or a wrong verifier), a body
 * that is not a token response (the provider is broken: 503), or an ID token
 * claim that failed (`aud`, `azp`, `iss`, `nonce`, `exp`, `alg`, …).
 */
function tokenFailure(oauth: OauthModule, error: unknown): Error {
  if (error instanceof oauth.ResponseBodyError) return refused("token_error", oauthCode(error.error));
  const code = codeOf(error);
  if (code === oauth.PARSE_ERROR || code === oauth.RESPONSE_IS_NOT_JSON) return unavailable("token_unavailable", code);
  const cause = (error as { cause?: { claim?: unknown; header?: unknown; expected?: unknown } }).cause;
  if (cause?.header !== undefined && cause.expected !== undefined) return refused("id_token_alg");
  if (typeof cause?.claim === "string") return refused("id_token_invalid", cause.claim);
  if (code === oauth.JWT_TIMESTAMP_CHECK || code === oauth.JWT_CLAIM_COMPARISON || code === oauth.INVALID_RESPONSE)
    return refused("id_token_invalid", code);
  return refused("token_response_invalid", code);
}

/**
 * Exchanges the callback's code for tokens at the token endpoint:
 * client_secret_basic with the provider's secret, else a public client
 * (PKCE only). oauth4webapi checks the ID token's claims (iss, aud, azp,
 * exp, nonce, auth_time with max_age, the alg allow list) but NOT its
 * signature: the caller verifies that (src/oidc/id-token.ts).
 */
export async function exchangeCode(provider: OidcProvider, discovered: Discovered, input: ExchangeInput): Promise<Exchanged> {
  const oauth = await loadOauth();
  const client: Client = { client_id: provider.clientId, [oauth.clockSkew]: input.clockSkew };
  const auth = provider.clientSecret ? oauth.ClientSecretBasic(provider.clientSecret) : oauth.None();
  const params = callbackParameters(oauth, discovered, client, input);
  let response: Response;
  try {
    const options = requestOptions(oauth, provider.issuer);
    response = await oauth.authorizationCodeGrantRequest(discovered.as, client, auth, params, input.redirectUri, input.transaction.verifier, options);
  } catch (error) {
    throw unavailable("token_unavailable", codeOf(error));
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    throw unavailable("token_unavailable", `http_${response.status}`);
  }
  try {
    const maxAge = input.transaction.maxAge;
    const tokens = await oauth.processAuthorizationCodeResponse(discovered.as, client, response, {
      expectedNonce: input.transaction.nonce,
      requireIdToken: true,
      ...(maxAge !== undefined && { maxAge }),
    });
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    if (!claims || typeof tokens.id_token !== "string") throw refused("id_token_invalid", "missing");
    return { idToken: tokens.id_token, claims };
  } catch (error) {
    throw error instanceof OidcFailure ? error : tokenFailure(oauth, error);
  }
}
