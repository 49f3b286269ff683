import { afterEach, describe, expect, it, vi } from "vitest";
import { SignJWT, createLocalJWKSet, generateKeyPair, jwtVerify } from "jose";
import { GATE_URL, T0, cookie, createTestGate } from "../helpers/gate";
import { GateAssertionError, verifyAssertion } from "../../origin/index.mjs";
import { StoreUnavailableError } from "../../src/store/types";
import { type Gate, asFetchRequest, asNodeRequest, headerOf, isolatedKvStore, jwksOf, payloadOf, tampered, verifying } from "./helpers";

/** A gate with alice logged in; the origin's log emptied of the login. */
async function signedIn(options: Parameters<typeof createTestGate>[0] = {}) {
  const gate = await createTestGate({ store: isolatedKvStore(), ...options });
  const token = await gate.login("alice", ["user", "editor"]);
  gate.origin.received.splice(0);
  return { gate, token };
}

/** Sends one request and returns what the origin saw. */
async function through(gate: Gate, path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const response = await gate.request(path, init);
  expect(response.status).toBe(200);
  return gate.origin.received.splice(0)[0];
}

/** The code verifyAssertion rejects with. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GateAssertionError);
  return (error as GateAssertionError).code;
}

describe("X-Gate-Assertion on forwarded requests", () => {
  it("verifies against the gate's JWKS with the origin helper, for a Fetch and a Node request alike", async () => {
    const { gate, token } = await signedIn();
    const seen = await through(gate, "/dashboard?tab=1", { headers: cookie(token) });
    for (const request of [asFetchRequest(seen), asNodeRequest(seen)]) {
      const identity = await verifyAssertion(request, verifying(gate));
      expect(identity).toMatchObject({ sub: "alice", sid: seen.headers["x-gate-session"], roles: ["user", "editor"], authTime: T0 / 1_000 });
    }
  });

  it("is an EdDSA JWT with kid and typ, carrying exactly the contract's claims", async () => {
    const { gate, token } = await signedIn();
    gate.clock.advance(5_000);
    const seen = await through(gate, "/docs/a%20b?q=secret", {
      method: "PUT",
      body: "x",
      headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin" },
    });
    const jwt = seen.headers["x-gate-assertion"];
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(await jwksOf(gate)), {
      algorithms: ["EdDSA"],
      currentDate: new Date(gate.clock.now),
    });
    const { keys } = await jwksOf(gate);
    expect(protectedHeader).toEqual({ alg: "EdDSA", kid: keys[0].kid, typ: "JWT" });
    const iat = (T0 + 5_000) / 1_000;
    expect(payload).toEqual({
      iss: GATE_URL,
      aud: GATE_URL, // a service binding and no ORIGIN_URL: the origin is addressed as the gate
      sub: "alice",
      sid: seen.headers["x-gate-session"],
      roles: ["user", "editor"],
      auth_time: T0 / 1_000,
      iat,
      exp: iat + 60,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      htm: "PUT",
      htu: `${GATE_URL}/docs/a%20b`,
    });
    // htu is what the origin can rebuild from the headers the gate set and the path it received.
    expect(`${seen.headers["x-forwarded-proto"]}://${seen.headers["x-forwarded-host"]}${new URL(seen.url).pathname}`).toBe(payload.htu);
  });

  it("takes iss from GATE.issuer and aud from the route's audience", async () => {
    const { gate, token } = await signedIn({
      gate: {
        issuer: "https://id.example.com",
        routes: [{ path: "/login", access: "public" }, { path: "/api/*", audience: "https://api.example.com" }, { path: "/*" }],
      },
    });
    const seen = await through(gate, "/api/items", { headers: cookie(token) });
    expect(payloadOf(seen.headers["x-gate-assertion"])).toMatchObject({ iss: "https://id.example.com", aud: "https://api.example.com" });
    await verifyAssertion(asFetchRequest(seen), verifying(gate, { issuer: "https://id.example.com", audience: "https://api.example.com" }));
  });

  it("is present on a public route when a session is, and absent without one", async () => {
    const { gate, token } = await signedIn();
    const withSession = await through(gate, "/public/page", { headers: cookie(token) });
    await verifyAssertion(asFetchRequest(withSession), verifying(gate));
    const without = await through(gate, "/public/page");
    expect(without.headers["x-gate-assertion"]).toBeUndefined();
    expect(await refusal(verifyAssertion(asFetchRequest(without), verifying(gate)))).toBe("missing");
  });

  it("never carries the same jti twice", async () => {
    const { gate, token } = await signedIn();
    const jtis = new Set<unknown>();
    for (let i = 0; i < 40; i++) jtis.add(payloadOf((await through(gate, "/dashboard", { headers: cookie(token) })).headers["x-gate-assertion"]).jti);
    expect(jtis.size).toBe(40);
  });

  it.each([
    ["X-Gate-Assertion", "X-Gate-Assertion"],
    ["x_gate_assertion (underscores)", "x_gate_assertion"],
    ["X-GATE-ASSERTION (upper case)", "X-GATE-ASSERTION"],
  ])("never lets a client-sent %s reach the origin", async (_label, name) => {
    const { gate, token } = await signedIn();
    const forged = tampered((await through(gate, "/dashboard", { headers: cookie(token) })).headers["x-gate-assertion"], { sub: "root" });
    const anonymous = await through(gate, "/public/page", { headers: { [name]: forged } });
    expect(Object.keys(anonymous.headers).filter((h) => /assertion/i.test(h))).toEqual([]);
    const mine = await through(gate, "/dashboard", { headers: { [name]: forged, ...cookie(token) } });
    expect(Object.keys(mine.headers).filter((h) => /assertion/i.test(h))).toEqual(["x-gate-assertion"]);
    expect(mine.headers["x-gate-assertion"]).not.toBe(forged);
    expect(payloadOf(mine.headers["x-gate-assertion"]).sub).toBe("alice");
  });

  it("imports the signing key once per isolate, not per request", async () => {
    const { gate, token } = await signedIn();
    await through(gate, "/dashboard", { headers: cookie(token) });
    const imports = vi.spyOn(crypto.subtle, "importKey");
    for (let i = 0; i < 10; i++) await through(gate, "/dashboard", { headers: cookie(token) });
    expect(imports).not.toHaveBeenCalled();
    imports.mockRestore();
  });
});

describe("verifyAssertion refuses", () => {
  afterEach(() => vi.restoreAllMocks());

  it("another audience or issuer", async () => {
    const { gate, token } = await signedIn();
    const seen = asFetchRequest(await through(gate, "/dashboard", { headers: cookie(token) }));
    expect(await refusal(verifyAssertion(seen, verifying(gate, { audience: "https://other.example" })))).toBe("claim");
    expect(await refusal(verifyAssertion(seen, verifying(gate, { issuer: "https://other.example" })))).toBe("claim");
  });

  it("an expired assertion, 60 s after it was issued (plus the tolerance)", async () => {
    const { gate, token } = await signedIn();
    const seen = asFetchRequest(await through(gate, "/dashboard", { headers: cookie(token) }));
    await verifyAssertion(seen, verifying(gate, { currentDate: new Date(gate.clock.now + 64_000) }));
    expect(await refusal(verifyAssertion(seen, verifying(gate, { currentDate: new Date(gate.clock.now + 66_000) })))).toBe("expired");
  });

  it("an assertion replayed on another path, another host or with another method", async () => {
    const { gate, token } = await signedIn();
    const seen = await through(gate, "/dashboard", { headers: cookie(token) });
    const replay = (url: string, method = "GET", headers: Record<string, string> = {}) =>
      verifyAssertion(new Request(url, { method, headers: { ...seen.headers, ...headers } }), verifying(gate));
    expect(await refusal(replay(`${GATE_URL}/admin/users`))).toBe("wrong_request");
    expect(await refusal(replay(`${GATE_URL}/dashboard`, "DELETE"))).toBe("wrong_request");
    expect(await refusal(replay(`${GATE_URL}/dashboard`, "GET", { "x-forwarded-host": "other.example" }))).toBe("wrong_request");
    // A Node origin reads its raw path: "//x/dashboard" is not "/dashboard".
    const node = { ...asNodeRequest(seen), url: "//x/dashboard" };
    expect(await refusal(verifyAssertion(node, verifying(gate)))).toBe("wrong_request");
  });

  it("a tampered payload, header or signature", async () => {
    const { gate, token } = await signedIn();
    const seen = await through(gate, "/dashboard", { headers: cookie(token) });
    const jwt = seen.headers["x-gate-assertion"];
    const [h, p, s] = jwt.split(".");
    const noneHeader = btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "");
    for (const forged of [
      tampered(jwt, { roles: ["admin"] }),
      tampered(jwt, { sub: "root" }),
      `${h}.${p}.${s.slice(0, -4)}AAAA`,
      `${noneHeader}.${p}.`,
    ]) {
      const request = new Request(seen.url, { headers: { ...seen.headers, "x-gate-assertion": forged } });
      expect(await refusal(verifyAssertion(request, verifying(gate)))).toBe("invalid");
    }
    expect(headerOf(jwt).alg).toBe("EdDSA");
  });

  it("a kid the JWKS does not list, and a listed kid with another key's signature", async () => {
    const { gate, token } = await signedIn();
    const seen = await through(gate, "/dashboard", { headers: cookie(token) });
    const claims = payloadOf(seen.headers["x-gate-assertion"]);
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const sign = (kid: string) => new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" }).sign(privateKey);
    const send = async (jwt: string) => new Request(seen.url, { headers: { ...seen.headers, "x-gate-assertion": jwt } });
    expect(await refusal(verifyAssertion(await send(await sign("not-a-gate-kid")), verifying(gate)))).toBe("unknown_key");
    const listed = (await jwksOf(gate)).keys[0].kid;
    expect(await refusal(verifyAssertion(await send(await sign(listed)), verifying(gate)))).toBe("invalid");
  });
});

describe("the keyset unreachable on a cold isolate", () => {
  /** A store whose keyset read fails as an outage, sessions working. */
  const keysetDown = () => {
    const store = isolatedKvStore();
    let down = false;
    return {
      store: {
        ...store,
        readKeyset: () => (down ? Promise.reject(new StoreUnavailableError("kv", "readKeyset", new Error("down"))) : store.readKeyset()),
      },
      fail: () => (down = true),
    };
  };

  it("answers 503 on a session route and forwards nothing", async () => {
    const { store, fail } = keysetDown();
    const gate = await createTestGate({ store });
    const token = await gate.login("alice");
    gate.origin.received.splice(0);
    fail();
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "unavailable" });
    expect(gate.origin.received).toHaveLength(0);
  });

  it("forwards a public route without any identity header", async () => {
    const { store, fail } = keysetDown();
    const gate = await createTestGate({ store });
    const token = await gate.login("alice");
    gate.origin.received.splice(0);
    fail();
    const seen = await through(gate, "/public/page", { headers: cookie(token) });
    expect(Object.keys(seen.headers).filter((h) => h.startsWith("x-gate-"))).toEqual([]);
    expect(gate.events("store.error").at(-1)).toMatchObject({ operation: "readKeyset", backend: "kv" });
  });
});
