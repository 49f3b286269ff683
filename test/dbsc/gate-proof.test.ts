import { describe, expect, it, vi } from "vitest";
import { base64url } from "jose";
import { hmacKey } from "../../src/derive";
import { CHALLENGE_KEY_INFO, createChallenges } from "../../src/dbsc/challenge";
import { readProofHeader, serializeString } from "../../src/dbsc/headers";
import { verifyRefresh, verifyRegistration } from "../../src/dbsc/proof";
import type { DeviceKey } from "../../src/store/types";
import { createDbscClient, type DbscAlgorithm } from "./client";

const ORIGIN = "https://gate.example";
const SID = "q3Zq1cS7bV0r9mPzYw2xkA";
const T0 = Date.UTC(2026, 0, 1);

async function setup(algorithm: DbscAlgorithm) {
  let t = T0;
  const challenges = createChallenges(await hmacKey("test-gate-secret", CHALLENGE_KEY_INFO, ["sign", "verify"]), () => t);
  const client = await createDbscClient({ fetch: async () => new Response(null, { status: 500 }), origin: ORIGIN, algorithm, now: () => t });
  /** The checks the gate would run: this session, its current generation, one purpose. */
  const expect = (gen: number, purpose: "registration" | "refresh") => ({
    expectChallenge: (jti: string) => challenges.verify(jti, SID, gen, purpose),
  });
  return { challenges, client, expect, advance: (ms: number) => (t += ms) };
}

/** A registered session's key, from a registration proof over a fresh challenge at generation 0. */
async function register(s: Awaited<ReturnType<typeof setup>>): Promise<DeviceKey> {
  const result = await verifyRegistration(
    await s.client.signProof(await s.challenges.issue(SID, 0, "registration"), { jwk: true }),
    s.expect(0, "registration"),
  );
  if (!result.ok) throw new Error(`registration refused: ${result.reason}`);
  return result.key;
}

describe.each(["ES256", "RS256"] as const)("%s: register, then refresh, with real WebCrypto keys", (alg) => {
  it("binds the embedded public key, in normal form, with its RFC 7638 thumbprint", async () => {
    const s = await setup(alg);
    const challenge = await s.challenges.issue(SID, 0, "registration");
    const result = await verifyRegistration(await s.client.signProof(challenge, { jwk: true }), s.expect(0, "registration"));
    expect(result).toEqual({ ok: true, key: { alg, jwk: s.client.publicJwk, jkt: await s.client.thumbprint() }, jti: challenge });
  });

  it("computes jkt exactly as RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace", async () => {
    const s = await setup(alg);
    const key = await register(s);
    const j = s.client.publicJwk as Record<string, string>;
    const canonical = alg === "ES256" ? `{"crv":"${j.crv}","kty":"EC","x":"${j.x}","y":"${j.y}"}` : `{"e":"${j.e}","kty":"RSA","n":"${j.n}"}`;
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
    expect(key.jkt).toBe(base64url.encode(digest));
  });

  it("accepts a refresh proof by the bound key over a refresh challenge for the current generation, once", async () => {
    const s = await setup(alg);
    const key = await register(s); // the gate moves the session to generation 1 as it issues the first bound cookie
    s.advance(600_000);
    const challenge = await s.challenges.issue(SID, 1, "refresh");
    const proof = await s.client.signProof(challenge);
    expect(await verifyRefresh(proof, key, s.expect(1, "refresh"))).toEqual({ ok: true, jti: challenge });
    // The refresh moved the generation on: the same proof, replayed, answers a challenge that no longer verifies.
    expect(await verifyRefresh(proof, key, s.expect(2, "refresh"))).toEqual({ ok: false, reason: "challenge" });
  });

  it("verifies with a stored key that went through JSON, as the store keeps it", async () => {
    const s = await setup(alg);
    const key = JSON.parse(JSON.stringify(await register(s))) as DeviceKey;
    const challenge = await s.challenges.issue(SID, 1, "refresh");
    expect(await verifyRefresh(await s.client.signProof(challenge), key, s.expect(1, "refresh"))).toEqual({ ok: true, jti: challenge });
  });

  it.each(["draft", "chrome"] as const)("takes the proof from Secure-Session-Response as the %s wire sends it", async (wire) => {
    const s = await setup(alg);
    const proof = await s.client.signProof(await s.challenges.issue(SID, 0, "registration"), { jwk: true });
    const header = wire === "draft" ? serializeString(proof) : proof;
    expect(await verifyRegistration(readProofHeader(header), s.expect(0, "registration"))).toMatchObject({ ok: true });
  });
});

