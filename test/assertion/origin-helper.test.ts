import { describe, expect, it } from "vitest";
import { GATE_URL, ORIGIN_SECRET, T0, cookie, createTestGate, tokenFrom } from "../helpers/gate";
import { GateAssertionError, signLogin, verifyAssertion } from "../../origin/index.mjs";
import { assertionClaims } from "../../src/assertion/sign";
import type { SessionRecord } from "../../src/store/types";
import { asNodeRequest, isolatedKvStore, jwksOf, payloadOf, verifying } from "./helpers";

describe("signLogin", () => {
  it("signs an X-Gate-Login the gate turns into a session with its roles and claims", async () => {
    const gate = await createTestGate({ store: isolatedKvStore() });
    const jwt = await signLogin(ORIGIN_SECRET, { sub: "bob", roles: ["admin"], claims: { email: "bob@example.com" } }, { now: T0 });
    gate.origin.reply(() => new Response("ok", { headers: { "X-Gate-Login": jwt } }));
    const token = tokenFrom(await gate.request("/login", { method: "POST", headers: { "Sec-Fetch-Site": "same-origin" } }));
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const session = await gate.request("/_gate/session", { headers: cookie(token!) });
    expect(await session.json()).toMatchObject({ sub: "bob", roles: ["admin"] });
    expect(payloadOf(jwt)).toEqual({ sub: "bob", roles: ["admin"], claims: { email: "bob@example.com" }, iat: T0 / 1_000, exp: T0 / 1_000 + 60 });
  });

  it("is ignored by the gate when signed with another secret", async () => {
    const gate = await createTestGate({ store: isolatedKvStore() });
    const jwt = await signLogin("x".repeat(40), { sub: "bob" }, { now: T0 });
    gate.origin.reply(() => new Response("ok", { headers: { "X-Gate-Login": jwt } }));
    expect(tokenFrom(await gate.request("/login", { method: "POST", headers: { "Sec-Fetch-Site": "same-origin" } }))).toBeUndefined();
    expect(gate.events("login.invalid")).toHaveLength(1);
  });

  it("refuses what the gate would refuse: no sub, a lifetime over 5 minutes", async () => {
    await expect(signLogin(ORIGIN_SECRET, { sub: "" })).rejects.toThrow(TypeError);
    await expect(signLogin(ORIGIN_SECRET, { sub: "bob" }, { expiresIn: 301 })).rejects.toThrow(RangeError);
  });
});

describe("verifyAssertion", () => {
  async function seenWithSession() {
    const gate = await createTestGate({ store: isolatedKvStore() });
    const token = await gate.login("alice", ["user"]);
    gate.origin.received.splice(0);
    await gate.request("/app-page", { headers: cookie(token) });
    return { gate, seen: gate.origin.received.splice(0)[0] };
  }

  it("takes ORIGIN_URL's path prefix off a Node request path with basePath", async () => {
    const { gate, seen } = await seenWithSession();
    await verifyAssertion(asNodeRequest(seen, "/app"), verifying(gate, { basePath: "/app" }));
    await expect(verifyAssertion(asNodeRequest(seen, "/app"), verifying(gate))).rejects.toMatchObject({ code: "wrong_request" });
    await expect(verifyAssertion(asNodeRequest(seen, "/other"), verifying(gate, { basePath: "/app" }))).rejects.toMatchObject({
      code: "wrong_request",
    });
  });

  it("compares htu with the public URL an origin gives, query ignored", async () => {
    const { gate, seen } = await seenWithSession();
    const request = { ...asNodeRequest(seen), url: "/internal/rewritten" };
    await verifyAssertion(request, verifying(gate, { url: `${GATE_URL}/app-page?x=1` }));
  });

  it("refuses a header sent twice (Node joins them with a comma)", async () => {
    const { gate, seen } = await seenWithSession();
    const request = asNodeRequest(seen);
    request.headers["x-gate-assertion"] = `${seen.headers["x-gate-assertion"]}, ${seen.headers["x-gate-assertion"]}`;
    await expect(verifyAssertion(request, verifying(gate))).rejects.toMatchObject({ code: "missing" });
  });

  it("fetches the JWKS once and keeps it for later assertions", async () => {
    const { gate, seen } = await seenWithSession();
    let fetches = 0;
    const fetch = (url: string) => {
      fetches++;
      return gate.request(new URL(url).pathname);
    };
    for (let i = 0; i < 3; i++) await verifyAssertion(asNodeRequest(seen), verifying(gate, { fetch }));
    expect(fetches).toBe(1);
  });

  it("says when the JWKS cannot be fetched", async () => {
    const { gate, seen } = await seenWithSession();
    const fetch = async () => new Response("down", { status: 503 });
    const error = await verifyAssertion(asNodeRequest(seen), verifying(gate, { fetch })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GateAssertionError);
    expect(error).toMatchObject({ code: "jwks_unavailable" });
  });

  it("accepts a key set given directly", async () => {
    const { gate, seen } = await seenWithSession();
    const jwks = await jwksOf(gate);
    await verifyAssertion(asNodeRequest(seen), { issuer: GATE_URL, audience: GATE_URL, jwks, currentDate: new Date(gate.clock.now) });
  });
});

describe("the assertion's audience", () => {
  const session = { sub: "a", sid: "s", roles: [], authTime: T0 } as unknown as SessionRecord;
  const request = { url: new URL("https://gate.example/x?y=1"), path: "/x", method: "GET", session };

  it("is ORIGIN_URL's origin when the origin is reached by URL, without its path", () => {
    expect(assertionClaims(request, { originUrl: new URL("https://origin.internal:8443/app") }, T0).aud).toBe("https://origin.internal:8443");
  });

  it("is the route's audience when it has one, whatever the origin", () => {
    expect(assertionClaims({ ...request, audience: "urn:api" }, { originUrl: new URL("https://origin.internal") }, T0).aud).toBe("urn:api");
  });
});
