// The OIDC test provider (test/oidc/provider.mjs) driven end to end by a real
// relying party (oauth4webapi), without a browser: discovery, code flow with
// PKCE S256 + state + nonce for the confidential and the public client, the
// login form, RP-initiated logout and the back-channel logout it sends.
// Run with `node --test test/oidc/`.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { completeLogin, completeLogout, parseForm } from "./flow.mjs";
import { BACKCHANNEL_LOGOUT_EVENT } from "./control.mjs";
import { startProvider } from "./provider.mjs";
import { REDIRECT_URI, discover, finishLogin, rpClient, startLogin, verifyIdTokenSignature } from "./relying-party.mjs";

let harness;
let as;

before(async () => {
  harness = await startProvider({ postLogoutRedirectUris: ["https://gate.example/_gate/oidc/corp/logged-out"] });
  as = await discover(harness.issuer);
});
after(() => harness?.close());
beforeEach(() => harness.reset());

/** Verifies a logout token as the gate must (oauth4webapi has no back-channel logout support): jose + the JWKS. */
async function verifyLogoutToken(token, audience = harness.clients.confidential.clientId) {
  const jwks = createRemoteJWKSet(new URL(as.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: as.issuer,
    audience,
    typ: "logout+jwt",
    algorithms: ["RS256"],
    requiredClaims: ["iat", "exp", "jti", "events"],
    maxTokenAge: "2 minutes",
  });
  assert.ok(payload.events && typeof payload.events[BACKCHANNEL_LOGOUT_EVENT] === "object", "events carries the back-channel logout event");
  assert.equal(payload.nonce, undefined, "a logout token has no nonce");
  assert.ok(payload.sub || payload.sid, "a logout token names a sub or a sid");
  return { payload, protectedHeader };
}

