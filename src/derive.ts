import { utf8 } from "./util/encoding";

/** Keys the gate derives from GATE_SECRET for sessions, imported once per isolate. */
export interface GateKeys {
  /** HMAC-SHA256 key that computes a token's successor at rotation. */
  rotation: CryptoKey;
  /** HMAC-SHA256 key of the stateless DBSC challenges (src/dbsc/challenge.ts). */
  deviceChallenge: CryptoKey;
}

/** The HKDF parameters of one purpose: the salt is the gate's, the `info` names the purpose. */
export const hkdf = (info: string) => ({ name: "HKDF", hash: "SHA-256", salt: utf8("gatehouse"), info: utf8(info) });

/** HKDF `info` of the AES-GCM key that seals OIDC login transactions in their cookie (src/oidc/transaction.ts). */
export const OIDC_TRANSACTION_INFO = "gatehouse/oidc-transaction/v1";

/** GATE_SECRET as an HKDF base key; every derived key starts here. */
export function masterKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", utf8(secret), "HKDF", false, ["deriveKey", "deriveBits"]);
}

/** An HMAC-SHA256 key for one purpose, derived from GATE_SECRET (RFC 5869 §3.2: one `info` per purpose). */
export async function hmacKey(secret: string, info: string, usages: string[] = ["sign"]): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(hkdf(info), await masterKey(secret), { name: "HMAC", hash: "SHA-256", length: 256 }, false, usages);
}

/**
 * Derives the session keys from GATE_SECRET with HKDF-SHA256 and a distinct
 * `info` per purpose, so no two purposes share key material.
 */
export async function deriveKeys(secret: string): Promise<GateKeys> {
  return {
    rotation: await hmacKey(secret, "gatehouse/rotation/v1"),
    deviceChallenge: await hmacKey(secret, "gatehouse/dbsc-challenge/v1", ["sign", "verify"]),
  };
}
