// The OIDC test provider's control endpoints (test/oidc/provider.mjs) do what
// they promise, checked with the validators the gate will use: oauth4webapi for
// ID tokens from the token endpoint, jose for logout tokens. Each case also
// pins the error a validator reports, so gate tests can expect it.
// Run with `node --test test/oidc/`.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { completeLogin } from "./flow.mjs";
import { startProvider } from "./provider.mjs";
import { discover, finishLogin, rpClient, startLogin, verifyIdTokenSignature } from "./relying-party.mjs";

let harness;
let as;

before(async () => {
  harness = await startProvider();
  as = await discover(harness.issuer);
});
after(() => harness?.close());
beforeEach(() => harness.reset());

/** POSTs JSON to a control endpoint; resolves with [status, body]. */
async function control(path, body) {
  const response = await fetch(`${harness.issuer}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  return [response.status, await response.json()];
}

/** A complete confidential-client login as alice; resolves with what finishLogin gives. */
async function loginAndExchange(metadata = as, options = {}) {
  const rp = rpClient(harness);
  const pending = await startLogin(metadata, rp.client);
  const { callbackUrl } = await completeLogin(pending.url, { login: "alice" });
  return finishLogin(metadata, rp, callbackUrl, pending, options);
}

/** jose's verification of a logout token, with a fresh JWKS cache each time. */
const verifyLogout = (token, options = {}) =>
  jwtVerify(token, createRemoteJWKSet(new URL(as.jwks_uri)), {
    issuer: as.issuer,
    audience: harness.clients.confidential.clientId,
    typ: "logout+jwt",
    algorithms: ["RS256"],
    ...options,
  });

describe("POST /__test/token-tamper: the next ID token from the token endpoint", () => {
  const claimCases = [
    ["wrong aud", { claims: { aud: "someone-else" } }, oauth.JWT_CLAIM_COMPARISON, "aud"],
    ["extra aud without azp", { claims: { aud: ["gate-confidential", "other"] } }, oauth.JWT_CLAIM_COMPARISON, "aud"],
    ["wrong azp", { claims: { aud: ["gate-confidential", "other"], azp: "other" } }, oauth.JWT_CLAIM_COMPARISON, "azp"],
    ["wrong iss", { claims: { iss: "http://127.0.0.1:1" } }, oauth.JWT_CLAIM_COMPARISON, "iss"],
    ["another nonce", { claims: { nonce: "not-the-one-sent" } }, oauth.JWT_CLAIM_COMPARISON, "nonce"],
    ["no nonce", { claims: { nonce: null } }, oauth.INVALID_RESPONSE, undefined],
    ["expired beyond the 30 s tolerance", { relative: { exp: -120 } }, oauth.JWT_TIMESTAMP_CHECK, "exp"],
    ["not yet valid (nbf)", { relative: { nbf: 600 } }, oauth.JWT_TIMESTAMP_CHECK, "nbf"],
    ["no sub", { claims: { sub: null } }, oauth.INVALID_RESPONSE, undefined],
    ['alg "none"', { key: "none" }, oauth.INVALID_RESPONSE, undefined],
    ["HS256 with the client secret", { key: "secret" }, oauth.INVALID_RESPONSE, undefined],
  ];
  for (const [name, tamper, code, claim] of claimCases) {
    it(`${name} fails processAuthorizationCodeResponse with ${code}`, async () => {
      const [status] = await control("/__test/token-tamper", tamper);
      assert.equal(status, 200);
      await assert.rejects(loginAndExchange(), (error) => {
        assert.ok(error instanceof oauth.OperationProcessingError, error);
        assert.equal(error.code, code, error.message);
        assert.equal(error.cause?.claim, claim);
        return true;
      });
    });
  }

  it("expired by less than the tolerance, or iat in the future, still passes (the gate must decide)", async () => {
    harness.tamperNextToken({ relative: { exp: -20 } });
    await loginAndExchange();
    harness.tamperNextToken({ relative: { iat: 3600 } });
    const { claims } = await loginAndExchange();
    assert.ok(claims.iat > Date.now() / 1000 + 3000);
  });

  const keyCases = [
    ["an unknown key", { key: "unknown" }, oauth.KEY_SELECTION],
    ["an unknown key behind the provider's kid", { key: "unknown", header: { kid: "provider" } }, oauth.INVALID_RESPONSE],
    ["the unpublished next key", { key: "next" }, oauth.KEY_SELECTION],
  ];
  for (const [name, tamper, code] of keyCases) {
    it(`signed with ${name}: claims pass, validateApplicationLevelSignature fails with ${code}`, async () => {
      if (tamper.header?.kid === "provider") tamper.header.kid = harness.keyIds.provider;
      harness.tamperNextToken(tamper);
      const { response } = await loginAndExchange();
      await assert.rejects(verifyIdTokenSignature(as, response), { code });
    });
  }

  it("applies once and only to its client", async () => {
    harness.tamperNextToken({ clientId: harness.clients.public.clientId, claims: { aud: "x" } });
    await loginAndExchange();
    const { claims } = await loginAndExchange();
    assert.equal(claims.aud, harness.clients.confidential.clientId);
  });
});

describe("POST /__test/mint", () => {
  it("mints a logout token with the spec's claims, signed by the provider's key", async () => {
    const [status, { token, header, payload }] = await control("/__test/mint", { type: "logout_token", claims: { sid: "s-1" } });
    assert.equal(status, 200);
    assert.deepEqual(header, { alg: "RS256", kid: harness.keyIds.provider, typ: "logout+jwt" });
    assert.deepEqual(Object.keys(payload).sort(), ["aud", "events", "exp", "iat", "iss", "jti", "sid", "sub"]);
    const verified = await verifyLogout(token, { requiredClaims: ["jti", "events", "sid"] });
    assert.deepEqual(verified.payload, payload);
  });

  it("mints the variants a gate must refuse or dedupe: no sid, a nonce, a replayed jti, no events", async () => {
    const [, withoutSid] = await control("/__test/mint", { type: "logout_token" });
    assert.equal(withoutSid.payload.sid, undefined);
    const [, withNonce] = await control("/__test/mint", { type: "logout_token", claims: { nonce: "n" } });
    assert.equal(withNonce.payload.nonce, "n");
    const [, first] = await control("/__test/mint", { type: "logout_token", claims: { jti: "same" } });
    // A replay is the same token POSTed twice; this is a different token that reuses the jti.
    const [, second] = await control("/__test/mint", { type: "logout_token", claims: { jti: "same" }, relative: { iat: -5 } });
    assert.notEqual(first.token, second.token);
    assert.deepEqual([first.payload.jti, second.payload.jti], ["same", "same"]);
    const [, noEvents] = await control("/__test/mint", { type: "logout_token", claims: { events: null, sub: null, sid: "s" } });
    assert.deepEqual(Object.keys(noEvents.payload).sort(), ["aud", "exp", "iat", "iss", "jti", "sid"]);
    for (const minted of [withoutSid, withNonce, first, noEvents]) await verifyLogout(minted.token); // signature and standard claims still hold
  });

  it("mints tokens jose rejects, each with its own error code", async () => {
    const cases = [
      [{ key: "unknown" }, "ERR_JWKS_NO_MATCHING_KEY"],
      [{ key: "unknown", header: { kid: harness.keyIds.provider } }, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"],
      [{ key: "next" }, "ERR_JWKS_NO_MATCHING_KEY"],
      [{ key: "none" }, "ERR_JOSE_ALG_NOT_ALLOWED"],
      [{ relative: { exp: -60 } }, "ERR_JWT_EXPIRED"],
      [{ claims: { aud: "other" } }, "ERR_JWT_CLAIM_VALIDATION_FAILED"],
      [{ header: { typ: null } }, "ERR_JWT_CLAIM_VALIDATION_FAILED"],
    ];
    for (const [spec, code] of cases) {
      const [, { token }] = await control("/__test/mint", { type: "logout_token", ...spec });
      await assert.rejects(verifyLogout(token), { code }, JSON.stringify(spec));
    }
  });

  it("mints an ID token for either client", async () => {
    const [, minted] = await control("/__test/mint", { clientId: harness.clients.public.clientId, claims: { nonce: "abc", groups: ["x"] } });
    assert.equal(minted.header.typ, "JWT");
    assert.deepEqual([minted.payload.aud, minted.payload.iss, minted.payload.nonce], [harness.clients.public.clientId, harness.issuer, "abc"]);
  });

  it("answers 400 to a bad spec and 404 to an unknown endpoint", async () => {
    assert.equal((await control("/__test/mint", { key: "mine" }))[0], 400);
    assert.equal((await control("/__test/mint", { type: "access_token" }))[0], 400);
    assert.equal((await control("/__test/mint", { clientId: "nobody" }))[0], 400);
    assert.equal((await control("/__test/nothing"))[0], 404);
  });
});

describe("POST /__test/keys: key rotation", () => {
  it("publishes the next key, so tokens signed with it verify", async () => {
    const [, { token }] = await control("/__test/mint", { type: "logout_token", key: "next" });
    await assert.rejects(verifyLogout(token), { code: "ERR_JWKS_NO_MATCHING_KEY" });
    const [, jwks] = await control("/__test/keys", { publishNext: true });
    assert.deepEqual(
      jwks.keys.map((key) => key.kid),
      [harness.keyIds.provider, harness.keyIds.next],
    );
    await verifyLogout(token);
  });
});

describe("POST /__test/fault: outages", () => {
  const cases = [
    ["discovery", "http500", oauth.RESPONSE_IS_NOT_CONFORM],
    ["discovery", "garbage", oauth.PARSE_ERROR],
    ["token", "http500", oauth.RESPONSE_IS_NOT_CONFORM],
    ["token", "garbage", oauth.PARSE_ERROR],
    ["jwks", "http500", oauth.RESPONSE_IS_NOT_CONFORM],
    ["jwks", "garbage", oauth.PARSE_ERROR],
    ["discovery", "hang", "TimeoutError"],
    ["token", "hang", "TimeoutError"],
    ["jwks", "hang", "TimeoutError"],
  ];
  for (const [target, mode, expected] of cases) {
    it(`${target} ${mode} → ${expected}`, async () => {
      const metadata = await discover(harness.issuer); // a fresh `as`: oauth4webapi caches the JWKS per metadata object
      const check = (error) => (expected === "TimeoutError" ? error.name === expected : error.code === expected);
      const signal = () => AbortSignal.timeout(300);
      if (target === "discovery") {
        await control("/__test/fault", { target, mode });
        return assert.rejects(discover(harness.issuer, { signal: signal() }), check);
      }
      const rp = rpClient(harness);
      const pending = await startLogin(metadata, rp.client);
      const { callbackUrl } = await completeLogin(pending.url, { login: "alice" });
      await control("/__test/fault", { target, mode });
      await assert.rejects(
        (async () => {
          const { response } = await finishLogin(metadata, rp, callbackUrl, pending, { signal: signal() });
          await verifyIdTokenSignature(metadata, response, { signal: signal() });
        })(),
        check,
      );
    });
  }

  it("clears with mode normal, and leaves the login pages alone", async () => {
    await control("/__test/fault", { target: "all", mode: "http500" });
    assert.equal((await fetch(`${harness.issuer}/.well-known/openid-configuration`)).status, 500);
    const [, info] = await control("/__test/fault", { target: "all", mode: "normal" });
    assert.deepEqual(info.faults, {});
    await loginAndExchange(await discover(harness.issuer));
  });
});

describe("POST /__test/discovery", () => {
  it("overrides discovery fields, e.g. an issuer mix-up", async () => {
    await control("/__test/discovery", { overrides: { issuer: "http://127.0.0.1:1", end_session_endpoint: null } });
    await assert.rejects(discover(harness.issuer), { code: oauth.JSON_ATTRIBUTE_COMPARISON });
    const raw = await (await fetch(`${harness.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(raw.end_session_endpoint, undefined);
    await control("/__test/discovery", { overrides: {}, replace: true });
    assert.equal((await discover(harness.issuer)).issuer, harness.issuer);
  });
});
