import { GateError } from "../errors";
import type { Logger } from "../log";

/** What the client is told when an OIDC step fails; the reason goes only to the log. */
export type FailureKind = "unauthenticated" | "forbidden" | "unavailable" | "bad_request";

/**
 * Why an OIDC step failed, as `oidc.failed` logs it (docs/oidc.md lists each).
 * A closed list, so a log query can name every case; `detail` adds a code
 * (an OAuth error, a claim name, a jose code), never a token.
 */
export type FailureReason =
  | "discovery_unavailable"
  | "discovery_invalid"
  | "jwks_unavailable"
  | "state_missing"
  | "transaction_missing"
  | "transaction_invalid"
  | "transaction_expired"
  | "state_mismatch"
  | "provider_mismatch"
  | "provider_error"
  | "authorization_response_invalid"
  | "token_unavailable"
  | "token_error"
  | "token_response_invalid"
  | "id_token_invalid"
  | "id_token_alg"
  | "id_token_unknown_key"
  | "id_token_signature"
  | "id_token_iat"
  | "user_claim_missing"
  | "email_unverified"
  | "identity_invalid"
  | "email_domain_unverified"
  | "email_domain_not_allowed"
  | "user_not_allowed"
  | "logout_token_missing"
  | "logout_token_invalid"
  | "logout_token_replayed"
  | "rp_logout_unavailable";

/** A refused OIDC step: thrown by the checks, turned into a log line and a {@link GateError} by {@link failed}. */
export class OidcFailure extends Error {
  override readonly name = "OidcFailure";
  constructor(
    readonly kind: FailureKind,
    readonly reason: FailureReason,
    readonly detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

/** A refusal answered 401 `unauthenticated`. */
export const refused = (reason: FailureReason, detail?: string) => new OidcFailure("unauthenticated", reason, detail);

/** An allow-list refusal, answered 403 `forbidden`. */
export const forbidden = (reason: FailureReason, detail?: string) => new OidcFailure("forbidden", reason, detail);

/** The provider could not be reached in time (or answered nonsense): 503 `unavailable`, nobody logged out. */
export const unavailable = (reason: FailureReason, detail?: string) => new OidcFailure("unavailable", reason, detail);

/**
 * A short, log-safe code for an error thrown by oauth4webapi, jose or fetch:
 * its `code` (`OAUTH_…`, `ERR_…`), else its name (`TimeoutError`). Messages
 * are left out: some quote what the provider sent.
 */
export function codeOf(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  return String(typeof code === "string" ? code : typeof name === "string" ? name : "error").slice(0, 64);
}

/**
 * Logs `oidc.failed` with the reason and turns the failure into the gate's
 * error (401, 403, 503 or 400); anything that is not an {@link OidcFailure}
 * (a store outage, a bug) is passed on unchanged for the pipeline to answer.
 * `headers` ride on the error response (clearing the transaction cookie).
 */
export function failed(error: unknown, log: Logger, fields: Record<string, unknown>, headers: Record<string, string> = {}): Error {
  if (!(error instanceof OidcFailure)) return error instanceof Error ? error : new Error(String(error));
  log("oidc.failed", { ...fields, reason: error.reason, ...(error.detail && { detail: error.detail }) });
  return new GateError(error.kind, headers);
}
