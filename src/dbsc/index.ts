/**
 * The gate's DBSC protocol core (W3C Device Bound Session Credentials, draft
 * w3c/webappsec-dbsc `spec.bs` at d346811; docs/dbsc.md): pure pieces
 * the endpoints and the session manager compose, each auditable alone.
 *
 * - headers.ts: building and reading the DBSC header fields (§"DBSC Formats")
 * - challenge.ts: stateless challenges, HMAC over (sid, generation, purpose, time)
 * - proof.ts: verifying registration and refresh proofs (§"DBSC Proof JWT Syntax"),
 *   over proof-parse.ts (shape), proof-claims.ts (header, claims, reasons), proof-jwk.ts (key)
 * - config.ts: the session instructions JSON and the bound cookie's attributes
 */
export {
  CHALLENGE_KEY_INFO,
  CHALLENGE_MAX_AGE_MS,
  CHALLENGE_MAX_SKEW_MS,
  type ChallengeCheck,
  type ChallengePurpose,
  type Challenges,
  createChallenges,
} from "./challenge";
export { boundCookie, cookieAttributes, type SameSite, type ScopeRule, type SessionConfig, type SessionConfigOptions, sessionConfig } from "./config";
export { DbscError, type DbscErrorCode } from "./errors";
export {
  challengeHeader,
  DEVICE_ALGORITHMS,
  type DeviceAlgorithm,
  MAX_PROOF_LENGTH,
  type RegistrationOffer,
  readProofHeader,
  readSessionId,
  readSkipped,
  registrationHeader,
  SESSION_ID_PATTERN,
  type SkippedRefresh,
  type SkipReason,
} from "./headers";
export {
  type ProofFailure,
  type ProofOptions,
  type RefreshResult,
  type RegistrationOptions,
  type RegistrationResult,
  verifyRefresh,
  verifyRegistration,
} from "./proof";
export type { PublicDeviceJwk } from "./proof-jwk";

/** The log events of the DBSC contract; the caller adds them to its logger's events. */
export type DbscEvent = "session.device_bound" | "session.device_refreshed" | "session.device_proof_failed";
