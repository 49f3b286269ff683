/**
 * The one error the DBSC core throws, and only for the gate's own mistakes
 * (a value it is about to emit that cannot be serialised, an option out of
 * range). Hostile input never throws: readers answer `undefined`, verifiers a
 * result with a reason (see proof.ts).
 */

/** Why the gate could not build a DBSC value. */
export type DbscErrorCode =
  /** A value for an sf-string (RFC 8941 §3.3.3) holds a character outside %x20-7E. */
  | "not_sf_string"
  /** A value for an sf-token (RFC 8941 §3.3.4) is not token-shaped. */
  | "not_sf_token"
  /** An option is missing, out of range, or of the wrong shape. */
  | "invalid_option";

/** Thrown by the builders in src/dbsc/ when the gate's own input is unusable. */
export class DbscError extends Error {
  override readonly name = "DbscError";
  constructor(
    readonly code: DbscErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
