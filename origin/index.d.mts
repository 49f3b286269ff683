/**
 * gatehouse-edge/origin: signing `X-Gate-Login` and verifying `X-Gate-Assertion`
 * in an origin behind Gatehouse (Node ≥ 20 or Workers). See docs/assertion.md.
 */

/** `"X-Gate-Login"`: the response header the gate turns into a session. */
export declare const LOGIN_HEADER: "X-Gate-Login";
/** `"X-Gate-Assertion"`: the request header carrying the gate's signed identity. */
export declare const ASSERTION_HEADER: "X-Gate-Assertion";

/** Who logged in, as the origin tells the gate. */
export interface LoginIdentity {
  /** The user, 1–256 visible ASCII characters. */
  sub: string;
  /** Roles: visible ASCII, no commas. */
  roles?: string[];
  /** Extra claims kept with the session, a JSON object of at most 2 KiB. */
  claims?: Record<string, unknown>;
}

/** Options of {@link signLogin}. */
export interface SignLoginOptions {
  /** Seconds until `exp`, 1–300 (the gate refuses more than 5 minutes). Default 60. */
  expiresIn?: number;
  /** The time to sign at (Unix ms or a Date); default now. */
  now?: number | Date;
}

/**
 * Signs the `X-Gate-Login` JWT (HS256) with GATE_ORIGIN_SECRET. A string secret
 * is used as its UTF-8 bytes, exactly as the gate reads it (not base64-decoded).
 */
export declare function signLogin(secret: string | Uint8Array, identity: LoginIdentity, options?: SignLoginOptions): Promise<string>;

/** A public JWK set, as `GET /_gate/jwks.json` answers. */
export interface JsonWebKeySet {
  keys: Array<Record<string, unknown>>;
}

/** What verifyAssertion reads from a request: a Fetch `Request`, or a Node/Express request. */
export interface RequestLike {
  method: string;
  /** Absolute (Fetch) or the request-target path (Node). Express's `originalUrl` is preferred when present. */
  url?: string;
  originalUrl?: string;
  headers: { get(name: string): string | null } | Record<string, string | string[] | undefined>;
  socket?: { encrypted?: boolean };
}

/** Options of {@link verifyAssertion}. */
export interface VerifyAssertionOptions {
  /** The gate's key set URL, e.g. `https://gate.example.com/_gate/jwks.json`; cached, refetched on an unknown kid. */
  jwksUrl?: string | URL;
  /** A key set to use instead of fetching one. */
  jwks?: JsonWebKeySet;
  /** The fetch used for `jwksUrl` (a service binding's, say); default the global fetch. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Expected `iss`: GATE.issuer, or the gate's origin (`https://gate.example.com`). */
  issuer: string;
  /** Expected `aud`: the route's `audience`, else ORIGIN_URL's origin, else the gate's origin (service binding). */
  audience: string | string[];
  /** Seconds of clock skew tolerated on `exp`/`iat`. Default 5. */
  clockTolerance?: number;
  /** ORIGIN_URL's path prefix (e.g. `"/app"`), removed from the request path before comparing with `htu`. */
  basePath?: string;
  /** The public URL of the request, when the origin knows it better than X-Forwarded-Proto/Host and its path. */
  url?: string | URL;
  /** The time to verify at; default now. */
  currentDate?: Date;
}

/** The identity an assertion carries. */
export interface VerifiedAssertion {
  sub: string;
  sid: string;
  roles: string[];
  /** Login time, Unix seconds. */
  authTime: number;
  /** Unique per request: an origin may remember it until `expiresAt` to refuse replays. */
  jti: string;
  /** `exp`, Unix seconds. */
  expiresAt: number;
  payload: Record<string, unknown>;
}

/**
 * Why verification failed: `missing` (no single header), `invalid` (signature,
 * algorithm, shape), `unknown_key` (kid not in the key set), `expired`,
 * `claim` (iss, aud or a required claim), `wrong_request` (htm/htu: issued for
 * another method or URL), `jwks_unavailable` (the key set could not be fetched).
 */
export type GateAssertionErrorCode = "missing" | "invalid" | "unknown_key" | "expired" | "claim" | "wrong_request" | "jwks_unavailable";

/** The one error verifyAssertion throws. */
export declare class GateAssertionError extends Error {
  readonly code: GateAssertionErrorCode;
  constructor(code: GateAssertionErrorCode, message: string, options?: { cause?: unknown });
}

/**
 * Verifies `X-Gate-Assertion`: EdDSA signature against the gate's keys, `iss`,
 * `aud`, `exp`, and `htm`/`htu` against the request it is given.
 */
export declare function verifyAssertion(request: RequestLike, options: VerifyAssertionOptions): Promise<VerifiedAssertion>;