describe("discovery", () => {
  it("serves the issuer, the endpoints and the logout capabilities the gate needs", () => {
    assert.equal(as.issuer, harness.issuer);
    assert.match(harness.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const endpoint of ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint"]) {
      assert.ok(as[endpoint]?.startsWith(harness.issuer), `${endpoint} is on the issuer`);
    }
    assert.deepEqual(as.code_challenge_methods_supported, ["S256"]);
    assert.equal(as.backchannel_logout_supported, true);
    assert.equal(as.backchannel_logout_session_supported, true);
    assert.equal(as.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(as.id_token_signing_alg_values_supported, ["RS256"]);
    assert.ok(as.scopes_supported.includes("groups"));
  });

  it("is refused over http unless allowInsecureRequests is set", async () => {
    await assert.rejects(oauth.discoveryRequest(new URL(harness.issuer)), { code: oauth.HTTP_REQUEST_FORBIDDEN });
  });
});

describe("code flow, confidential client (client_secret_basic)", () => {
  it("logs in through the HTML form and validates the ID token", async () => {
    const rp = rpClient(harness);
    const pending = await startLogin(as, rp.client);
    const login = await completeLogin(pending.url, { login: "alice" });
    assert.deepEqual(
      login.steps.map((step) => step.status),
      [303, 200, 303, 303, 303, 303],
      "auth, form, login, resume, consent, resume",
    );
    assert.ok(login.callbackUrl.startsWith(`${REDIRECT_URI}?`));
    assert.equal(login.state, pending.state);
    assert.equal(login.iss, harness.issuer);

    const seen = [];
    const spy = async (url, init) => (seen.push({ url, authorization: new Headers(init.headers).get("authorization") }), fetch(url, init));
    const { tokens, claims, response } = await finishLogin(as, rp, login.callbackUrl, pending, { [oauth.customFetch]: spy });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, as.token_endpoint);
    // RFC 6749 2.3.1: both halves are form-urlencoded before base64 (oauth4webapi escapes even "-" and "_").
    const [id, secret] = Buffer.from(seen[0].authorization.replace(/^Basic /, ""), "base64")
      .toString()
      .split(":")
      .map(decodeURIComponent);
    assert.deepEqual([id, secret], [harness.clients.confidential.clientId, harness.clients.confidential.clientSecret]);
    assert.equal(tokens.token_type, "bearer");
    assert.equal(typeof tokens.access_token, "string");
    assert.equal(claims.iss, harness.issuer);
    assert.equal(claims.aud, harness.clients.confidential.clientId);
    assert.equal(claims.nonce, pending.nonce);
    assert.equal(claims.sub, "alice");
    assert.equal(claims.email, "alice@example.com");
    assert.equal(claims.email_verified, true);
    assert.equal(claims.name, "Alice Example");
    assert.deepEqual(claims.groups, ["staff", "admins"]);
    assert.equal(typeof claims.sid, "string", "sid is in the ID token (backchannel_logout_session_required)");
    assert.equal(decodeProtectedHeader(tokens.id_token).kid, harness.keyIds.provider);
    await verifyIdTokenSignature(as, response);
  });

  it("logs in a second time without a prompt while the provider session lasts", async () => {
    const rp = rpClient(harness);
    const first = await startLogin(as, rp.client);
    const { cookies } = await completeLogin(first.url, { login: "bob" });
    const second = await startLogin(as, rp.client);
    const again = await completeLogin(second.url, { cookies });
    assert.deepEqual(
      again.steps.map((step) => step.status),
      [303],
      "straight back with a code",
    );
    const { claims } = await finishLogin(as, rp, again.callbackUrl, second);
    assert.equal(claims.sub, "bob");
    assert.equal(claims.email_verified, false);
    assert.deepEqual(claims.groups, []);
  });

  it("serves users defined per test, and POST /__test/login completes a flow server-side", async () => {
    const carol = { sub: "carol-id", username: "carol", email: "carol@corp.example", email_verified: true, name: "Carol", groups: ["ops"] };
    const defined = await fetch(`${harness.issuer}/__test/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ users: [carol] }),
    });
    assert.equal(defined.status, 200);
    const rp = rpClient(harness);
    const pending = await startLogin(as, rp.client);
    const response = await fetch(`${harness.issuer}/__test/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: pending.url, login: "carol" }),
    });
    const login = await response.json();
    assert.equal(response.status, 200, JSON.stringify(login));
    assert.equal(login.state, pending.state);
    assert.ok(login.cookies.some((cookie) => cookie.name === "_session"));
    const { claims } = await finishLogin(as, rp, login.callbackUrl, pending);
    assert.deepEqual([claims.sub, claims.email, claims.groups], ["carol-id", "carol@corp.example", ["ops"]]);
  });
});

describe("code flow, public client (none + PKCE)", () => {
  it("completes with auto-login on login_hint, no form, and token_endpoint_auth_method none", async () => {
    harness.setAutoLogin(true);
    const rp = rpClient(harness, "public");
    const pending = await startLogin(as, rp.client, { loginHint: "alice" });
    const login = await completeLogin(pending.url);
    assert.deepEqual(
      login.steps.map((step) => step.status),
      [303, 303, 303, 303, 303],
      "no 200: the login form was skipped",
    );
    const { claims } = await finishLogin(as, rp, login.callbackUrl, pending);
    assert.equal(claims.aud, harness.clients.public.clientId);
    assert.equal(claims.sub, "alice");
  });

  it("rejects an authorization request without code_challenge", async () => {
    const rp = rpClient(harness, "public");
    const pending = await startLogin(as, rp.client, { extra: { code_challenge: undefined, code_challenge_method: undefined } });
    pending.url.searchParams.delete("code_challenge");
    pending.url.searchParams.delete("code_challenge_method");
    const login = await completeLogin(pending.url, { login: "alice" });
    assert.equal(login.error, "invalid_request");
    assert.throws(() => oauth.validateAuthResponse(as, rp.client, new URL(login.callbackUrl), pending.state), oauth.AuthorizationResponseError);
  });

  it("rejects a code exchange with the wrong code_verifier", async () => {
    const rp = rpClient(harness, "public");
    const pending = await startLogin(as, rp.client);
    const login = await completeLogin(pending.url, { login: "alice" });
    pending.codeVerifier = oauth.generateRandomCodeVerifier();
    await assert.rejects(
      finishLogin(as, rp, login.callbackUrl, pending),
      (error) => error instanceof oauth.ResponseBodyError && error.error === "invalid_grant",
    );
  });
});

