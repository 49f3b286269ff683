/**
 * The whole protocol, the test client playing the browser against a gate
 * composed of src/dbsc/ (mini-gate.ts): offer, registration, bound cookie,
 * refresh by 403 challenge or by cached challenge, and what a cookie thief gets.
 */
import { describe, expect, it } from "vitest";
import { serializeString } from "../../src/dbsc/headers";
import { createDbscClient, type DbscAlgorithm } from "./client";
import { GATE_ORIGIN, GATE_SID, createMiniGate } from "./mini-gate";

async function setup(algorithm: DbscAlgorithm, wire: "draft" | "chrome", ttlSeconds = 600) {
  let t = Date.UTC(2026, 0, 1);
  const gate = await createMiniGate(() => t, ttlSeconds);
  const client = await createDbscClient({ fetch: gate.fetch, origin: GATE_ORIGIN, algorithm, wire, now: () => t });
  await client.request("/login");
  const registered = await client.register();
  return { gate, client, registered, advance: (ms: number) => (t += ms) };
}

describe.each(["ES256", "RS256"] as const)("%s", (alg) => {
  describe.each(["draft", "chrome"] as const)("%s wire", (wire) => {
    it("registers: the gate binds the client's key and issues the first bound cookie", async () => {
      const { gate, client, registered } = await setup(alg, wire);
      expect(registered.kind).toBe("registered");
      expect(gate.failures).toEqual([]);
      expect(gate.state.device).toEqual({ alg, jwk: client.publicJwk, jkt: await client.thumbprint() });
      expect(client.session?.id).toBe(GATE_SID);
      expect(client.exportCookie()?.value).toBe("tok1");
      expect(await (await client.request("/app")).text()).toBe("ok gen=1");
    });

    it("refreshes once the bound cookie expires: the stale cached challenge earns a 403 and a fresh one, then 200", async () => {
      const { gate, client, advance } = await setup(alg, wire);
      advance(601_000);
      expect(await (await client.request("/app")).text()).toBe("ok gen=2");
      const refreshes = client.exchanges.filter((e) => e.phase === "refresh");
      expect(refreshes.map((e) => e.status)).toEqual([403, 200]);
      expect(gate.failures).toEqual(["challenge"]); // the registration response's challenge was 10 minutes old
      const id = refreshes[1].headers["sec-secure-session-id"];
      expect(id).toBe(wire === "draft" ? serializeString(GATE_SID) : GATE_SID);
    });

    it("refreshes in one round trip when the cached challenge is still fresh (a bound cookie shorter than 5 minutes)", async () => {
      const { gate, client, advance } = await setup(alg, wire, 120);
      for (let i = 0; i < 3; i++) {
        advance(121_000);
        expect(await (await client.request("/app")).text()).toBe(`ok gen=${i + 2}`);
      }
      expect(client.exchanges.filter((e) => e.phase === "refresh").map((e) => e.status)).toEqual([200, 200, 200]);
      expect(gate.failures).toEqual([]);
    });
  });
});

describe("what a cookie thief gets", () => {
  it("a copied bound cookie stops working after device_cookie_ttl, and a refresh signed by another key is refused", async () => {
    const { gate, client, advance } = await setup("ES256", "chrome");
    const stolen = client.exportCookie()!;
    const thief = await createDbscClient({ fetch: gate.fetch, origin: GATE_ORIGIN, algorithm: "ES256", wire: "chrome" });
    thief.cookies.put({ ...stolen, expiresAt: undefined }); // planted without expiry
    expect(await (await thief.request("/app")).text()).toBe("ok gen=1"); // within the ttl the copy works: DBSC bounds it, no more
    advance(601_000);
    expect((await thief.request("/app")).status).toBe(401);
    const challenged = await gate.fetch("/_gate/dbsc/refresh", { method: "POST", headers: { "Sec-Secure-Session-Id": GATE_SID } });
    expect(challenged.status).toBe(403);
    const challenge = /^"([^"]+)";id="/.exec(challenged.headers.get("Secure-Session-Challenge")!)![1];
    const forged = await thief.signProof(challenge);
    const refused = await gate.fetch("/_gate/dbsc/refresh", {
      method: "POST",
      headers: { "Sec-Secure-Session-Id": GATE_SID, "Secure-Session-Response": forged },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.has("Set-Cookie")).toBe(false);
    expect(gate.failures).toEqual(["signature"]);
    expect(gate.state.gen).toBe(1);
  });

  it("a captured refresh proof cannot be replayed: the refresh moved the generation on", async () => {
    const { gate, client, advance } = await setup("ES256", "draft", 120);
    advance(121_000);
    await client.request("/app");
    const captured = client.exchanges.find((e) => e.phase === "refresh" && e.status === 200)!;
    const replay = await gate.fetch("/_gate/dbsc/refresh", { method: "POST", headers: captured.headers });
    expect(replay.status).toBe(403);
    expect(gate.failures).toEqual(["challenge"]);
    expect(gate.state.gen).toBe(2);
  });
});
