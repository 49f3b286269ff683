/**
 * Every way verifyRegistration and verifyRefresh refuse a proof, each with its
 * own reason. Challenges are accepted unless a test is about them, so each case
 * fails for the one thing it tests.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { base64url } from "jose";
import { hmacKey } from "../../src/derive";
import { CHALLENGE_KEY_INFO, createChallenges } from "../../src/dbsc/challenge";
import { MAX_PROOF_LENGTH } from "../../src/dbsc/headers";
import { type ProofFailure, verifyRefresh, verifyRegistration } from "../../src/dbsc/proof";
import type { DeviceKey } from "../../src/store/types";
import { createDbscClient } from "./client";
import { keyPair, part, publicJwk, signed, unsigned } from "./jws";

const ORIGIN = "https://gate.example";
const SID = "q3Zq1cS7bV0r9mPzYw2xkA";
const ANY = { expectChallenge: async () => true };
const client = (algorithm: "ES256" | "RS256") => createDbscClient({ fetch: async () => new Response(), origin: ORIGIN, algorithm });
const reg = (jwt: unknown) => verifyRegistration(jwt, ANY);
const refused = (reason: ProofFailure) => ({ ok: false, reason });

const es = await client("ES256");
const rs = await client("RS256");
const thief = await client("ES256");
const esKey: DeviceKey = { alg: "ES256", jwk: es.publicJwk as JsonWebKey, jkt: await es.thumbprint() };
const rsKey: DeviceKey = { alg: "RS256", jwk: rs.publicJwk as JsonWebKey, jkt: await rs.thumbprint() };
const H = { alg: "ES256", typ: "dbsc+jwt", jwk: es.publicJwk };
/** A registration proof by the ES256 client with this header (merged over H) and payload. */
const esProof = (header: Record<string, unknown>, payload: unknown = { jti: "c" }) => signed({ ...H, ...header }, payload, es.keyPair.privateKey);

describe("not a compact JWS: malformed", () => {
  it.each([
    ["empty", ""],
    ["one part", "abc"],
    ["two parts", "a.b"],
    ["a JWE's five parts", "a.b.c.d.e"],
    ["a header that is not JSON", `${part("not json")}.${part({ jti: "c" })}.c2ln`],
    ["a header that is a JSON array", `${part([H])}.${part({ jti: "c" })}.c2ln`],
    ["a payload that is a JSON string", `${part(H)}.${part('"c"')}.c2ln`],
    ["a header with a BOM", `${part(`\ufeff${JSON.stringify(H)}`)}.${part({ jti: "c" })}.c2ln`],
    ["bad UTF-8", `${part(H)}.${btoa("\xff\xfe").replace(/=+$/, "")}.c2ln`],
    ["a part of impossible length", `${part(H)}.A.c2ln`],
    ["padding", `${part(H)}.${part({ jti: "c" })}.c2ln=`],
    ["the JSON serialisation", JSON.stringify({ protected: part(H), payload: part({ jti: "c" }), signature: "c2ln" })],
  ])("%s", async (_, jwt) => {
    expect(await reg(jwt)).toEqual(refused("malformed"));
    expect(await verifyRefresh(jwt, esKey, ANY)).toEqual(refused("malformed"));
  });

  it(`anything longer than ${MAX_PROOF_LENGTH} characters, and values that are not strings`, async () => {
    const long = await esProof({ kid: "k".repeat(MAX_PROOF_LENGTH) });
    expect(await reg(long)).toEqual(refused("malformed"));
    for (const value of [undefined, null, 42, {}, ["a.b.c"]]) expect(await reg(value)).toEqual(refused("malformed"));
  });
});