describe("login form", () => {
  it("has a username field and a submit button, and answers 401 to an unknown user", async () => {
    const rp = rpClient(harness);
    const pending = await startLogin(as, rp.client, { loginHint: "al" });
    await assert.rejects(completeLogin(pending.url, { login: "mallory" }), /answered 401 .*\/login/s);
    const auth = await fetch(pending.url, { redirect: "manual" });
    const cookie = auth.headers
      .getSetCookie()
      .map((line) => line.split(";")[0])
      .join("; ");
    const page = await fetch(new URL(auth.headers.get("location"), harness.issuer), { headers: { cookie } });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(html, /<input id="login" name="login"[^>]*value="al"/);
    assert.match(html, /<button id="login-submit" type="submit">/);
    assert.match(parseForm(html).action, /^\/interaction\/[^/]+\/login$/);
  });
});

describe("logout", () => {
  it("RP-initiated logout sends a back-channel logout token for the session's sid", async () => {
    const rp = rpClient(harness);
    const pending = await startLogin(as, rp.client);
    const { callbackUrl, cookies } = await completeLogin(pending.url, { login: "alice" });
    const { tokens, claims } = await finishLogin(as, rp, callbackUrl, pending);
    const endSession = new URL(as.end_session_endpoint);
    endSession.searchParams.set("id_token_hint", tokens.id_token);
    endSession.searchParams.set("post_logout_redirect_uri", "https://gate.example/_gate/oidc/corp/logged-out");
    endSession.searchParams.set("state", "bye");
    const { location } = await completeLogout(endSession, { cookies });
    assert.equal(location, "https://gate.example/_gate/oidc/corp/logged-out?state=bye");
    const [sent, ...more] = harness.backchannelLogouts({ sid: claims.sid });
    assert.equal(more.length, 0);
    assert.equal(sent.uri, "https://gate.example/_gate/oidc/corp/backchannel-logout");
    const { payload, protectedHeader } = await verifyLogoutToken(sent.logoutToken);
    assert.equal(protectedHeader.typ, "logout+jwt");
    assert.deepEqual([payload.sub, payload.sid], ["alice", claims.sid]);
    // The session is gone: the next authorization request prompts again.
    const next = await startLogin(as, rp.client);
    await assert.rejects(completeLogin(next.url, { cookies }), /pass `login`/);
  });

  it("POST /__test/backchannel-logout mints a real logout token for a sub and sid", async () => {
    const response = await fetch(`${harness.issuer}/__test/backchannel-logout`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "alice", sid: "sid-123" }),
    });
    const body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.uri, "https://gate.example/_gate/oidc/corp/backchannel-logout");
    const { payload } = await verifyLogoutToken(body.logoutToken);
    assert.deepEqual([payload.sub, payload.sid, payload.exp - payload.iat], ["alice", "sid-123", 120]);
    const listed = await (await fetch(`${harness.issuer}/__test/backchannel-logouts?sid=sid-123`)).json();
    assert.deepEqual(
      listed.logouts.map((entry) => entry.logoutToken),
      [body.logoutToken],
    );
  });

  it("POST /__test/logout signs out server-side and returns the logout tokens", async () => {
    const rp = rpClient(harness, "public");
    const pending = await startLogin(as, rp.client);
    const login = await harness.login(pending.url, { login: "bob" });
    const { claims } = await finishLogin(as, rp, login.callbackUrl, pending);
    const endSession = `${as.end_session_endpoint}?client_id=${harness.clients.public.clientId}`;
    const response = await fetch(`${harness.issuer}/__test/logout`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: endSession, cookies: login.cookies }),
    });
    const { location, logouts } = await response.json();
    assert.match(location, /\/session\/end\/success/);
    assert.equal(logouts.length, 1);
    const { payload } = await verifyLogoutToken(logouts[0].logoutToken, harness.clients.public.clientId);
    assert.deepEqual([payload.sub, payload.sid], ["bob", claims.sid]);
  });
});
