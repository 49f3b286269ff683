/**
 * The first step of checking a DBSC proof (draft §"DBSC Proof JWT Syntax"):
 * is it a compact JWS (RFC 7515 §7.1) whose header and payload are JSON
 * objects? Nothing here looks at a member's meaning; proof-claims.ts does.
 */
import { fromBase64url } from "../util/encoding";
import { COMPACT_JWS_PATTERN, MAX_PROOF_LENGTH } from "./headers";

/** A proof's decoded parts, not yet trusted: the signature is checked later (proof.ts). */
export interface DecodedProof {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

// fatal: bad UTF-8 throws; ignoreBOM: a BOM is kept, and JSON.parse refuses it.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A base64url part as a JSON object, or `undefined` (bad base64url, bad UTF-8, bad JSON, not an object). */
function jsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const bytes = fromBase64url(part);
    const value: unknown = JSON.parse(decoder.decode(bytes));
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Decodes a compact JWS of at most {@link MAX_PROOF_LENGTH} characters: three
 * base64url parts, the first two JSON objects. `undefined` for anything else
 * (a JWE's five parts, the JSON serialisation, a detached payload). Never throws.
 */
export function decodeProof(jwt: unknown): DecodedProof | undefined {
  if (typeof jwt !== "string" || jwt.length > MAX_PROOF_LENGTH || !COMPACT_JWS_PATTERN.test(jwt)) return undefined;
  const [headerPart, payloadPart] = jwt.split(".");
  const header = jsonObject(headerPart);
  const payload = jsonObject(payloadPart);
  return header && payload ? { header, payload } : undefined;
}