describe("header: alg, typ, crit", () => {
  it("refuses alg none, HS256 (the public-key-as-secret confusion), other asymmetric algorithms, and odd spellings: alg", async () => {
    expect(await reg(unsigned({ ...H, alg: "none" }, { jti: "c" }))).toEqual(refused("alg"));
    const hmac = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(JSON.stringify(es.publicJwk)),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    expect(await reg(await signed({ ...H, alg: "HS256" }, { jti: "c" }, hmac))).toEqual(refused("alg"));
    for (const alg of ["PS256", "ES384", "EdDSA", "RS512", "es256", "ES256 ", ["ES256"], null, undefined]) {
      expect(await reg(await esProof({ alg })), String(alg)).toEqual(refused("alg"));
      expect(await verifyRefresh(unsigned({ alg, typ: "dbsc+jwt" }, { jti: "c" }, "c2ln"), esKey, ANY)).toEqual(refused("alg"));
    }
  });

  it("refuses an algorithm the registration header did not offer: alg", async () => {
    const proof = await rs.signProof("c", { jwk: true });
    expect(await verifyRegistration(proof, { ...ANY, algorithms: ["ES256"] })).toEqual(refused("alg"));
    expect(await verifyRegistration(proof, { ...ANY, algorithms: ["RS256"] })).toMatchObject({ ok: true });
  });

  it("refuses a missing typ, old Chrome's jwt, and anything but dbsc+jwt: typ", async () => {
    for (const typ of [undefined, "jwt", "JWT", "dbsc+jwt2", "dbsc+jwt ", "dbsc+jwt; v=1", "application/jwt", "at+jwt", 42]) {
      expect(await reg(await esProof({ typ })), String(typ)).toEqual(refused("typ"));
      expect(await verifyRefresh(await signed({ alg: "ES256", typ }, { jti: "c" }, es.keyPair.privateKey), esKey, ANY), String(typ)).toEqual(
        refused("typ"),
      );
    }
  });

  it("refuses crit, whatever it lists (the unencoded payload of RFC 7797 included): crit", async () => {
    for (const crit of [["b64"], ["exp"], [], "b64"]) {
      expect(await reg(await esProof({ crit, b64: false }))).toEqual(refused("crit"));
    }
  });
});

