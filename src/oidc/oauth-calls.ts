/**
 * The parts of oauth4webapi the gate calls, and only those: this module is
 * what src/oidc/oauth.ts imports dynamically, so a bundler keeps these
 * exports of oauth4webapi and drops the rest (half of it; docs/oidc.md, "Cost").
 */
export {
  AuthorizationResponseError,
  ClientSecretBasic,
  INVALID_RESPONSE,
  JWT_CLAIM_COMPARISON,
  JWT_TIMESTAMP_CHECK,
  None,
  PARSE_ERROR,
  RESPONSE_IS_NOT_JSON,
  ResponseBodyError,
  allowInsecureRequests,
  authorizationCodeGrantRequest,
  calculatePKCECodeChallenge,
  clockSkew,
  customFetch,
  discoveryRequest,
  generateRandomCodeVerifier,
  generateRandomNonce,
  generateRandomState,
  getValidatedIdTokenClaims,
  processAuthorizationCodeResponse,
  processDiscoveryResponse,
  validateAuthResponse,
} from "oauth4webapi";
