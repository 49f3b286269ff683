// Back-channel logout against the real provider: its own logout tokens
// (POST /__test/backchannel-logout runs oidc-provider's code) and minted ones
// with one thing wrong each (POST /__test/mint).
import { describe, expect, it } from "vitest";
import { cookie, tokenFrom } from "../helpers/gate";
import { createCookieJar } from "./flow.mjs";
import { type OidcGate, control, createOidcGate, issuerOf, logInWithProvider } from "./helpers";

const ISSUER = issuerOf();
const ENDPOINT = "/_gate/oidc/corp/backchannel-logout";
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

/** The provider's own logout token for `sub` (and `sid`), for the confidential client. */
async function realLogoutToken(sub: string, sid?: string): Promise<string> {
  return (await control<{ logoutToken: string }>(ISSUER, "backchannel-logout", { sub, sid })).logoutToken;
}

/** A logout token minted with `spec` (claims, relative, header, key, clientId). */
async function minted(spec: Record<string, unknown>): Promise<string> {
  return (await control<{ token: string }>(ISSUER, "mint", { type: "logout_token", ...spec })).token;
}

const post = (gate: OidcGate, body: string, headers: Record<string, string> = FORM) => gate.request(ENDPOINT, { method: "POST", headers, body });
const postToken = (gate: OidcGate, token: string) => post(gate, new URLSearchParams({ logout_token: token }).toString());

/** A login through the provider, in a browser of its own; returns the session token, sid and provider sid. */
async function providerSession(gate: OidcGate, user = "alice", provider = "corp") {
  const { response } = await logInWithProvider(gate, { user, provider, jar: createCookieJar() });
  const token = tokenFrom(response) as string;
  const { sid } = (await (await gate.request("/_gate/session", { headers: cookie(token) })).json()) as { sid: string };
  const record = await gate.store.get(sid);
  return { token, sid, idpSid: record?.idpSid as string };
}

const alive = async (gate: OidcGate, token: string) => (await gate.request("/_gate/session", { headers: cookie(token) })).status === 200;

