import { utf8 } from "../util/encoding";

/** Keys the gate derives from GATE_SECRET, imported once per isolate. */
export interface GateKeys {
  /** HMAC-SHA256 key that computes a token's successor at rotation. */
  rotation: CryptoKey;
}

/**
 * Derives every gate key from GATE_SECRET with HKDF-SHA256 and a distinct
 * `info` per purpose (RFC 5869 §3.2), so no two purposes share key material.
 */
export async function deriveKeys(secret: string): Promise<GateKeys> {
  const master = await crypto.subtle.importKey("raw", utf8(secret), "HKDF", false, ["deriveKey"]);
  const rotation = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: utf8("gatehouse"), info: utf8("gatehouse/rotation/v1") },
    master,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
  return { rotation };
}
