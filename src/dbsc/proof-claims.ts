/**
 * The validators of a DBSC proof's protected header and payload (draft
 * §"DBSC Proof JWT Syntax", newest shape since #216), and the closed list of
 * reasons a proof is refused. Pure functions over decoded JSON (proof-parse.ts);
 * the key is checked in proof-jwk.ts and the signature in proof.ts.
 *
 * Tolerance, decided once here:
 * - `typ` must be `dbsc+jwt`, compared as a media type (RFC 7515 §4.1.9: case-insensitive,
 *   "application/" may be omitted). Old Chrome's `"jwt"` is refused: those builds also put
 *   the key in the payload (`key`) with no header `jwk`, a shape the gate does not accept,
 *   so tolerating it would buy no browser and weaken explicit typing (RFC 8725 §3.11).
 * - `crit` is refused outright: the gate understands no JWS extension (RFC 7515 §4.1.11).
 * - Payload claims other than `jti` (`aud`, `iat`, `key`, `sub` of pre-#216 drafts, `authorization`,
 *   anything else) are ignored, neither required nor checked: Chrome can be flagged to send `aud`,
 *   and old drafts sent `iat` as a string. None of them can weaken the proof, whose freshness and
 *   binding come from the signature and from a gate-issued `jti` bound to (sid, generation, purpose).
 * - `kid`, `jku`, `x5u`, `x5c` in the header are ignored and never dereferenced.
 */
import type { DeviceAlgorithm } from "./headers";

/** Why a proof was refused; for the log line (`session.device_proof_failed`), never for the response body. */
export type ProofFailure =
  /** Not a compact JWS of at most 8 KiB whose header and payload are JSON objects. */
  | "malformed"
  /** `alg` is not ES256 or RS256 (none, HS256, PS256, EdDSA, …), or not one the gate offered. */
  | "alg"
  /** `typ` is not `dbsc+jwt`. */
  | "typ"
  /** The header has `crit`. */
  | "crit"
  /** Registration: no `jwk` in the header. */
  | "jwk_missing"
  /** Registration: `jwk` is not a well-formed public key (bad members or encodings, unknown members, a point off the curve). */
  | "jwk_malformed"
  /** Registration: `jwk` carries private key material (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, or a symmetric `k`). */
  | "jwk_private"
  /** Registration: `jwk` does not fit `alg` (kty, crv, its own `alg`, `use` or `key_ops`). */
  | "jwk_mismatch"
  /** Registration: an RSA modulus under 2048 or over 4096 bits. */
  | "jwk_size"
  /** Refresh: the header has a `jwk` (the draft: MUST NOT); the bound key is the only key. */
  | "jwk_on_refresh"
  /** Refresh: `alg` is valid but not the bound key's algorithm. */
  | "key_mismatch"
  /** Refresh: the stored bound key is unusable (a corrupt record); the session cannot be refreshed. */
  | "key_unusable"
  /** The signature does not verify (under the embedded key at registration, the bound key at refresh). */
  | "signature"
  /** No `jti`, or one that is not a string of 1 to 512 characters. */
  | "jti"
  /** `jti` is not a challenge the gate issued for this session, generation and purpose, or it expired. */
  | "challenge";

/** A validation step's outcome. */
export type Checked<T> = ({ ok: true } & T) | { ok: false; reason: ProofFailure };

/** Registration (key in the header) or refresh (key bound earlier). */
export type ProofPhase = "registration" | "refresh";

const MAX_JTI_LENGTH = 512;

/** `typ` as a media type: lower case, without an "application/" prefix (RFC 7515 §4.1.9). */
const mediaType = (typ: string) => typ.toLowerCase().replace(/^application\//, "");

/** Checks the protected header for `phase`: `alg`, `typ`, no `crit`, and `jwk` present exactly at registration. */
export function checkHeader(header: Record<string, unknown>, phase: ProofPhase): Checked<{ alg: DeviceAlgorithm }> {
  const { alg, typ } = header;
  if (alg !== "ES256" && alg !== "RS256") return { ok: false, reason: "alg" };
  if (typeof typ !== "string" || mediaType(typ) !== "dbsc+jwt") return { ok: false, reason: "typ" };
  if (Object.hasOwn(header, "crit")) return { ok: false, reason: "crit" };
  const hasJwk = Object.hasOwn(header, "jwk");
  if (phase === "registration" && !hasJwk) return { ok: false, reason: "jwk_missing" };
  if (phase === "refresh" && hasJwk) return { ok: false, reason: "jwk_on_refresh" };
  return { ok: true, alg };
}

/** Reads `jti`, the challenge the proof answers; every other claim is ignored (see the file comment). */
export function readJti(payload: Record<string, unknown>): Checked<{ jti: string }> {
  const { jti } = payload;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH) return { ok: false, reason: "jti" };
  return { ok: true, jti };
}
