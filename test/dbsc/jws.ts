/**
 * Hand-made JWS for attacker cases the test client's `signProof` cannot make
 * (jose refuses to sign them): any header, any payload, signed by any WebCrypto
 * key or not at all.
 */
import { base64url } from "jose";

/** base64url of a value's JSON (or of a string as is). */
export const part = (value: unknown) => base64url.encode(typeof value === "string" ? value : JSON.stringify(value));

/** A compact JWS with the given signature part (default empty: an unsecured JWS). */
export const unsigned = (header: unknown, payload: unknown, signature = "") => `${part(header)}.${part(payload)}.${signature}`;

const SIGN: Record<string, SubtleCryptoSignAlgorithm> = {
  ECDSA: { name: "ECDSA", hash: "SHA-256" },
  "RSASSA-PKCS1-v1_5": { name: "RSASSA-PKCS1-v1_5" },
  HMAC: { name: "HMAC" },
};

/** Signs `header.payload` with `key` (ECDSA signatures come out raw r||s, as JWS wants them). */
export async function signed(header: unknown, payload: unknown, key: CryptoKey): Promise<string> {
  const input = `${part(header)}.${part(payload)}`;
  const signature = await crypto.subtle.sign(SIGN[key.algorithm.name], key, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** A key pair for an algorithm; RSA of `bits` bits. Extractable, so tests can export the private JWK. */
export async function keyPair(alg: "ES256" | "RS256", bits = 2048): Promise<CryptoKeyPair> {
  const params =
    alg === "ES256"
      ? { name: "ECDSA", namedCurve: "P-256" }
      : { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  return (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
}

/** The public JWK of a pair, with only the members Chrome sends. */
export async function publicJwk(pair: CryptoKeyPair): Promise<Record<string, string>> {
  const { kty, crv, x, y, n, e } = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  return (kty === "EC" ? { kty, crv, x, y } : { kty, n, e }) as Record<string, string>;
}
