/**
 * The DBSC header fields, as the draft (w3c/webappsec-dbsc `spec.bs` at
 * d346811) defines them in §"DBSC Formats": building the two the gate sends
 * (`Secure-Session-Registration`, `Secure-Session-Challenge`) and reading the
 * three a browser sends (`Sec-Secure-Session-Id`, `Secure-Session-Response`,
 * `Secure-Session-Skipped`).
 *
 * Every value the gate emits goes through {@link serializeString} or
 * {@link serializeToken}, so no challenge, path or id can close its quotes and
 * add a parameter. Readers take the draft's sf-string and the bare value
 * Chrome 156 sends (docs/dbsc.md, "Where the gate differs from the draft"), and answer `undefined` for
 * anything else; they never throw.
 */
import { DbscError } from "./errors";
import { type Params, parseItem, parseList } from "./sf";

/** The signature algorithms the gate accepts for device keys (the draft's "none" is not offered: it binds nothing). */
export type DeviceAlgorithm = "ES256" | "RS256";

/** Both, in the gate's order of preference (ES256 first: smaller keys and proofs). */
export const DEVICE_ALGORITHMS: readonly DeviceAlgorithm[] = ["ES256", "RS256"];

/**
 * A session id the gate accepts back in `Sec-Secure-Session-Id` or a skipped
 * report: base64url, 1 to 64 characters (the gate's sids are 22, src/session/token.ts).
 * Nothing in it needs escaping, so the bare and the quoted forms say the same.
 */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A compact JWS: three base64url parts; the signature may be empty so that `alg: none` is refused by name (proof.ts). */
export const COMPACT_JWS_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The longest `Secure-Session-Response` read, in characters: an RS256 proof with a 4096-bit `jwk` is under 2,000. */
export const MAX_PROOF_LENGTH = 8192;

/** The longest `Sec-Secure-Session-Id` and `Secure-Session-Skipped` values read, and the most skipped reports kept. */
const MAX_ID_FIELD = 256;
const MAX_SKIPPED_FIELD = 2048;
const MAX_SKIPPED = 8;

