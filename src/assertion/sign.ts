import { base64url, utf8 } from "../util/encoding";
import type { SessionRecord } from "../store/types";
import type { AssertionKeys, Background } from "./signing-keys";

/** `exp − iat` of every assertion: long enough for the hop to the origin, short enough to be useless if it leaks. */
export const ASSERTION_LIFETIME_SECONDS = 60;

/** The request an assertion is about. */
export interface AssertedRequest {
  /** The URL the client asked the gate for. */
  url: URL;
  /** The normalised path the origin receives (after any ORIGIN_URL path prefix). */
  path: string;
  /** The method, as forwarded. */
  method: string;
  /** The route's `audience`, when it has one. */
  audience?: string;
  session: SessionRecord;
}

/** Options of {@link createAssertionSigner}. */
export interface AssertionSignerOptions {
  keys: AssertionKeys;
  /** `GATE.issuer`; default: the gate's own origin. */
  issuer?: string;
  /** ORIGIN_URL, when the origin is reached by URL. */
  originUrl?: URL;
  now: () => number;
}

/**
 * `htu`: the public URL of the request without query or fragment, i.e. exactly
 * `X-Forwarded-Proto` + `://` + `X-Forwarded-Host` + the normalised path. The
 * origin rebuilds it from those headers and its own request path, whatever its
 * internal address or TLS termination (docs/assertion.md).
 */
export const htuOf = (url: URL, path: string) => `${url.protocol}//${url.host}${path}`;

/** The claims of one assertion (contract §4), `iat`/`exp`/`auth_time` in Unix seconds. */
export function assertionClaims(request: AssertedRequest, options: Pick<AssertionSignerOptions, "issuer" | "originUrl">, now: number) {
  const { session, url } = request;
  const iat = Math.floor(now / 1_000);
  return {
    iss: options.issuer ?? url.origin,
    // With a service binding and no ORIGIN_URL, the origin is addressed as the gate itself.
    aud: request.audience ?? options.originUrl?.origin ?? url.origin,
    sub: session.sub,
    sid: session.sid,
    roles: session.roles,
    auth_time: Math.floor(session.authTime / 1_000),
    iat,
    exp: iat + ASSERTION_LIFETIME_SECONDS,
    jti: crypto.randomUUID(),
    htm: request.method,
    htu: htuOf(url, request.path),
    // The identity provider that logged the user in (contract §10); absent for X-Gate-Login sessions.
    ...(session.idp !== undefined && { idp: session.idp }),
  };
}

/**
 * Signs `X-Gate-Assertion` (contract §4): an EdDSA (Ed25519) JWT with `kid`,
 * by the key the keyset says signs now, imported once per isolate.
 */
export function createAssertionSigner(options: AssertionSignerOptions) {
  const { keys, now } = options;
  // Signed by hand, not with jose's SignJWT: one per request, and SignJWT re-validates and re-encodes the
  // same protected header each time; here it is encoded once per key (the tests verify with jose).
  const headers = new Map<string, string>();
  return async function signAssertion(request: AssertedRequest, background?: Background): Promise<string> {
    const { kid, key } = await keys.signer(background);
    let header = headers.get(kid);
    if (header === undefined) {
      header = base64url(utf8(JSON.stringify({ alg: "EdDSA", kid, typ: "JWT" })));
      if (headers.size >= 8) headers.clear(); // keys rotate weekly: a handful per isolate at most
      headers.set(kid, header);
    }
    const input = `${header}.${base64url(utf8(JSON.stringify(assertionClaims(request, options, now()))))}`;
    return `${input}.${base64url(await crypto.subtle.sign("Ed25519", key, utf8(input)))}`;
  };
}

/** Signs one assertion. */
export type AssertionSigner = ReturnType<typeof createAssertionSigner>;
