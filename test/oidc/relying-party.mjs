// A minimal relying party on oauth4webapi, the way the gate will use it: the
// harness's own tests (provider.test.mjs, control.test.mjs) drive the test
// provider with it. Plain http is allowed only because the issuer is loopback.
import * as oauth from "oauth4webapi";

export const REDIRECT_URI = "https://gate.example/_gate/oidc/corp/callback";
export const SCOPE = "openid email profile groups";

/** oauth4webapi's option for http:// endpoints, set only for loopback issuers. */
export function httpOptions(issuer, extra = {}) {
  const { hostname } = new URL(issuer);
  const loopback = hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
  return loopback ? { ...extra, [oauth.allowInsecureRequests]: true } : extra;
}

/** Discovery: GET {issuer}/.well-known/openid-configuration, issuer checked. */
export async function discover(issuer, options = {}) {
  const issuerUrl = new URL(issuer);
  const response = await oauth.discoveryRequest(issuerUrl, httpOptions(issuer, options));
  return oauth.processDiscoveryResponse(issuerUrl, response);
}

/** The oauth4webapi Client and ClientAuth for the harness's confidential or public client. */
export function rpClient(harness, kind = "confidential") {
  if (kind === "public") return { client: { client_id: harness.clients.public.clientId }, clientAuth: oauth.None() };
  const { clientId, clientSecret } = harness.clients.confidential;
  return { client: { client_id: clientId }, clientAuth: oauth.ClientSecretBasic(clientSecret) };
}

/** An authorization URL with PKCE S256, state and nonce, and what the callback needs to check. */
export async function startLogin(as, client, { redirectUri = REDIRECT_URI, scope = SCOPE, loginHint, extra = {} } = {}) {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  const params = {
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: "code",
    scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    ...(loginHint ? { login_hint: loginHint } : {}),
    ...extra,
  };
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return { url, state, nonce, codeVerifier, redirectUri };
}

/**
 * The callback: validateAuthResponse (state, iss), the code exchange, and the ID
 * token checks (iss, aud, azp, exp, nonce, alg). Resolves with the token
 * response, the validated claims and the raw Response (for
 * validateApplicationLevelSignature).
 */
export async function finishLogin(as, { client, clientAuth }, callbackUrl, pending, options = {}) {
  const params = oauth.validateAuthResponse(as, client, new URL(callbackUrl), pending.state);
  let raw;
  const http = httpOptions(as.issuer, {
    ...options,
    [oauth.customFetch]: async (url, init) => (raw = await (options[oauth.customFetch] ?? fetch)(url, init)),
  });
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, pending.redirectUri, pending.codeVerifier, http);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: pending.nonce, requireIdToken: true });
  return { tokens, claims: oauth.getValidatedIdTokenClaims(tokens), response, raw };
}

/** Checks the ID token's signature against the issuer's jwks_uri (processAuthorizationCodeResponse does not). */
export function verifyIdTokenSignature(as, response, options = {}) {
  return oauth.validateApplicationLevelSignature(as, response, httpOptions(as.issuer, options));
}