/** Serialises an sf-string (RFC 8941 §4.1.6): quoted, `"` and `\` escaped; throws on anything outside %x20-7E. */
export function serializeString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new DbscError("not_sf_string", JSON.stringify(value));
  return `"${value.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}

/** Serialises an sf-token (RFC 8941 §4.1.7); throws when `value` is not token-shaped. */
export function serializeToken(value: string): string {
  if (!/^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/.test(value)) throw new DbscError("not_sf_token", JSON.stringify(value));
  return value;
}

/** What {@link registrationHeader} puts in the header. */
export interface RegistrationOffer {
  /** The challenge the proof's `jti` must copy (challenge.ts); never empty, as Chrome drops an entry without one. */
  challenge: string;
  /** The registration endpoint, e.g. "/_gate/dbsc/registration". */
  path: string;
  /** The algorithms offered, in order of preference; default {@link DEVICE_ALGORITHMS}. */
  algorithms?: readonly DeviceAlgorithm[];
}

/**
 * The `Secure-Session-Registration` value (draft §"Secure-Session-Registration
 * HTTP header field"): one Inner List of algorithm Tokens with `path` and
 * `challenge` as Strings, e.g. `(ES256 RS256);path="/_gate/dbsc/registration";challenge="c"`.
 */
export function registrationHeader(offer: RegistrationOffer): string {
  const algorithms = offer.algorithms ?? DEVICE_ALGORITHMS;
  const known = algorithms.every((alg) => DEVICE_ALGORITHMS.includes(alg));
  if (algorithms.length === 0 || !known || new Set(algorithms).size !== algorithms.length) {
    throw new DbscError("invalid_option", `algorithms ${JSON.stringify(algorithms)}`);
  }
  if (offer.challenge === "" || offer.path === "") throw new DbscError("invalid_option", "empty challenge or path");
  const list = algorithms.map(serializeToken).join(" ");
  return `(${list});path=${serializeString(offer.path)};challenge=${serializeString(offer.challenge)}`;
}

/**
 * The `Secure-Session-Challenge` value (draft §"Secure-Session-Challenge
 * structured header serialization"): the challenge as a String with the
 * session id as its `id` String parameter: `"<c>";id="<id>"`.
 */
export function challengeHeader(challenge: string, sessionId: string): string {
  if (challenge === "" || sessionId === "") throw new DbscError("invalid_option", "empty challenge or session id");
  return `${serializeString(challenge)};id=${serializeString(sessionId)}`;
}

/**
 * The text of an Item field that is a String (parameters ignored, as the draft
 * says they SHOULD be), or the whole value when it is bare; then `accept` decides.
 * A value with several field lines (`Headers.get` joins them with ", ") fails both ways.
 */
function readStringOrBare(value: string | null | undefined, max: number, accept: RegExp): string | undefined {
  if (typeof value !== "string" || value.length > max) return undefined;
  const text = value.replace(/^[ \t]+|[ \t]+$/g, "");
  let result: string | undefined = text;
  if (text.startsWith('"')) {
    const item = parseItem(text);
    result = item?.item.type === "string" ? item.item.value : undefined;
  }
  return result !== undefined && accept.test(result) ? result : undefined;
}

/**
 * The session id in `Sec-Secure-Session-Id` (draft §"Sec-Secure-Session-Id HTTP
 * header field"): an sf-string, or the bare id Chrome 156 sends; `undefined`
 * unless the id matches {@link SESSION_ID_PATTERN}.
 */
export function readSessionId(value: string | null | undefined): string | undefined {
  return readStringOrBare(value, MAX_ID_FIELD, SESSION_ID_PATTERN);
}

/**
 * The proof JWT in `Secure-Session-Response` (draft §"Secure-Session-Response
 * HTTP header field"): an sf-string, or the bare JWT Chrome 156 sends;
 * `undefined` unless it is shaped like a compact JWS of at most {@link MAX_PROOF_LENGTH}.
 */
export function readProofHeader(value: string | null | undefined): string | undefined {
  const jwt = readStringOrBare(value, MAX_PROOF_LENGTH + 64, COMPACT_JWS_PATTERN);
  return jwt !== undefined && jwt.length <= MAX_PROOF_LENGTH ? jwt : undefined;
}

/** Why a browser went ahead without a bound cookie (draft §"Secure-Session-Skipped"); "other" for a token the draft does not define. */
export type SkipReason = "unreachable" | "server_error" | "quota_exceeded" | "other";

/** One entry of `Secure-Session-Skipped`, fit for a log line. */
export interface SkippedRefresh {
  reason: SkipReason;
  /** The `session_identifier` parameter, when it is a String matching {@link SESSION_ID_PATTERN}. */
  sessionId?: string;
}

const SKIP_REASONS: ReadonlySet<string> = new Set(["unreachable", "server_error", "quota_exceeded"]);

/**
 * Reads `Secure-Session-Skipped` (a List of Tokens, each with a `session_identifier`
 * String parameter) so the gate can log why a request came without its bound
 * cookie. Members that are not Tokens are dropped, at most 8 are kept, and an
 * unparseable or overlong value reads as none.
 */
export function readSkipped(value: string | null | undefined): SkippedRefresh[] {
  if (typeof value !== "string" || value.length > MAX_SKIPPED_FIELD) return [];
  const members = parseList(value) ?? [];
  const out: SkippedRefresh[] = [];
  for (const m of members) {
    if (m.kind !== "item" || m.item.type !== "token") continue;
    const reason = (SKIP_REASONS.has(m.item.value) ? m.item.value : "other") as SkipReason;
    const sessionId = sessionIdParam(m.params);
    out.push(sessionId === undefined ? { reason } : { reason, sessionId });
    if (out.length === MAX_SKIPPED) break;
  }
  return out;
}

/** The `session_identifier` parameter, if it is a String that is a session id. */
function sessionIdParam(params: Params): string | undefined {
  const value = params.get("session_identifier");
  return value?.type === "string" && SESSION_ID_PATTERN.test(value.value) ? value.value : undefined;
}
