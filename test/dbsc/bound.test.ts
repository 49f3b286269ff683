/**
 * Device-bound sessions through the whole gate (contract §12), on every store:
 * the login offers registration, the gate binds the browser's key, the bound
 * cookie lives `device_cookie_ttl`, and only a proof by the key renews it.
 */
import { describe, expect, it } from "vitest";
import { cookie, tokenFrom } from "../helpers/gate";
import { boundBrowser, browserOn, dbscGate, logIn, userSeen } from "./real-gate";

const MINUTE = 60_000;
const STORES = ["kv", "redis", "memory", "durable"] as const;

describe.each(STORES)("on %s", (store) => {
  describe.each(["ES256", "RS256"] as const)("%s", (alg) => {
    it("binds at registration, then renews the bound cookie by proof only, for as long as the session lives", async () => {
      const gate = await dbscGate({ store });
      const { client, sid, registered } = await boundBrowser(gate, alg);
      expect(registered.status).toBe(200);
      const record = await gate.store.get(sid);
      expect(record?.device).toEqual({ alg, jwk: client.publicJwk, jkt: await client.thumbprint() });
      expect(gate.events("session.device_bound")).toEqual([expect.objectContaining({ sid, sub: "alice", jkt: await client.thumbprint(), alg })]);

      // Three bound-cookie lifetimes later the user is still in, each hop through a proof.
      for (let hop = 1; hop <= 3; hop++) {
        gate.clock.advance(10 * MINUTE + 1_000);
        expect(await userSeen(await client.request("/app"))).toBe("alice");
      }
      expect(gate.events("session.device_refreshed")).toHaveLength(3);
      expect(gate.events("session.device_proof_failed")).toEqual([]);
      expect(client.session?.id).toBe(sid);
    });
  });
});

describe("the registration offer and answer", () => {
  it("offers (ES256 RS256) with a challenge on the response that creates a cookie session, and never on a bearer session", async () => {
    const gate = await dbscGate();
    const client = await browserOn(gate, "ES256");
    const login = await logIn(gate, client, "alice");
    expect(login.headers.get("Secure-Session-Registration")).toMatch(
      /^\(ES256 RS256\);path="\/_gate\/dbsc\/registration";challenge="\d+\.[A-Za-z0-9_-]{43}"$/,
    );
    expect((await client.request("/app")).headers.get("Secure-Session-Registration")).toBeNull();
  });

  it("answers the draft's session configuration, whose credential matches the cookie it sets", async () => {
    const gate = await dbscGate();
    const { registered, sid } = await boundBrowser(gate, "ES256");
    expect(registered.config).toEqual({
      session_identifier: sid,
      refresh_url: "/_gate/dbsc/refresh",
      scope: { origin: "https://gate.example", include_site: false, scope_specification: [] },
      credentials: [{ type: "cookie", name: "__Host-session", attributes: "Path=/; Secure; HttpOnly; SameSite=Lax" }],
    });
    const setCookie = registered.response.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toMatch(/^__Host-session=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(registered.response.headers.get("Secure-Session-Challenge")).toMatch(new RegExp(`^"\\d+\\.[A-Za-z0-9_-]{43}";id="${sid}"$`));
    expect(registered.response.headers.get("Cache-Control")).toBe("no-store");
  });

  it("lists the session as device-bound in the user's sessions", async () => {
    const gate = await dbscGate();
    const { client } = await boundBrowser(gate, "ES256", crypto.randomUUID());
    const listed = (await (await client.request("/_gate/sessions")).json()) as { sessions: Array<{ device_bound: boolean; current: boolean }> };
    expect(listed.sessions).toEqual([expect.objectContaining({ device_bound: true, current: true })]);
  });

  it("keeps the session a plain rotating one for a browser without DBSC", async () => {
    const gate = await dbscGate();
    const token = await gate.login("bob");
    gate.clock.advance(16 * MINUTE);
    const response = await gate.request("/app", { headers: cookie(token) });
    expect(await userSeen(response.clone())).toBe("bob");
    expect(tokenFrom(response)).toMatch(/^[A-Za-z0-9_-]{43}$/); // rotated on schedule (§2)
  });

  it("does not rotate a bound session on schedule: refresh replaces rotation", async () => {
    const gate = await dbscGate({ session: { device_cookie_ttl: "20m" } });
    const { client } = await boundBrowser(gate, "ES256");
    gate.clock.advance(16 * MINUTE);
    const response = await client.request("/app");
    expect(await userSeen(response.clone())).toBe("alice");
    expect(response.headers.get("Set-Cookie")).toBeNull();
    expect(client.exchanges.filter((e) => e.phase === "refresh")).toEqual([]);
  });

  it('offers nothing and answers 404 on its endpoints with device_bound = "off"', async () => {
    const gate = await dbscGate({ session: { device_bound: "off" } });
    const client = await browserOn(gate, "ES256");
    expect((await logIn(gate, client, "alice")).headers.get("Secure-Session-Registration")).toBeNull();
    for (const path of ["/_gate/dbsc/registration", "/_gate/dbsc/refresh"]) {
      expect((await client.request(path, { method: "POST", headers: { "Sec-Fetch-Site": "same-origin" } })).status).toBe(404);
    }
    expect(gate.origin.received.map((r) => r.path)).toEqual(["/login"]);
    expect((await gate.request("/_gate/health")).status).toBe(200); // the other /_gate/ endpoints are untouched
    expect((await gate.request("/_gate/jwks.json")).status).toBe(200);
  });
});

describe('device_bound = "require"', () => {
  const gateOptions = {
    session: { device_bound: "require" },
    gate: { routes: [{ path: "/login", access: "public" }, { path: "/vault/*", device_bound: true }, { path: "/*" }] },
  };

  it("refuses an unbound session on a device_bound route with 403 device_binding_required, and forwards nothing", async () => {
    const gate = await dbscGate(gateOptions);
    const token = await gate.login("bob");
    const before = gate.origin.received.length;
    const response = await gate.request("/vault/keys", { headers: cookie(token) });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: "device_binding_required" });
    expect(gate.origin.received).toHaveLength(before);
    expect(await userSeen(await gate.request("/elsewhere", { headers: cookie(token) }))).toBe("bob");
  });

  it("admits the bound session there", async () => {
    const gate = await dbscGate(gateOptions);
    const { client } = await boundBrowser(gate, "RS256");
    expect(await userSeen(await client.request("/vault/keys"))).toBe("alice");
  });
});
