import { describe, expect, it } from "vitest";
import { EmbeddedJWK, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { createDbscClient, type DbscAlgorithm } from "./client";
import { parseItem } from "./sf";

const ORIGIN = "https://gate.example";
const REG = '(ES256 RS256);path="/_gate/dbsc/registration";challenge="reg-c1"';
const CONFIG = {
  session_identifier: "sid-1",
  refresh_url: "/_gate/dbsc/refresh",
  scope: { origin: ORIGIN, include_site: false, scope_specification: [{ type: "exclude", domain: "gate.example", path: "/public" }] },
  credentials: [{ type: "cookie", name: "__Host-session", attributes: "Path=/; Secure; HttpOnly; SameSite=Lax" }],
};
const COOKIE = (v: string) => `__Host-session=${v}; Max-Age=600; Path=/; Secure; HttpOnly; SameSite=Lax`;

/** A scripted stand-in for the gate: records requests, answers with `reply`. */
function fakeGate(reply: (path: string, req: Request) => Response | Promise<Response>) {
  const seen: Array<{ path: string; req: Request }> = [];
  const fetch = async (path: string, init: RequestInit) => {
    const req = new Request(new URL(path, ORIGIN), init);
    seen.push({ path, req });
    return reply(path, req);
  };
  return { seen, fetch };
}

/** The bare JWT in a Secure-Session-Response header, whichever wire style sent it. */
const proofOf = (req: Request) => {
  const item = parseItem(req.headers.get("Secure-Session-Response")!).item;
  return String(item.value);
};

async function registered(algorithm: DbscAlgorithm, wire: "draft" | "chrome" = "draft", refresh?: (req: Request, n: number) => Response) {
  let t = Date.UTC(2026, 0, 1);
  let refreshes = 0;
  const gate = fakeGate((path, req) => {
    if (path === "/login") return new Response("ok", { headers: { "Secure-Session-Registration": REG } });
    if (path === "/_gate/dbsc/registration") return Response.json(CONFIG, { headers: { "Set-Cookie": COOKIE("v1") } });
    if (path === "/_gate/dbsc/refresh") return refresh!(req, ++refreshes);
    return new Response(`cookie=${req.headers.get("Cookie") ?? ""}`);
  });
  const client = await createDbscClient({ fetch: gate.fetch, origin: ORIGIN, algorithm, now: () => t, wire });
  await client.request("/login");
  const outcome = await client.register();
  return { client, gate, outcome, advance: (ms: number) => (t += ms) };
}

describe.each(["ES256", "RS256"] as const)("registration proof (%s)", (alg) => {
  it("is a dbsc+jwt with the public jwk in its header and the challenge as jti, verifiable by the embedded key", async () => {
    const { client, gate, outcome } = await registered(alg);
    expect(outcome.kind).toBe("registered");
    const reg = gate.seen.find((s) => s.path === "/_gate/dbsc/registration")!.req;
    expect(reg.method).toBe("POST");
    expect(reg.headers.get("Secure-Session-Response")).toMatch(/^"[\w-]+\.[\w-]+\.[\w-]+"$/); // sf-string
    const jwt = proofOf(reg);
    const header = decodeProtectedHeader(jwt);
    expect(header).toEqual({ alg, typ: "dbsc+jwt", jwk: client.publicJwk });
    expect(Object.keys(header.jwk!).sort()).toEqual(alg === "ES256" ? ["crv", "kty", "x", "y"] : ["e", "kty", "n"]);
    expect(decodeJwt(jwt)).toEqual({ jti: "reg-c1" });
    const { payload, protectedHeader } = await jwtVerify(jwt, EmbeddedJWK, { typ: "dbsc+jwt", algorithms: [alg] });
    expect(payload.jti).toBe("reg-c1");
    expect(protectedHeader.jwk).toEqual(client.publicJwk);
    expect(client.session?.id).toBe("sid-1");
    expect(client.lastConfig).toEqual(CONFIG);
    expect(client.exportCookie()?.value).toBe("v1");
  });

  it("refresh: 403 + Secure-Session-Challenge is answered once with a jwk-less proof over that challenge", async () => {
    const { client, gate, advance } = await registered(alg, "draft", (_req, n) =>
      n === 1
        ? new Response(null, { status: 403, headers: { "Secure-Session-Challenge": '"ref-c2";id="sid-1"' } })
        : new Response(null, { status: 200, headers: { "Set-Cookie": COOKIE("v2") } }),
    );
    expect(await (await client.request("/app")).text()).toBe("cookie=__Host-session=v1");
    advance(601_000); // the bound cookie's Max-Age ran out: the next in-scope request defers for a refresh
    expect(await (await client.request("/app")).text()).toBe("cookie=__Host-session=v2");
    const refreshes = gate.seen.filter((s) => s.path === "/_gate/dbsc/refresh").map((s) => s.req);
    expect(refreshes).toHaveLength(2);
    expect(refreshes.map((r) => r.headers.get("Sec-Secure-Session-Id"))).toEqual(['"sid-1"', '"sid-1"']);
    expect(refreshes[0].headers.has("Secure-Session-Response")).toBe(false); // no challenge cached yet
    const jwt = proofOf(refreshes[1]);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg, typ: "dbsc+jwt" });
    expect(decodeJwt(jwt)).toEqual({ jti: "ref-c2" });
    await jwtVerify(jwt, await importJWK(client.publicJwk, alg), { typ: "dbsc+jwt" });
    expect(client.session?.cachedChallenge).toBe("ref-c2");
  });
});

