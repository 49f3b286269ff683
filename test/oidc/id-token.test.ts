// The ID token checks, against the real provider: each test has the next token
// response's id_token re-signed with one thing wrong (POST /__test/token-tamper),
// then runs a real login through the gate's callback.
import { beforeEach, describe, expect, it } from "vitest";
import { createOidcGate, control, issuerOf, logInWithProvider } from "./helpers";
import { expectRefused } from "./refusals";

const ISSUER = issuerOf("tamper");
const JSON_ACCEPT = { Accept: "application/json" };
const tamper = (spec: Record<string, unknown>) => control(ISSUER, "token-tamper", { clientId: "gate-confidential", ...spec });
const keyIds = async () => ((await (await fetch(`${ISSUER}/__test/info`)).json()) as { keyIds: Record<string, string> }).keyIds;

/** A login through a fresh gate whose ID token was tampered with as `spec` says. */
async function tamperedLogin(spec: Record<string, unknown>) {
  const gate = await createOidcGate({ harness: "tamper" });
  await tamper(spec);
  const { response } = await logInWithProvider(gate, { headers: JSON_ACCEPT });
  return { gate, response };
}

beforeEach(async () => {
  await control(ISSUER, "reset");
});

describe("the ID token", () => {
  it("passes untouched (the tamper harness itself logs in)", async () => {
    const gate = await createOidcGate({ harness: "tamper" });
    const { response } = await logInWithProvider(gate);
    expect(response.status).toBe(303);
  });

  it.each([
    ["a wrong nonce", { claims: { nonce: "not-the-one-the-gate-sent" } }, "nonce"],
    ["a wrong aud", { claims: { aud: "another-client" } }, "aud"],
    ["an extra aud without azp", { claims: { aud: ["gate-confidential", "another-client"] } }, "aud"],
    ["an extra aud with a wrong azp", { claims: { aud: ["gate-confidential", "another-client"], azp: "another-client" } }, "azp"],
    ["a wrong azp beside a single aud", { claims: { azp: "another-client" } }, "azp"],
    ["another issuer", { claims: { iss: "https://evil.example" } }, "iss"],
    ["an expired exp (2 minutes ago)", { relative: { exp: -120 } }, "exp"],
    ["a nbf 10 minutes ahead", { relative: { nbf: 600 } }, "nbf"],
  ])("is refused with %s", async (_name, spec, claim) => {
    const { gate, response } = await tamperedLogin(spec);
    await expectRefused(gate, response, 401, "id_token_invalid");
    expect(gate.events("oidc.failed")[0]).toMatchObject({ provider: "corp", step: "callback", detail: claim });
  });

  it("is refused without sub", async () => {
    const { gate, response } = await tamperedLogin({ claims: { sub: null } });
    await expectRefused(gate, response, 401, "id_token_invalid");
  });

  it("is refused with alg none", async () => {
    const { gate, response } = await tamperedLogin({ key: "none" });
    await expectRefused(gate, response, 401, "id_token_alg");
  });

  it("is refused signed HS256 with the client secret (alg confusion)", async () => {
    const { gate, response } = await tamperedLogin({ key: "secret" });
    await expectRefused(gate, response, 401, "id_token_alg");
  });

  it("is refused signed by a key the provider never published (its claims all pass)", async () => {
    const { gate, response } = await tamperedLogin({ key: "unknown" });
    await expectRefused(gate, response, 401, "id_token_unknown_key");
  });

  it("is refused signed by another key under the provider's own kid", async () => {
    const { gate, response } = await tamperedLogin({ key: "unknown", header: { kid: (await keyIds()).provider } });
    await expectRefused(gate, response, 401, "id_token_signature");
  });

  it("is refused when issued an hour in the future (oauth4webapi only type-checks iat)", async () => {
    const { gate, response } = await tamperedLogin({ relative: { iat: 3_600 } });
    await expectRefused(gate, response, 401, "id_token_iat");
  });

  it("from a new key is refused while the JWKS is fresh (refetched at most once a minute), accepted with a fresh cache", async () => {
    const gate = await createOidcGate({ harness: "tamper" });
    expect((await logInWithProvider(gate)).response.status).toBe(303);
    await control(ISSUER, "keys", { publishNext: true });
    await tamper({ key: "next" });
    const refused = await logInWithProvider(gate, { headers: JSON_ACCEPT });
    expect(refused.response.status).toBe(401);
    expect(gate.events("oidc.failed")[0]).toMatchObject({ reason: "id_token_unknown_key" });

    const rotated = await createOidcGate({ harness: "tamper" });
    await tamper({ key: "next" });
    expect((await logInWithProvider(rotated)).response.status).toBe(303);
  });
});