describe("registration: the jwk header", () => {
  it("refuses a proof without one, the pre-#216 shape with the key in the payload included: jwk_missing", async () => {
    const { jwk: _, ...bare } = H;
    expect(await reg(await signed(bare, { jti: "c" }, es.keyPair.privateKey))).toEqual(refused("jwk_missing"));
    expect(await reg(await signed(bare, { jti: "c", key: es.publicJwk, aud: ORIGIN, iat: 1 }, es.keyPair.privateKey))).toEqual(
      refused("jwk_missing"),
    );
  });

  it("refuses private key material: jwk_private", async () => {
    const ec = await keyPair("ES256");
    const rsa = await keyPair("RS256");
    const ecPrivate = await crypto.subtle.exportKey("jwk", ec.privateKey);
    const rsaPrivate = await crypto.subtle.exportKey("jwk", rsa.privateKey);
    expect(await reg(await signed({ ...H, jwk: ecPrivate }, { jti: "c" }, ec.privateKey))).toEqual(refused("jwk_private"));
    expect(await reg(await signed({ ...H, alg: "RS256", jwk: rsaPrivate }, { jti: "c" }, rsa.privateKey))).toEqual(refused("jwk_private"));
    expect(await reg(await esProof({ jwk: { ...es.publicJwk, d: "" } }))).toEqual(refused("jwk_private"));
    expect(await reg(await esProof({ jwk: { kty: "oct", k: "c2VjcmV0" } }))).toEqual(refused("jwk_private"));
  });

  it("refuses a key that does not fit alg: jwk_mismatch", async () => {
    const p384 = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const cases: Array<[string, Record<string, unknown>]> = [
      ["an RSA key under ES256", { jwk: rs.publicJwk }],
      ["an EC key under RS256", { alg: "RS256", jwk: es.publicJwk }],
      ["a P-384 key under ES256", { jwk: await publicJwk(p384) }],
      ["a jwk whose own alg differs", { jwk: { ...es.publicJwk, alg: "RS256" } }],
      ["a jwk for encryption", { jwk: { ...es.publicJwk, use: "enc" } }],
      ["a jwk for signing only", { jwk: { ...es.publicJwk, key_ops: ["sign"] } }],
    ];
    for (const [name, header] of cases) expect(await reg(await esProof(header)), name).toEqual(refused("jwk_mismatch"));
  });

  it("refuses an RSA modulus under 2048 or over 4096 bits: jwk_size", async () => {
    const small = await keyPair("RS256", 1024);
    expect(await reg(await signed({ ...H, alg: "RS256", jwk: await publicJwk(small) }, { jti: "c" }, small.privateKey))).toEqual(refused("jwk_size"));
    /** A modulus-shaped Base64urlUInt of exactly `bits` bits (top bit set, no leading zero octet). */
    const modulus = (bits: number) => {
      const bytes = new Uint8Array(Math.ceil(bits / 8)).fill(0xff);
      bytes[0] = 0xff >> ((8 - (bits % 8)) % 8);
      return base64url.encode(bytes);
    };
    const [n2047, huge] = [modulus(2047), modulus(4097)];
    for (const n of [huge, n2047]) expect(await reg(await esProof({ alg: "RS256", jwk: { kty: "RSA", n, e: "AQAB" } }))).toEqual(refused("jwk_size"));
  });

  it("refuses a malformed public key: jwk_malformed", async () => {
    const j = es.publicJwk as Record<string, string>;
    const cases: Array<[string, unknown]> = [
      ["a string", JSON.stringify(j)],
      ["an array", [j]],
      ["null", null],
      ["no kty", { crv: j.crv, x: j.x, y: j.y }],
      ["no crv", { kty: "EC", x: j.x, y: j.y }],
      ["no y", { kty: "EC", crv: j.crv, x: j.x }],
      ["a 31-byte x", { ...j, x: j.x.slice(0, 42) }],
      ["x padded", { ...j, x: `${j.x}=` }],
      ["x in base64, not base64url", { ...j, x: `+${j.x.slice(1)}` }],
      ["a point off the curve", { ...j, y: j.x }],
      ["an unknown member", { ...j, x5c: ["MIIB"] }],
      ["a kid that is not a string", { ...j, kid: 7 }],
      ["ext that is not a boolean", { ...j, ext: "true" }],
    ];
    for (const [name, jwk] of cases) expect(await reg(await esProof({ jwk })), name).toEqual(refused("jwk_malformed"));
    const r = rs.publicJwk as Record<string, string>;
    const rsaCases: Array<[string, unknown]> = [
      ["n with a leading zero octet", { ...r, n: `AA${r.n}` }],
      ["an even exponent", { ...r, e: "AQAA" }],
      ["exponent 1", { ...r, e: "AQ" }],
      ["a 5-byte exponent", { ...r, e: "AQAAAAE" }],
      ["no e", { kty: "RSA", n: r.n }],
    ];
    for (const [name, jwk] of rsaCases)
      expect(await reg(await rs.signProof("c", { jwk: jwk as JsonWebKey })), name).toEqual(refused("jwk_malformed"));
  });
});

describe("signature and claims", () => {
  it("refuses a proof not signed by its own jwk, or changed after signing: signature", async () => {
    expect(await reg(await es.signProof("c", { jwk: es.publicJwk, key: thief.keyPair.privateKey }))).toEqual(refused("signature"));
    const good = await es.signProof("c", { jwk: true });
    const [h, , sig] = good.split(".");
    expect(await reg(`${h}.${part({ jti: "other" })}.${sig}`)).toEqual(refused("signature"));
    expect(await reg(`${h}.${good.split(".")[1]}.${sig.slice(0, -2)}${sig.endsWith("AA") ? "BA" : "AA"}`)).toEqual(refused("signature"));
    expect(await reg(`${h}.${good.split(".")[1]}.`)).toEqual(refused("signature"));
    expect(await reg(`${good}AAAA`)).toEqual(refused("signature")); // 67 bytes: not a raw r||s
  });

  it("refuses a missing or malformed jti: jti", async () => {
    for (const payload of [{}, { jti: 42 }, { jti: "" }, { jti: "x".repeat(513) }, { jti: null }, { jti: ["c"] }]) {
      expect(await reg(await esProof({}, payload)), JSON.stringify(payload).slice(0, 30)).toEqual(refused("jti"));
    }
    expect(await reg(await esProof({}, { jti: "x".repeat(512) }))).toMatchObject({ ok: true });
  });
});

