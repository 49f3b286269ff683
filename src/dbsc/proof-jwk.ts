/**
 * The registration proof's `jwk` header (draft §"DBSC Proof JWT Syntax": "a JWK
 * as specified in [RFC7517]", present at registration for ES256 and RS256).
 * A pure check that it is a public key fit for the proof's `alg`, and its
 * normal form: exactly the members RFC 7638 §3.2 hashes (`crv`,`kty`,`x`,`y` or
 * `e`,`kty`,`n`), in canonical base64url, so one key has one thumbprint.
 *
 * Standard metadata (`alg`, `use`, `key_ops`, `kid`, `ext`) is tolerated when it
 * agrees with the proof and then dropped; Chrome 156 sends none of it. Any other
 * member is refused rather than carried along unread.
 */
import { base64url, fromBase64url } from "../util/encoding";
import type { DeviceAlgorithm } from "./headers";
import type { Checked } from "./proof-claims";

/** A device public key in normal form: the members its RFC 7638 thumbprint covers, nothing else. */
export type PublicDeviceJwk = { kty: "EC"; crv: "P-256"; x: string; y: string } | { kty: "RSA"; n: string; e: string };

/** Members that make a JWK a private (or symmetric) key: RFC 7518 §6.2.2, §6.3.2, §6.4.1. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const METADATA = ["alg", "use", "key_ops", "kid", "ext"];
const REQUIRED: Record<DeviceAlgorithm, string[]> = { ES256: ["kty", "crv", "x", "y"], RS256: ["kty", "n", "e"] };
const KTY: Record<DeviceAlgorithm, string> = { ES256: "EC", RS256: "RSA" };
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 4096; // bounds the cost of a verification an anonymous client can ask for

/** Bytes of a canonical base64url string (the one spelling `base64url` gives them back), or `undefined`. */
function canonicalBytes(value: unknown): Uint8Array | undefined {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  try {
    const bytes = fromBase64url(value);
    return base64url(bytes) === value ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** The bit length of a Base64urlUInt (RFC 7518 §2: minimal octets, so no leading zero), or `undefined`. */
function uintBits(value: unknown): number | undefined {
  const bytes = canonicalBytes(value);
  if (!bytes || bytes[0] === 0) return undefined;
  return (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0]));
}

/** Metadata members agree with `alg` and have their RFC 7517 §4 types. */
function metadataFits(jwk: Record<string, unknown>, alg: DeviceAlgorithm): Checked<object> {
  if (jwk.kid !== undefined && typeof jwk.kid !== "string") return { ok: false, reason: "jwk_malformed" };
  if (jwk.ext !== undefined && typeof jwk.ext !== "boolean") return { ok: false, reason: "jwk_malformed" };
  const ops = jwk.key_ops;
  if (ops !== undefined && !(Array.isArray(ops) && ops.length > 0 && ops.every((op) => op === "verify")))
    return { ok: false, reason: "jwk_mismatch" };
  if (jwk.alg !== undefined && jwk.alg !== alg) return { ok: false, reason: "jwk_mismatch" };
  if (jwk.use !== undefined && jwk.use !== "sig") return { ok: false, reason: "jwk_mismatch" };
  return { ok: true };
}

/** The key members for `alg`, checked and in normal form. */
function keyMembers(jwk: Record<string, unknown>, alg: DeviceAlgorithm): Checked<{ jwk: PublicDeviceJwk }> {
  if (alg === "ES256") {
    if (jwk.crv !== "P-256") return { ok: false, reason: typeof jwk.crv === "string" ? "jwk_mismatch" : "jwk_malformed" };
    if (canonicalBytes(jwk.x)?.length !== 32 || canonicalBytes(jwk.y)?.length !== 32) return { ok: false, reason: "jwk_malformed" };
    return { ok: true, jwk: { kty: "EC", crv: "P-256", x: jwk.x as string, y: jwk.y as string } };
  }
  const bits = uintBits(jwk.n);
  if (bits === undefined) return { ok: false, reason: "jwk_malformed" };
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return { ok: false, reason: "jwk_size" };
  const e = canonicalBytes(jwk.e);
  // An odd exponent of at most 32 bits, at least 3 (65537 in practice).
  if (!e || e.length > 4 || e[0] === 0 || e[e.length - 1] % 2 === 0 || (e.length === 1 && e[0] < 3)) return { ok: false, reason: "jwk_malformed" };
  return { ok: true, jwk: { kty: "RSA", n: jwk.n as string, e: jwk.e as string } };
}

/**
 * Checks a registration proof's `jwk` for `alg`: an object, no private members,
 * the right `kty` (and `crv`), well-formed key members, an RSA modulus of 2048
 * to 4096 bits, no unknown members. Answers the key in normal form. Never throws.
 * (Whether an EC point is on the curve is left to the import in proof.ts.)
 */
export function publicDeviceJwk(value: unknown, alg: DeviceAlgorithm): Checked<{ jwk: PublicDeviceJwk }> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, reason: "jwk_malformed" };
  const jwk = value as Record<string, unknown>;
  const members = Object.keys(jwk);
  if (members.some((m) => PRIVATE_MEMBERS.includes(m))) return { ok: false, reason: "jwk_private" };
  if (typeof jwk.kty !== "string") return { ok: false, reason: "jwk_malformed" };
  if (jwk.kty !== KTY[alg]) return { ok: false, reason: "jwk_mismatch" };
  if (members.some((m) => !REQUIRED[alg].includes(m) && !METADATA.includes(m))) return { ok: false, reason: "jwk_malformed" };
  const metadata = metadataFits(jwk, alg);
  return metadata.ok ? keyMembers(jwk, alg) : metadata;
}
