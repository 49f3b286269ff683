import { describe, expect, it } from "vitest";
import { calculateJwkThumbprint } from "jose";
import { cookie, createTestGate } from "../helpers/gate";
import { StoreUnavailableError } from "../../src/store/types";
import { isolatedKvStore } from "./helpers";

describe("GET /_gate/jwks.json", () => {
  it("lists public Ed25519 keys only, with their kid, to anyone, cacheable for 5 minutes", async () => {
    const gate = await createTestGate({ store: isolatedKvStore() });
    const response = await gate.request("/_gate/jwks.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(response.headers.get("Set-Cookie")).toBeNull();
    const { keys } = (await response.json()) as { keys: Array<Record<string, string>> };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      kid: expect.any(String),
      alg: "EdDSA",
      use: "sig",
    });
    expect(keys[0].kid).toBe(await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: keys[0].x }));
    expect(gate.origin.received).toHaveLength(0);
  });

  it("is never forwarded, whatever the method or spelling", async () => {
    const gate = await createTestGate({ store: isolatedKvStore() });
    for (const [path, method] of [
      ["/_gate/jwks.json", "POST"],
      ["/_gate/jwks.json", "DELETE"],
      ["/_gate/jwks", "GET"],
      ["/_gate/jwks.json/x", "GET"],
    ]) {
      const response = await gate.request(path, { method, headers: { "Sec-Fetch-Site": "same-origin" } });
      expect(response.status).toBe(404);
    }
    const odd = await gate.request("//_gate//jwks.json");
    expect(odd.status).toBe(200);
    expect(gate.origin.received).toHaveLength(0);
  });

  it("answers HEAD like GET, without a body", async () => {
    const gate = await createTestGate({ store: isolatedKvStore() });
    const response = await gate.request("/_gate/jwks.json", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  it("stays private for a request carrying a valid session, like every response to a session", async () => {
    const gate = await createTestGate({ store: isolatedKvStore() });
    const token = await gate.login("alice");
    const response = await gate.request("/_gate/jwks.json", { headers: cookie(token) });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
  });

  it("lists the same keys as every other isolate sharing the store", async () => {
    const store = isolatedKvStore();
    const [a, b] = [await createTestGate({ store }), await createTestGate({ store })];
    const [ja, jb] = await Promise.all([a.request("/_gate/jwks.json"), b.request("/_gate/jwks.json")]);
    expect(await ja.json()).toEqual(await jb.json());
  });

  it("answers 503 when the store is down and nothing is cached", async () => {
    const store = { ...isolatedKvStore(), readKeyset: () => Promise.reject(new StoreUnavailableError("kv", "readKeyset", new Error("down"))) };
    const gate = await createTestGate({ store });
    const response = await gate.request("/_gate/jwks.json");
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "unavailable" });
  });
});
