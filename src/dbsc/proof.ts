/**
 * Verifying DBSC proofs (draft §"DBSC Proof JWT Syntax", §"Send request"): the
 * registration proof, which brings its public key in the `jwk` header, and the
 * refresh proof, which must be signed by the key bound at registration.
 *
 * The order is fixed and each step is its own module: the shape (proof-parse.ts),
 * the header and the claims (proof-claims.ts), the key (proof-jwk.ts), then the
 * signature with jose, and only for a validly signed proof the challenge, through
 * the caller's `expectChallenge` (challenge.ts). Hostile input never throws: the
 * answer is always a result with a {@link ProofFailure}. Only an `expectChallenge`
 * that rejects (a store outage, if a caller's check needs one) rejects the call.
 *
 * A refresh `jwk` is refused (`jwk_on_refresh`) rather than ignored: the draft says
 * MUST NOT, Chrome 156 never sends one, and refusing leaves no code path in which
 * a key the client sent could be mistaken for the bound one. A refresh signed by any
 * key but the bound one fails as `signature` (same algorithm: indistinguishable from
 * a corrupted signature) or `key_mismatch` (another algorithm).
 */
import { calculateJwkThumbprint, compactVerify } from "jose";
import type { DeviceKey } from "../store/types";
import { DEVICE_ALGORITHMS, type DeviceAlgorithm } from "./headers";
import { type Checked, checkHeader, type ProofFailure, readJti } from "./proof-claims";
import { type PublicDeviceJwk, publicDeviceJwk } from "./proof-jwk";
import { decodeProof } from "./proof-parse";

export type { ProofFailure };

/** What both verifiers need from the caller. */
export interface ProofOptions {
  /** True when `jti` is a challenge the gate issued for this session, its current generation and this purpose (challenge.ts). */
  expectChallenge: (jti: string) => Promise<boolean>;
}

/** Options of {@link verifyRegistration}. */
export interface RegistrationOptions extends ProofOptions {
  /** The algorithms the registration header offered; default both. */
  algorithms?: readonly DeviceAlgorithm[];
}

/** A registration proof's outcome: the key to bind, or why not. */
export type RegistrationResult = { ok: true; key: DeviceKey; jti: string } | { ok: false; reason: ProofFailure };

/** A refresh proof's outcome. */
export type RefreshResult = { ok: true; jti: string } | { ok: false; reason: ProofFailure };

const IMPORT: Record<DeviceAlgorithm, SubtleCryptoImportKeyAlgorithm> = {
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
};

const refuse = (reason: ProofFailure) => ({ ok: false, reason }) as const;

/** The public key as a WebCrypto verification key; `undefined` when WebCrypto refuses it (an EC point off the curve). */
async function importKey(jwk: PublicDeviceJwk, alg: DeviceAlgorithm): Promise<CryptoKey | undefined> {
  try {
    return await crypto.subtle.importKey("jwk", jwk, IMPORT[alg], false, ["verify"]);
  } catch {
    return undefined;
  }
}

/** Whether the JWS signature verifies under `key` with exactly `alg` (ES256 signatures are raw r||s, RFC 7518 §3.4). */
async function signatureValid(jwt: string, key: CryptoKey, alg: DeviceAlgorithm): Promise<boolean> {
  try {
    await compactVerify(jwt, key, { algorithms: [alg] });
    return true;
  } catch {
    return false;
  }
}

/** The steps both proofs share once the key is known: the signature, then the challenge. */
async function signedAndFresh(jwt: string, key: CryptoKey, alg: DeviceAlgorithm, jti: string, options: ProofOptions): Promise<Checked<object>> {
  if (!(await signatureValid(jwt, key, alg))) return refuse("signature");
  if (!(await options.expectChallenge(jti))) return refuse("challenge");
  return { ok: true };
}

/**
 * Verifies a registration proof: a `dbsc+jwt` signed with ES256 or RS256 by the
 * public key in its `jwk` header, whose `jti` is a registration challenge the gate
 * issued. Answers the key to store: algorithm, public JWK in normal form and its
 * RFC 7638 SHA-256 thumbprint (`jkt`).
 */
export async function verifyRegistration(jwt: unknown, options: RegistrationOptions): Promise<RegistrationResult> {
  const proof = decodeProof(jwt);
  if (!proof) return refuse("malformed");
  const header = checkHeader(proof.header, "registration");
  if (!header.ok) return header;
  if (!(options.algorithms ?? DEVICE_ALGORITHMS).includes(header.alg)) return refuse("alg");
  const jwk = publicDeviceJwk(proof.header.jwk, header.alg);
  if (!jwk.ok) return jwk;
  const claims = readJti(proof.payload);
  if (!claims.ok) return claims;
  const key = await importKey(jwk.jwk, header.alg);
  if (!key) return refuse("jwk_malformed");
  const checked = await signedAndFresh(jwt as string, key, header.alg, claims.jti, options);
  if (!checked.ok) return checked;
  const jkt = await calculateJwkThumbprint(jwk.jwk, "sha256");
  return { ok: true, key: { alg: header.alg, jwk: jwk.jwk, jkt }, jti: claims.jti };
}

/**
 * Verifies a refresh proof against the session's bound key: a `dbsc+jwt` with no
 * `jwk`, signed with the bound key's algorithm by the bound key, whose `jti` is a
 * refresh challenge the gate issued for the session's current generation.
 */
export async function verifyRefresh(jwt: unknown, bound: DeviceKey, options: ProofOptions): Promise<RefreshResult> {
  const proof = decodeProof(jwt);
  if (!proof) return refuse("malformed");
  const header = checkHeader(proof.header, "refresh");
  if (!header.ok) return header;
  if (header.alg !== bound.alg) return refuse("key_mismatch");
  const claims = readJti(proof.payload);
  if (!claims.ok) return claims;
  // The stored key passes the registration checks again: a corrupt record must not become a weaker key.
  const stored = publicDeviceJwk(bound.jwk, bound.alg);
  const key = stored.ok ? await importKey(stored.jwk, bound.alg) : undefined;
  if (!key) return refuse("key_unusable");
  const checked = await signedAndFresh(jwt as string, key, bound.alg, claims.jti, options);
  return checked.ok ? { ok: true, jti: claims.jti } : checked;
}