describe("what a proof may carry beyond the newest draft's shape", () => {
  it("tolerates the claims of older drafts and of Chrome's audience flag: aud, iat (number or string), key, sub, authorization", async () => {
    const s = await setup("ES256");
    const claims = {
      aud: `${ORIGIN}/_gate/dbsc/registration`,
      iat: "1725579055",
      key: { kty: "EC" },
      sub: "someone",
      authorization: "ac",
      extra: [1],
    };
    const reg = await s.client.signProof(await s.challenges.issue(SID, 0, "registration"), { jwk: true, claims });
    const result = await verifyRegistration(reg, s.expect(0, "registration"));
    expect(result).toMatchObject({ ok: true, key: { jwk: s.client.publicJwk } }); // the payload `key` is never read
    const ref = await s.client.signProof(await s.challenges.issue(SID, 1, "refresh"), { claims: { iat: T0 / 1000, sub: SID, aud: "x" } });
    expect(await verifyRefresh(ref, (result as { key: DeviceKey }).key, s.expect(1, "refresh"))).toMatchObject({ ok: true });
  });

  it("reads typ as a media type: application/dbsc+jwt and DBSC+JWT are dbsc+jwt", async () => {
    const s = await setup("ES256");
    for (const typ of ["application/dbsc+jwt", "DBSC+JWT", "Application/Dbsc+Jwt"]) {
      const proof = await s.client.signProof(await s.challenges.issue(SID, 0, "registration"), { jwk: true, typ });
      expect(await verifyRegistration(proof, s.expect(0, "registration")), typ).toMatchObject({ ok: true });
    }
  });

  it("accepts JWK metadata that agrees with the proof and stores the key without it", async () => {
    const s = await setup("ES256");
    const jwk = { ...s.client.publicJwk, alg: "ES256", use: "sig", kid: "k1", key_ops: ["verify"], ext: true };
    const proof = await s.client.signProof(await s.challenges.issue(SID, 0, "registration"), { jwk });
    const result = await verifyRegistration(proof, s.expect(0, "registration"));
    expect(result).toMatchObject({ ok: true, key: { jwk: s.client.publicJwk, jkt: await s.client.thumbprint() } });
  });
});

describe("the challenge check comes last", () => {
  it("asks expectChallenge only about a validly signed proof, with its jti", async () => {
    const s = await setup("ES256");
    const thief = await createDbscClient({ fetch: async () => new Response(), origin: ORIGIN, algorithm: "ES256" });
    const expectChallenge = vi.fn(async () => true);
    const forged = await s.client.signProof("c-1", { jwk: s.client.publicJwk, key: thief.keyPair.privateKey });
    expect(await verifyRegistration(forged, { expectChallenge })).toEqual({ ok: false, reason: "signature" });
    expect(expectChallenge).not.toHaveBeenCalled();
    expect(await verifyRegistration(await s.client.signProof("c-2", { jwk: true }), { expectChallenge })).toMatchObject({ ok: true, jti: "c-2" });
    expect(expectChallenge).toHaveBeenCalledExactlyOnceWith("c-2");
  });

  it("lets a rejecting expectChallenge (a store outage) reject the call rather than pass for a refusal", async () => {
    const s = await setup("ES256");
    const proof = await s.client.signProof("c", { jwk: true });
    await expect(verifyRegistration(proof, { expectChallenge: () => Promise.reject(new Error("store down")) })).rejects.toThrow("store down");
  });
});