describe("POST /_gate/oidc/<name>/backchannel-logout", () => {
  it("with sid ends the sessions of that provider session, and only those", async () => {
    const gate = await createOidcGate();
    const first = await providerSession(gate);
    const second = await providerSession(gate);
    const viaPub = await providerSession(gate, "alice", "pub");
    const bob = await providerSession(gate, "bob");
    const origin = await gate.login("alice");
    expect(first.idpSid).not.toBe(second.idpSid);
    gate.origin.received.splice(0);

    const response = await postToken(gate, await realLogoutToken("alice", first.idpSid));
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await alive(gate, first.token)).toBe(false);
    for (const survivor of [second.token, viaPub.token, bob.token, origin]) expect(await alive(gate, survivor)).toBe(true);
    expect(gate.events("oidc.backchannel_logout")).toEqual([expect.objectContaining({ provider: "corp", by: "sid", sids: [first.sid] })]);
    expect(gate.events("session.revoked").filter((e) => e.reason === "idp_logout")).toEqual([expect.objectContaining({ sid: first.sid })]);
    expect(gate.origin.received.filter((seen) => seen.path.startsWith("/_gate"))).toEqual([]);
  });

  it("with sub alone ends every session of that user from that provider; X-Gate-Login and other providers' survive", async () => {
    const gate = await createOidcGate();
    const first = await providerSession(gate);
    const second = await providerSession(gate);
    const viaPub = await providerSession(gate, "alice", "pub");
    const bob = await providerSession(gate, "bob");
    const origin = await gate.login("alice");

    const response = await postToken(gate, await realLogoutToken("alice"));
    expect(response.status).toBe(200);
    expect(await alive(gate, first.token)).toBe(false);
    expect(await alive(gate, second.token)).toBe(false);
    for (const survivor of [viaPub.token, bob.token, origin]) expect(await alive(gate, survivor)).toBe(true);
    expect(gate.events("oidc.backchannel_logout")[0]).toMatchObject({ by: "sub", sids: expect.arrayContaining([first.sid, second.sid]) });
  });

  it("finds the user by the provider's sub when user_claim is not sub", async () => {
    const gate = await createOidcGate({ corp: { user_claim: "email" } });
    const session = await providerSession(gate);
    expect(await postToken(gate, await realLogoutToken("alice"))).toHaveProperty("status", 200);
    expect(await alive(gate, session.token)).toBe(false);
  });

  it("answers 200 for a provider session it does not know (nothing to end)", async () => {
    const gate = await createOidcGate();
    expect((await postToken(gate, await realLogoutToken("nobody", "no-such-sid"))).status).toBe(200);
  });

  it("refuses a replayed logout token (jti used once)", async () => {
    const gate = await createOidcGate();
    const session = await providerSession(gate);
    const token = await realLogoutToken("alice", session.idpSid);
    expect((await postToken(gate, token)).status).toBe(200);
    const replay = await postToken(gate, token);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({ error: "bad_request" });
    expect(gate.events("oidc.failed")).toEqual([expect.objectContaining({ reason: "logout_token_replayed", step: "backchannel_logout" })]);
  });

  it("is not CSRF-checked: a provider's POST carries no Origin or Sec-Fetch-Site to check", async () => {
    const gate = await createOidcGate();
    const body = new URLSearchParams({ logout_token: await realLogoutToken("alice") }).toString();
    expect((await post(gate, body, { ...FORM, "Sec-Fetch-Site": "cross-site", Origin: ISSUER })).status).toBe(200);
  });

  it("accepts a minted logout token without typ and without exp (some providers omit them)", async () => {
    const gate = await createOidcGate();
    expect((await postToken(gate, await minted({ header: { typ: null }, claims: { exp: null } }))).status).toBe(200);
  });

  it.each([
    ["a nonce", { claims: { nonce: "n" } }, "nonce"],
    ["no events", { claims: { events: null } }, "ERR_JWT_CLAIM_VALIDATION_FAILED"],
    ["events without the back-channel member", { claims: { events: { "http://example.com/other": {} } } }, "events"],
    ["the back-channel member not an object", { claims: { events: { "http://schemas.openid.net/event/backchannel-logout": "yes" } } }, "events"],
    ["neither sub nor sid", { claims: { sub: null, sid: null } }, "sub_or_sid"],
    ["no jti", { claims: { jti: null } }, "ERR_JWT_CLAIM_VALIDATION_FAILED"],
    ["another audience", { clientId: "gate-public" }, "ERR_JWT_CLAIM_VALIDATION_FAILED"],
    ["another issuer", { claims: { iss: "https://evil.example" } }, "ERR_JWT_CLAIM_VALIDATION_FAILED"],
    ["an expired exp", { relative: { exp: -60 } }, "ERR_JWT_EXPIRED"],
    ["an iat over 5 minutes old and no exp", { relative: { iat: -600 }, claims: { exp: null } }, "ERR_JWT_EXPIRED"],
    ["an iat in the future", { relative: { iat: 600, exp: 900 } }, "ERR_JWT_CLAIM_VALIDATION_FAILED"],
    ["the typ of another JWT", { header: { typ: "JWT" } }, "typ"],
    ["a signature by an unknown key", { key: "unknown" }, "ERR_JWKS_NO_MATCHING_KEY"],
    ["alg none", { key: "none" }, "ERR_JOSE_ALG_NOT_ALLOWED"],
    ["HS256 with the client secret", { key: "secret" }, "ERR_JOSE_ALG_NOT_ALLOWED"],
  ] as [string, { claims?: Record<string, unknown> } & Record<string, unknown>, string][])(
    "refuses a logout token with %s (400)",
    async (_name, spec, detail) => {
      const gate = await createOidcGate();
      const session = await providerSession(gate);
      const response = await postToken(gate, await minted({ ...spec, claims: { sid: session.idpSid, ...spec.claims } }));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: "bad_request" });
      expect(gate.events("oidc.failed")).toEqual([expect.objectContaining({ reason: "logout_token_invalid", detail })]);
      expect(await alive(gate, session.token)).toBe(true);
    },
  );

  it("refuses an ID token posted as a logout token", async () => {
    const gate = await createOidcGate();
    const { token } = await control<{ token: string }>(ISSUER, "mint", { type: "id_token", claims: { nonce: "n" } });
    expect((await postToken(gate, token)).status).toBe(400);
  });

  it.each([
    ["no logout_token", "other=1", FORM],
    ["logout_token twice", "logout_token=a&logout_token=b", FORM],
    ["a JSON body", JSON.stringify({ logout_token: "x" }), { "Content-Type": "application/json" }],
    ["a body over 16 KiB", `logout_token=${"a".repeat(17_000)}`, FORM],
    ["garbage", "logout_token=not.a.jwt", FORM],
  ])("refuses a request with %s (400)", async (_name, body, headers) => {
    const gate = await createOidcGate();
    const response = await post(gate, body, headers);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "bad_request" });
    expect(gate.origin.received).toEqual([]);
  });
});
