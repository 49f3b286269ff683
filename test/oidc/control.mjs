// The test-only parts of the OpenID Provider harness (test/oidc/provider.mjs):
// signing keys, minting arbitrary JWTs, fault injection, and capturing the
// back-channel logout requests the provider sends. No HTTP here; provider.mjs
// exposes all of it under /__test/*.
import { createHmac, createPrivateKey, createSign, randomBytes, randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair } from "jose";

/** Endpoints faults apply to, by the provider's route paths (see provider.mjs ROUTES). */
export const FAULT_TARGETS = ["discovery", "jwks", "authorization", "token", "userinfo", "end_session", "all"];
/** Fault modes: 500 with a text body, held until released (then 504), 200 with a non-JSON body. */
export const FAULT_MODES = ["normal", "http500", "hang", "garbage"];
/** Keys a minted JWT can be signed with. */
export const MINT_KEYS = ["provider", "unknown", "next", "secret", "none"];
export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** An error whose message is the 400 answer to a control request. */
export class ControlError extends Error {}

const b64u = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

async function rsaKey(kid) {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
  const meta = { kid, alg: "RS256", use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), ...meta };
  return {
    kid,
    privateJwk,
    publicJwk: { ...(await exportJWK(publicKey)), ...meta },
    keyObject: createPrivateKey({ key: privateJwk, format: "jwk" }),
  };
}

/**
 * The provider's signing key (in its JWKS from the start), a key the provider
 * never publishes ("unknown"), and a "next" key published only after
 * publishNext(true), for key rotation tests.
 */
export async function createKeys() {
  const tag = randomBytes(4).toString("hex");
  const [provider, unknown, next] = await Promise.all([rsaKey(`provider-${tag}`), rsaKey(`unknown-${tag}`), rsaKey(`next-${tag}`)]);
  let nextPublished = false;
  return {
    provider,
    unknown,
    next,
    /** The JWKS the provider's jwks_uri serves now. */
    publicJwks: () => ({ keys: nextPublished ? [provider.publicJwk, next.publicJwk] : [provider.publicJwk] }),
    publishNext(value) {
      nextPublished = Boolean(value);
    },
    get nextPublished() {
      return nextPublished;
    },
  };
}

/**
 * Signs `header.payload` as a compact JWS. The header is written as given
 * (so it may lie about alg or kid); the signature is RS256 for the RSA keys,
 * HS256 with `secret` for "secret", and empty for "none".
 */
export function signCompact(header, payload, { keys, key = "provider", secret }) {
  if (!MINT_KEYS.includes(key)) throw new ControlError(`key must be one of ${MINT_KEYS.join(", ")}`);
  const input = `${b64u(header)}.${b64u(payload)}`;
  if (key === "none") return `${input}.`;
  if (key === "secret") {
    if (!secret) throw new ControlError('key "secret" needs a client with a client_secret');
    return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
  }
  return `${input}.${createSign("RSA-SHA256").update(input).sign(keys[key].keyObject).toString("base64url")}`;
}

/**
 * Builds and signs an ID token or logout token (or a bare JWT) for `client`.
 * Defaults: an ID token has iss, aud, sub, iat, exp (+5 min), auth_time; a
 * logout token has iss, aud, sub, iat, exp (+2 min), jti, the back-channel
 * logout event, and `sid` when given. `claims` overrides them (a null value
 * removes the claim); `relative` sets claims to now + N seconds (exp: -60 is
 * one minute expired). `header` overrides { alg, kid, typ }; "logout+jwt" is
 * the logout token's typ. `base`, when given, replaces the defaults (the
 * token endpoint tamper re-signs the real ID token's claims this way).
 * Resolves with the compact JWT and what was signed.
 */
export function mintToken({ type = "id_token", claims = {}, relative = {}, header = {}, key = "provider", base, issuer, client, keys }) {
  if (!["id_token", "logout_token", "jwt"].includes(type)) throw new ControlError('type must be "id_token", "logout_token" or "jwt"');
  if (typeof claims !== "object" || typeof relative !== "object" || typeof header !== "object")
    throw new ControlError("claims, relative and header must be objects");
  const iat = now();
  const common = { iss: issuer, aud: client?.clientId, iat };
  const defaults =
    base ??
    {
      id_token: { ...common, sub: "alice", exp: iat + 300, auth_time: iat },
      logout_token: { ...common, sub: "alice", exp: iat + 120, jti: randomUUID(), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } },
      jwt: { ...common, exp: iat + 300 },
    }[type];
  const payload = { ...defaults, ...claims };
  for (const [name, offset] of Object.entries(relative)) {
    if (typeof offset !== "number") throw new ControlError(`relative.${name} must be a number of seconds`);
    payload[name] = iat + offset;
  }
  for (const [name, value] of Object.entries(payload)) if (value === null || value === undefined) delete payload[name];
  const signer = key === "secret" || key === "none" ? undefined : keys[key];
  const protectedHeader = {
    alg: key === "none" ? "none" : key === "secret" ? "HS256" : "RS256",
    ...(signer ? { kid: signer.kid } : {}),
    ...(type === "logout_token" ? { typ: "logout+jwt" } : type === "id_token" ? { typ: "JWT" } : {}),
    ...header,
  };
  for (const [name, value] of Object.entries(protectedHeader)) if (value === null) delete protectedHeader[name];
  const token = signCompact(protectedHeader, payload, { keys, key, secret: client?.clientSecret });
  return { token, header: protectedHeader, payload };
}