describe("refresh status handling (draft 'Send request')", () => {
  it.each([
    [401, "terminated", false],
    [404, "terminated", false],
    [500, "kept", true],
    [503, "kept", true],
    [429, "kept", true],
    [302, "kept", true],
  ])("%i → %s", async (status, kind, stillThere) => {
    const { client, gate, advance } = await registered("ES256", "draft", () => new Response(null, { status }));
    advance(601_000);
    await client.request("/app");
    expect(client.session !== undefined).toBe(stillThere);
    const app = gate.seen.filter((s) => s.path === "/app").at(-1)!.req;
    expect(app.headers.get("Cookie")).toBeNull();
    const skipped = app.headers.get("Secure-Session-Skipped");
    expect(skipped).toBe(kind === "kept" ? 'server_error;session_identifier="sid-1"' : null);
    expect((await client.refresh()).kind).toBe(stillThere ? "kept" : "no-session");
  });

  it("a 200 with continue:false ends the session; an empty 200 keeps the config", async () => {
    const ended = await registered("ES256", "draft", () => Response.json({ continue: false }));
    expect(await ended.client.refresh()).toMatchObject({ kind: "terminated", reason: "continue-false" });
    expect(ended.client.session).toBeUndefined();
    const kept = await registered("ES256", "draft", () => new Response(null, { headers: { "Set-Cookie": COOKIE("v9") } }));
    expect(await kept.client.refresh()).toMatchObject({ kind: "refreshed", configChanged: false });
    expect(kept.client.exportCookie()?.value).toBe("v9");
  });

  it("does not refresh for an out-of-scope path, nor while the bound cookie lives", async () => {
    const { client, gate, advance } = await registered("ES256", "draft", () => new Response(null, { status: 500 }));
    await client.request("/app");
    advance(601_000);
    await client.request("/public/x");
    expect(gate.seen.some((s) => s.path === "/_gate/dbsc/refresh")).toBe(false);
  });
});

describe("wire styles and attacker hooks", () => {
  it("chrome style sends the JWT and the id bare, as Chrome 156 does", async () => {
    const { client, gate } = await registered(
      "ES256",
      "chrome",
      () => new Response(null, { status: 403, headers: { "Secure-Session-Challenge": '"c";id="sid-1"' } }),
    );
    expect(proofOf(gate.seen[1].req)).toBe(gate.seen[1].req.headers.get("Secure-Session-Response"));
    expect(await client.refresh()).toMatchObject({ kind: "kept", reason: "challenge-rejected" });
    const last = gate.seen.at(-1)!.req;
    expect(last.headers.get("Sec-Secure-Session-Id")).toBe("sid-1");
    expect(decodeJwt(last.headers.get("Secure-Session-Response")!)).toEqual({ jti: "c" });
  });

  it("signProof signs with a foreign key or a forged jti; the session key does not verify it", async () => {
    const { client } = await registered("ES256");
    const thief = await createDbscClient({ fetch: async () => new Response(), origin: ORIGIN, algorithm: "ES256" });
    const forged = await client.signProof("c3", { key: thief.keyPair, jti: "other", jwk: true });
    expect(decodeProtectedHeader(forged).jwk).toEqual(thief.publicJwk);
    expect(decodeJwt(forged).jti).toBe("other");
    await expect(jwtVerify(forged, await importJWK(client.publicJwk, "ES256"))).rejects.toThrow();
    expect(await client.thumbprint()).not.toBe(await thief.thumbprint());
  });
});
