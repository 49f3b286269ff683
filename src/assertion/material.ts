import { calculateJwkThumbprint } from "jose";
import { base64url, fromBase64url, randomBytes, utf8 } from "../util/encoding";
import { hkdf, masterKey } from "../derive";

/** An Ed25519 key pair as the gate holds it in memory: never written anywhere in clear. */
export interface KeyMaterial {
  /** RFC 7638 thumbprint of the public key: the same key always gets the same kid. */
  kid: string;
  /** The public key, base64url (the JWK's `x`). */
  x: string;
  /** The 32-byte private seed (RFC 8032 §5.1.5), only ever stored sealed. */
  seed: Uint8Array;
}

/** The keys the assertion module derives from GATE_SECRET. */
export interface AssertionSecrets {
  /** AES-256-GCM key that seals private seeds in the store. */
  wrap: CryptoKey;
  /** The seed of the genesis key, the same in every isolate (docs/assertion.md). */
  genesisSeed: Uint8Array;
}

/** RFC 8410 PKCS #8 prefix of an Ed25519 private key: SEQUENCE { v0, AlgorithmIdentifier 1.3.101.112, OCTET STRING { OCTET STRING (32) } }. */
const PKCS8_ED25519_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const SEED_BYTES = 32;
const IV_BYTES = 12;

const pkcs8 = (seed: Uint8Array) => new Uint8Array([...PKCS8_ED25519_PREFIX, ...seed]);

/**
 * Derives the assertion secrets from GATE_SECRET with HKDF-SHA256, each with
 * its own `info` (RFC 5869 §3.2), apart from every other key the gate derives.
 */
export async function deriveAssertionSecrets(secret: string): Promise<AssertionSecrets> {
  const master = await masterKey(secret);
  const wrap = await crypto.subtle.deriveKey(hkdf("gatehouse/assertion/key-wrap/v1"), master, { name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  const genesisSeed = new Uint8Array(await crypto.subtle.deriveBits(hkdf("gatehouse/assertion/genesis/v1"), master, SEED_BYTES * 8));
  return { wrap, genesisSeed };
}

/** A key pair from a seed: a fresh random one for rotation, the genesis seed on first use. */
export async function keyFromSeed(seed: Uint8Array = randomBytes(SEED_BYTES)): Promise<KeyMaterial> {
  // WebCrypto derives the public key only through an export, hence extractable here and nowhere else.
  const key = await crypto.subtle.importKey("pkcs8", pkcs8(seed), { name: "Ed25519" }, true, ["sign"]);
  const { x } = (await crypto.subtle.exportKey("jwk", key)) as JsonWebKey;
  if (!x) throw new Error("WebCrypto exported an Ed25519 key without its public part");
  return { kid: await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x }), x, seed };
}

/** The thumbprint a stored key's kid must equal. */
export const thumbprintOf = (x: string) => calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x });

/** Imports a seed as a non-extractable signing key: once per kid per isolate. */
export function importSigningKey(seed: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", pkcs8(seed), { name: "Ed25519" }, false, ["sign"]);
}

/**
 * Seals a seed for the store: AES-256-GCM under the wrap key, a random 96-bit
 * IV, and the kid as additional data so a sealed seed cannot be moved to
 * another key's entry. Returns base64url(IV ‖ ciphertext ‖ tag).
 */
export async function seal(wrap: CryptoKey, kid: string, seed: Uint8Array): Promise<string> {
  const iv = randomBytes(IV_BYTES);
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8(kid) }, wrap, seed);
  return base64url(new Uint8Array([...iv, ...new Uint8Array(sealed)]));
}

/** Opens a sealed seed, or `undefined` when it was sealed under another GATE_SECRET, for another kid, or altered. */
export async function unseal(wrap: CryptoKey, kid: string, sealed: string): Promise<Uint8Array | undefined> {
  try {
    const bytes = fromBase64url(sealed);
    const seed = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData: utf8(kid) },
      wrap,
      bytes.slice(IV_BYTES),
    );
    return seed.byteLength === SEED_BYTES ? new Uint8Array(seed) : undefined;
  } catch {
    return undefined;
  }
}