/** Decodes a compact JWT's header and payload (no verification). */
export function decodeJwt(token) {
  const [header, payload] = String(token).split(".");
  return { header: JSON.parse(Buffer.from(header, "base64url")), payload: JSON.parse(Buffer.from(payload, "base64url")) };
}

/** Fault modes per target, and the requests "hang" holds (released after hangTimeoutMs with a 504). */
export function createFaults(hangTimeoutMs) {
  const modes = new Map();
  const held = new Set();
  const modeFor = (target) => (target === undefined ? "normal" : (modes.get(target) ?? modes.get("all") ?? "normal"));
  return {
    modeFor,
    set(target, mode) {
      if (!FAULT_TARGETS.includes(target)) throw new ControlError(`target must be one of ${FAULT_TARGETS.join(", ")}`);
      if (!FAULT_MODES.includes(mode)) throw new ControlError(`mode must be one of ${FAULT_MODES.join(", ")}`);
      if (mode === "normal") modes.delete(target);
      else modes.set(target, mode);
      for (const entry of [...held]) if (modeFor(entry.target) !== "hang") entry.release();
    },
    /** Every target's mode other than "normal". */
    list: () => Object.fromEntries(modes),
    /** Waits until the target's mode changes, the client goes away, or hangTimeoutMs passes. */
    hang(res, target) {
      return new Promise((resolve) => {
        const entry = { target, release };
        const timer = setTimeout(release, hangTimeoutMs);
        function release() {
          clearTimeout(timer);
          held.delete(entry);
          resolve();
        }
        held.add(entry);
        res.once("close", release);
      });
    },
    clear() {
      modes.clear();
      for (const entry of [...held]) entry.release();
    },
  };
}

/**
 * The provider's outgoing fetch: nothing leaves this machine. A POST with a
 * logout_token (a back-channel logout, to a client's backchannel_logout_uri)
 * is recorded and answered 200 (or `status()`); anything else fails.
 */
export function createOutbox({ status = () => 200 } = {}) {
  const sent = [];
  return {
    sent,
    async fetch(url, options = {}) {
      const body = new URLSearchParams(options.body instanceof URLSearchParams ? options.body : String(options.body ?? ""));
      const logoutToken = body.get("logout_token");
      if (options.method !== "POST" || !logoutToken)
        throw new TypeError(`the test provider makes no outgoing requests (${options.method ?? "GET"} ${url})`);
      const { payload } = decodeJwt(logoutToken);
      sent.push({
        uri: String(url),
        logoutToken,
        claims: payload,
        clientId: [payload.aud].flat()[0],
        sub: payload.sub,
        sid: payload.sid,
        at: Date.now(),
      });
      return new Response(null, { status: status(String(url)) });
    },
    /** Recorded logout requests, oldest first, matching every given field of `filter`. */
    find(filter = {}) {
      return sent.filter((entry) => Object.entries(filter).every(([name, value]) => value === undefined || entry[name] === value));
    },
    clear() {
      sent.length = 0;
    },
  };
}

/**
 * Changes to the provider's next answers: token responses whose id_token is
 * replaced (re-signed with changed claims or header, or swapped for a given
 * token), and discovery metadata overrides. Each token tamper applies once, to
 * the first token response for its clientId (any client when omitted).
 */
export function createTampers() {
  const tokens = [];
  let discovery = {};
  return {
    /** Queues `{ clientId?, claims?, relative?, header?, key?, token? }`; returns how many are queued. */
    addTokenTamper(spec = {}) {
      if (spec.key !== undefined && !MINT_KEYS.includes(spec.key)) throw new ControlError(`key must be one of ${MINT_KEYS.join(", ")}`);
      tokens.push({ ...spec });
      return tokens.length;
    },
    /** Removes and returns the tamper for a token response to `clientId`, if any. */
    takeTokenTamper(clientId) {
      const index = tokens.findIndex((spec) => spec.clientId === undefined || spec.clientId === clientId);
      return index < 0 ? undefined : tokens.splice(index, 1)[0];
    },
    /** Merges `overrides` into discovery (a null value removes a field); `{}` with replace resets. */
    setDiscovery(overrides = {}, { replace = false } = {}) {
      discovery = replace ? { ...overrides } : { ...discovery, ...overrides };
      return discovery;
    },
    applyDiscovery(metadata) {
      const result = { ...metadata, ...discovery };
      for (const [name, value] of Object.entries(result)) if (value === null) delete result[name];
      return result;
    },
    clear() {
      tokens.length = 0;
      discovery = {};
    },
    /** Koa middleware for provider.use(): upstream of every route, it rewrites discovery and token responses. */
    middleware({ issuer, keys }) {
      return async (ctx, next) => {
        await next();
        if (ctx.status !== 200 || typeof ctx.body !== "object" || ctx.body === null) return;
        if (ctx.oidc?.route === "discovery") ctx.body = this.applyDiscovery(ctx.body);
        if (ctx.oidc?.route !== "token" || typeof ctx.body.id_token !== "string") return;
        const spec = this.takeTokenTamper(ctx.oidc.client?.clientId);
        if (!spec) return;
        const { payload } = decodeJwt(ctx.body.id_token);
        const id_token = spec.token ?? mintToken({ type: "jwt", ...spec, base: payload, issuer, keys, client: ctx.oidc.client }).token;
        ctx.body = { ...ctx.body, id_token };
      };
    },
  };
}
