// gatehouse-edge/origin: what an origin behind Gatehouse needs, for Node (≥ 20) and
// Workers alike, as plain ESM over jose (no build step).
//
// - signLogin(secret, identity, options?) → the `X-Gate-Login` JWT that makes the
//   gate create a session (contract §3).
// - verifyAssertion(request, options) → checks `X-Gate-Assertion` (contract §4):
//   EdDSA signature against the gate's JWKS, iss, aud, exp, and that it was
//   issued for this very request (htm, htu). Docs: docs/assertion.md.
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwtVerify } from "jose";

/** The response header the gate turns into a session. */
export const LOGIN_HEADER = "X-Gate-Login";
/** The request header carrying the gate's signed identity. */
export const ASSERTION_HEADER = "X-Gate-Assertion";

/** The gate refuses an `X-Gate-Login` valid for longer than this. */
const MAX_LOGIN_SECONDS = 300;
/** The gate's JWKS `Cache-Control: max-age`; remote key sets are kept as long. */
const JWKS_MAX_AGE_MS = 300_000;

/** The one error this module throws, with a stable `code` (see index.d.mts). */
export class GateAssertionError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = "GateAssertionError";
    this.code = code;
  }
}

/**
 * Signs the `X-Gate-Login` header value: HS256 with the UTF-8 bytes of
 * GATE_ORIGIN_SECRET as written (the gate verifies it the same way), `sub`
 * required, `exp` at most 5 minutes ahead (default 60 s).
 */
export async function signLogin(secret, identity, options = {}) {
  const { sub, roles, claims } = identity ?? {};
  const { expiresIn = 60, now = Date.now() } = options;
  if (typeof sub !== "string" || sub.length === 0) throw new TypeError("signLogin: sub must be a non-empty string");
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_LOGIN_SECONDS) {
    throw new RangeError(`signLogin: expiresIn must be whole seconds from 1 to ${MAX_LOGIN_SECONDS}`);
  }
  const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  const iat = Math.floor((now instanceof Date ? now.getTime() : now) / 1_000);
  return new SignJWT({ ...(roles !== undefined && { roles }), ...(claims !== undefined && { claims }) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + expiresIn)
    .sign(key);
}

// Remote key sets live as long as the process: jose refetches them after
// JWKS_MAX_AGE_MS, and at once (at most every 30 s) when a token names an unknown kid.
const remoteSets = new Map();
const remoteSetsByFetch = new WeakMap();
const localSets = new WeakMap();

function keySetFor(options) {
  if (options.jwks) {
    let local = localSets.get(options.jwks);
    if (!local) {
      local = createLocalJWKSet(options.jwks);
      localSets.set(options.jwks, local);
    }
    return local;
  }
  if (!options.jwksUrl) throw new TypeError("verifyAssertion: give jwksUrl (the gate's /_gate/jwks.json) or jwks");
  const url = new URL(options.jwksUrl).href;
  let sets = remoteSets;
  if (options.fetch) {
    sets = remoteSetsByFetch.get(options.fetch) ?? new Map();
    remoteSetsByFetch.set(options.fetch, sets);
  }
  let remote = sets.get(url);
  if (!remote) {
    remote = createRemoteJWKSet(new URL(url), { cacheMaxAge: JWKS_MAX_AGE_MS, ...(options.fetch && { [customFetch]: options.fetch }) });
    sets.set(url, remote);
  }
  return remote;
}

/** A header of a Fetch Request (Headers) or a Node IncomingMessage (plain object). */
function headerOf(request, name) {
  const headers = request.headers;
  if (typeof headers?.get === "function") return headers.get(name);
  const value = headers?.[name.toLowerCase()];
  return Array.isArray(value) ? value.join(", ") : (value ?? null);
}

/**
 * The URL the gate signed as `htu`: X-Forwarded-Proto :// X-Forwarded-Host,
 * then the request's path without query, less `basePath` (ORIGIN_URL's path).
 * Node's raw path is taken as is: `//evil/x` stays `//evil/x`, never `/x`.
 */
function publicUrlOf(request, basePath) {
  const raw = request.originalUrl ?? request.url ?? "";
  const absolute = !raw.startsWith("/");
  const self = absolute ? new URL(raw) : undefined;
  let path = absolute ? self.pathname : raw.split(/[?#]/, 1)[0];
  if (basePath) {
    if (path !== basePath && !path.startsWith(`${basePath}/`)) return undefined;
    path = path.slice(basePath.length) || "/";
  }
  const first = (value) => value?.split(",")[0].trim() || undefined;
  const proto = first(headerOf(request, "x-forwarded-proto")) ?? self?.protocol.slice(0, -1) ?? (request.socket?.encrypted ? "https" : "http");
  const host = first(headerOf(request, "x-forwarded-host")) ?? self?.host ?? headerOf(request, "host");
  try {
    return `${new URL(`${proto}://${host}`).origin}${path}`;
  } catch {
    return undefined;
  }
}

const CLAIMS = ["iss", "aud", "sub", "sid", "iat", "exp", "jti", "htm", "htu"];

function codeOf(error) {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) return "claim";
  if (error instanceof errors.JWKSNoMatchingKey) return "unknown_key";
  // The key set could not be fetched: a timeout, a non-200 answer, or fetch itself failing.
  if (error instanceof errors.JWKSTimeout || error?.code === "ERR_JOSE_GENERIC" || !(error instanceof errors.JOSEError)) return "jwks_unavailable";
  return "invalid";
}

/**
 * Verifies `X-Gate-Assertion` on `request` (a Fetch Request, or a Node/Express
 * request: anything with `method`, `url` and `headers`). EdDSA only; `issuer`
 * and `audience` are required; the token must be unexpired and issued for this
 * method and public URL. Resolves the identity; rejects with GateAssertionError.
 */
export async function verifyAssertion(request, options) {
  const { issuer, audience, clockTolerance = 5, currentDate, basePath = "" } = options ?? {};
  if (!issuer || !audience) throw new TypeError("verifyAssertion: issuer and audience are required");
  const token = headerOf(request, ASSERTION_HEADER);
  if (!token || token.includes(",")) throw new GateAssertionError("missing", `no single ${ASSERTION_HEADER} header`);
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keySetFor(options), {
      algorithms: ["EdDSA"],
      typ: "JWT",
      issuer,
      audience,
      requiredClaims: CLAIMS,
      clockTolerance,
      ...(currentDate && { currentDate }),
    }));
  } catch (error) {
    throw new GateAssertionError(codeOf(error), error?.message ?? String(error), { cause: error });
  }
  if (payload.htm !== request.method) throw new GateAssertionError("wrong_request", "htm does not match the request method");
  const url = options.url ? String(options.url).split(/[?#]/, 1)[0] : publicUrlOf(request, basePath);
  if (payload.htu !== url) throw new GateAssertionError("wrong_request", "htu does not match the request URL");
  const roles = Array.isArray(payload.roles) ? payload.roles : [];
  return { sub: payload.sub, sid: payload.sid, roles, authTime: payload.auth_time, jti: payload.jti, expiresAt: payload.exp, payload };
}