describe("refresh: only the bound key", () => {
  it("refuses a jwk header, even the bound key's own: jwk_on_refresh", async () => {
    expect(await verifyRefresh(await es.signProof("c", { jwk: true }), esKey, ANY)).toEqual(refused("jwk_on_refresh"));
    expect(await verifyRefresh(await thief.signProof("c", { jwk: true }), esKey, ANY)).toEqual(refused("jwk_on_refresh"));
  });

  it("refuses a proof by another key: key_mismatch for another algorithm, signature for the same", async () => {
    expect(await verifyRefresh(await rs.signProof("c"), esKey, ANY)).toEqual(refused("key_mismatch"));
    expect(await verifyRefresh(await es.signProof("c"), rsKey, ANY)).toEqual(refused("key_mismatch"));
    expect(await verifyRefresh(await thief.signProof("c"), esKey, ANY)).toEqual(refused("signature"));
    expect(await verifyRefresh(await es.signProof("c"), esKey, ANY)).toEqual({ ok: true, jti: "c" });
  });

  it("refuses to use a corrupt stored key: key_unusable", async () => {
    const j = es.publicJwk as Record<string, string>;
    const proof = await es.signProof("c");
    for (const jwk of [{ ...j, y: j.x }, { kty: "EC", crv: "P-256", x: j.x }, { ...j, d: "AAAA" }, {}]) {
      expect(await verifyRefresh(proof, { ...esKey, jwk: jwk as JsonWebKey }, ANY)).toEqual(refused("key_unusable"));
    }
  });
});

describe("challenge: the jti must be a challenge the gate issued for this session, generation and purpose", () => {
  it("refuses a made-up jti, another session's, another generation's, the other purpose's, and an expired one", async () => {
    let t = Date.UTC(2026, 0, 1);
    const challenges = createChallenges(await hmacKey("s", CHALLENGE_KEY_INFO, ["sign", "verify"]), () => t);
    const regOptions = { expectChallenge: (jti: string) => challenges.verify(jti, SID, 0, "registration") };
    const refOptions = { expectChallenge: (jti: string) => challenges.verify(jti, SID, 1, "refresh") };
    const regProof = (c: string) => es.signProof(c, { jwk: true });
    expect(await verifyRegistration(await regProof("made-up"), regOptions)).toEqual(refused("challenge"));
    expect(await verifyRegistration(await regProof(await challenges.issue("other-sid", 0, "registration")), regOptions)).toEqual(
      refused("challenge"),
    );
    expect(await verifyRegistration(await regProof(await challenges.issue(SID, 1, "registration")), regOptions)).toEqual(refused("challenge"));
    expect(await verifyRegistration(await regProof(await challenges.issue(SID, 0, "refresh")), regOptions)).toEqual(refused("challenge"));
    expect(await verifyRefresh(await es.signProof(await challenges.issue(SID, 1, "registration")), esKey, refOptions)).toEqual(refused("challenge"));
    const fresh = await challenges.issue(SID, 1, "refresh");
    expect(await verifyRefresh(await es.signProof(fresh), esKey, refOptions)).toMatchObject({ ok: true });
    t += 5 * 60_000 + 1_000;
    expect(await verifyRefresh(await es.signProof(fresh), esKey, refOptions)).toEqual(refused("challenge"));
  });
});

describe("hostile input never throws", () => {
  const json = fc.dictionary(fc.constantFrom("alg", "typ", "jwk", "crit", "jti", "kid", "b64", "x"), fc.jsonValue({ maxDepth: 2 }));
  it("answers a refusal for arbitrary headers, payloads and strings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(json, fc.constant({ ...H })), json, fc.string({ maxLength: 12 }), async (header, payload, sig) => {
        const jwt = unsigned(header, payload, sig.replace(/[^A-Za-z0-9_-]/g, ""));
        const a = await reg(jwt);
        const b = await verifyRefresh(jwt, esKey, ANY);
        return a.ok === false && b.ok === false;
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "binary", maxLength: 200 }),
        async (s) => (await reg(s)).ok === false && (await verifyRefresh(s, rsKey, ANY)).ok === false,
      ),
      { numRuns: 300 },
    );
  });
});
