import { base64url as jose } from "jose";

/** base64url without padding (RFC 4648 §5), the encoding of tokens, sids and hashes (jose's). */
export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  return jose.encode(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
}

/** Decodes base64url (jose's); throws a TypeError on malformed input. */
export const fromBase64url = (text: string): Uint8Array => jose.decode(text);

/** `n` bytes from the platform CSPRNG. */
export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** SHA-256 of a string, base64url. */
export async function sha256(text: string): Promise<string> {
  return base64url(await crypto.subtle.digest("SHA-256", utf8(text)));
}
