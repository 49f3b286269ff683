/**
 * Device-bound sessions from the attacker's side (contract §12): a stolen
 * bound cookie is worth at most `device_cookie_ttl`, no proof without the
 * device's key renews it, and nothing the thief sends reaches the origin or
 * logs the real device out.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { serializeString } from "../../src/dbsc/headers";
import { cookie } from "../helpers/gate";
import { type RealGate, boundBrowser, browserOn, dbscGate, logIn, userSeen } from "./real-gate";

const MINUTE = 60_000;
const REFRESH = "/_gate/dbsc/refresh";
const REGISTRATION = "/_gate/dbsc/registration";

/** A refresh POST as anyone can send it: the session id, optionally a proof, optionally a cookie. */
function refresh(gate: RealGate, sid: string, proof?: string, token?: string): Promise<Response> {
  const headers: Record<string, string> = { "Sec-Secure-Session-Id": sid, "Sec-Fetch-Site": "same-origin", ...(token && cookie(token)) };
  if (proof !== undefined) headers["Secure-Session-Response"] = proof;
  return gate.request(REFRESH, { method: "POST", headers });
}

/** The challenge of a 403 refresh answer, after checking it is one. */
function challengeOf(response: Response, sid: string): string {
  expect(response.status).toBe(403);
  const match = /^"([^"]+)";id="([^"]+)"$/.exec(response.headers.get("Secure-Session-Challenge") ?? "");
  expect(match?.[2]).toBe(sid);
  return match?.[1] ?? "";
}

/** A key pair that is not the device's. */
const otherKey = () => crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]) as Promise<CryptoKeyPair>;

describe("a stolen bound cookie", () => {
  it("works until device_cookie_ttl after it was issued, then gets 401 without logging the device out", async () => {
    const gate = await dbscGate();
    const { client, sid } = await boundBrowser(gate, "ES256");
    const stolen = client.exportCookie()?.value ?? "";
    gate.clock.advance(9 * MINUTE);
    expect(await userSeen(await gate.request("/app", { headers: cookie(stolen) }))).toBe("alice");
    gate.clock.advance(MINUTE + 1_000);
    const before = gate.origin.received.length;
    const refused = await gate.request("/app", { headers: cookie(stolen) });
    expect(refused.status).toBe(401);
    expect(gate.origin.received).toHaveLength(before);
    expect(gate.events("auth.denied").at(-1)).toMatchObject({ reason: "device_cookie_expired" });
    expect(gate.events("session.revoked")).toEqual([]); // not reuse: the session stands
    expect(await userSeen(await client.request("/app"))).toBe("alice"); // the device refreshes and goes on
    expect((await gate.store.get(sid))?.gen).toBe(2);
  });

  it("is not renewed by a refresh without a proof, or with a proof by any other key", async () => {
    const gate = await dbscGate();
    const { client, sid } = await boundBrowser(gate, "ES256");
    const stolen = client.exportCookie()?.value ?? "";
    const before = gate.origin.received.length;
    const challenge = challengeOf(await refresh(gate, sid, undefined, stolen), sid);
    const forged = [
      await client.signProof(challenge, { key: await otherKey() }),
      await client.signProof(challenge, { key: await otherKey(), jwk: true }),
      await client.signProof(challenge, { jwk: true }),
      await client.signProof(challenge, { typ: "jwt" }),
    ];
    for (const proof of forged) {
      const response = await refresh(gate, sid, proof, stolen);
      challengeOf(response, sid);
      expect(response.headers.get("Set-Cookie")).toBeNull();
    }
    expect(gate.events("session.device_proof_failed").map((e) => e.reason)).toEqual(["signature", "jwk_on_refresh", "jwk_on_refresh", "typ"]);
    expect(gate.origin.received).toHaveLength(before);
    expect((await gate.store.get(sid))?.gen).toBe(1);
  });

  it("cannot register a key of the thief's: a registration challenge exists only in the login response", async () => {
    const gate = await dbscGate();
    const client = await browserOn(gate, "ES256");
    await logIn(gate, client, "alice");
    const token = client.exportCookie()?.value ?? "";
    const thief = await browserOn(gate, "ES256");
    for (const jti of ["", "0.AAAA", `${Math.floor(gate.clock.now / 1000)}.${"A".repeat(43)}`]) {
      const proof = await thief.signProof(jti || "x", { jwk: true });
      const response = await gate.request(REGISTRATION, {
        method: "POST",
        headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin", "Secure-Session-Response": proof },
      });
      expect(response.status).toBe(400);
    }
    expect(gate.events("session.device_bound")).toEqual([]);
    expect((await client.register()).kind).toBe("registered"); // the device itself still can
  });
});

describe("the browser's own requests racing a binding or a refresh", () => {
  it("serves the login cookie on the redirect that races the registration, without handing on the bound successor", async () => {
    const gate = await dbscGate();
    const client = await browserOn(gate, "ES256");
    await logIn(gate, client, "alice");
    const loginCookie = client.exportCookie()?.value ?? "";
    expect((await client.register()).kind).toBe("registered");
    const racing = await gate.request("/app", { headers: cookie(loginCookie) }); // Chromium sends it alongside the registration
    expect(await userSeen(racing.clone())).toBe("alice");
    expect(racing.headers.getSetCookie()).toEqual([]);
    expect(gate.events("session.revoked")).toEqual([]);
  });

  it("serves the cookie a proactive refresh replaced for rotation_grace, then refuses it without ending the session", async () => {
    const gate = await dbscGate();
    const { client, sid } = await boundBrowser(gate, "ES256");
    const before = client.exportCookie()?.value ?? "";
    gate.clock.advance(8 * MINUTE + 30_000); // under two minutes left: Chromium refreshes, and the request that started it leaves with the old cookie
    expect((await client.refresh()).kind).toBe("refreshed");
    const racing = await gate.request("/app", { headers: cookie(before) });
    expect(await userSeen(racing.clone())).toBe("alice");
    expect(racing.headers.getSetCookie()).toEqual([]);
    gate.clock.advance(31_000);
    const late = await gate.request("/app", { headers: { ...cookie(before), Accept: "application/json" } });
    expect(late.status).toBe(401);
    expect(gate.events("auth.denied").at(-1)).toMatchObject({ reason: "device_cookie_superseded" });
    expect(late.headers.getSetCookie()).toEqual([]);
    expect(await userSeen(await client.request("/app"))).toBe("alice");
    expect((await gate.store.get(sid))?.gen).toBe(2);
  });
});

describe("replayed and misdirected proofs", () => {
  it("accepts a refresh proof once: replayed, it earns a 403 and a failure in the log", async () => {
    const gate = await dbscGate();
    const { client, sid } = await boundBrowser(gate, "RS256");
    const proof = await client.signProof(challengeOf(await refresh(gate, sid), sid));
    expect((await refresh(gate, sid, proof)).status).toBe(200);
    const replayed = await refresh(gate, sid, proof);
    challengeOf(replayed, sid);
    expect(replayed.headers.get("Set-Cookie")).toBeNull();
    expect(gate.events("session.device_proof_failed")).toEqual([expect.objectContaining({ sid, phase: "refresh", reason: "challenge" })]);
  });

  it("refuses a challenge older than 5 minutes, quietly when the device's own key signed it", async () => {
    const gate = await dbscGate();
    const { client, sid } = await boundBrowser(gate, "ES256");
    const challenge = challengeOf(await refresh(gate, sid), sid);
    gate.clock.advance(5 * MINUTE + 1_000);
    const stale = await refresh(gate, sid, await client.signProof(challenge));
    const fresh = challengeOf(stale, sid);
    expect(fresh).not.toBe(challenge);
    expect(gate.events("session.device_proof_failed")).toEqual([]);
    expect((await refresh(gate, sid, await client.signProof(fresh))).status).toBe(200);
  });

  it("refuses another session's challenge, and another device's proof", async () => {
    const gate = await dbscGate();
    const alice = await boundBrowser(gate, "ES256", "alice");
    const bob = await boundBrowser(gate, "ES256", "bob");
    const alicesChallenge = challengeOf(await refresh(gate, alice.sid), alice.sid);
    challengeOf(await refresh(gate, bob.sid, await bob.client.signProof(alicesChallenge)), bob.sid);
    challengeOf(await refresh(gate, bob.sid, await alice.client.signProof(alicesChallenge)), bob.sid);
    expect(gate.events("session.device_proof_failed").map((e) => [e.sid, e.reason])).toEqual([
      [bob.sid, "challenge"],
      [bob.sid, "signature"],
    ]);
    expect((await refresh(gate, alice.sid, await alice.client.signProof(alicesChallenge))).status).toBe(200);
  });

  it("does not bind a second key to a bound session", async () => {
    const gate = await dbscGate();
    const { client, sid } = await boundBrowser(gate, "ES256");
    const token = client.exportCookie()?.value ?? "";
    const proof = await client.signProof("anything", { jwk: true });
    const response = await gate.request(REGISTRATION, {
      method: "POST",
      headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin", "Secure-Session-Response": proof },
    });
    expect(response.status).toBe(400);
    expect((await gate.store.get(sid))?.device?.jkt).toBe(await client.thumbprint());
  });
});

describe("refresh requests that are not a bound session's", () => {
  it("answers 400 for a missing or malformed session id, 401 for an unknown, unbound or ended session", async () => {
    const gate = await dbscGate();
    const { client, sid } = await boundBrowser(gate, "ES256", crypto.randomUUID());
    const plain = await gate.login("carol");
    const unbound = (await gate.store.lookup(await (await import("../../src/session/token")).hashToken(plain)))?.session?.sid ?? "";
    const post = (headers: Record<string, string>) =>
      gate.request(REFRESH, { method: "POST", headers: { "Sec-Fetch-Site": "same-origin", ...headers } });
    expect((await post({})).status).toBe(400);
    expect((await post({ "Sec-Secure-Session-Id": "not a session id!" })).status).toBe(400);
    expect((await post({ "Sec-Secure-Session-Id": "AAAAAAAAAAAAAAAAAAAAAA" })).status).toBe(401);
    expect((await post({ "Sec-Secure-Session-Id": serializeString(unbound) })).status).toBe(401);
    expect((await client.request("/_gate/logout", { method: "POST", headers: { "Sec-Fetch-Site": "same-origin" } })).status).toBe(204);
    expect((await post({ "Sec-Secure-Session-Id": sid })).status).toBe(401);
  });

  it("never answers 5xx or issues a cookie for an arbitrary proof header", async () => {
    const gate = await dbscGate();
    const { sid } = await boundBrowser(gate, "ES256");
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.stringMatching(/^[A-Za-z0-9_-]{1,60}\.[A-Za-z0-9_-]{1,60}\.[A-Za-z0-9_-]{0,60}$/)), async (proof) => {
        const headers = new Headers();
        try {
          headers.set("Secure-Session-Response", proof);
        } catch {
          return; // not a header value at all
        }
        const response = await refresh(gate, sid, proof);
        expect([400, 403]).toContain(response.status);
        expect(response.headers.get("Set-Cookie")).toBeNull();
      }),
      { numRuns: 60 },
    );
    expect((await gate.store.get(sid))?.gen).toBe(1);
  });
});

describe("refresh under failure and concurrency", () => {
  it("answers 503 while the store is down, which keeps the browser's session, and refreshes once it is back", async () => {
    const gate = await dbscGate({ store: "redis" });
    const { client, sid } = await boundBrowser(gate, "ES256");
    await gate.redis?.mode("http500");
    gate.clock.advance(10 * MINUTE + 1_000);
    const down = await refresh(gate, sid);
    expect(down.status).toBe(503);
    expect(down.headers.get("Set-Cookie")).toBeNull();
    await gate.redis?.mode("normal");
    expect(await userSeen(await client.request("/app"))).toBe("alice");
    expect(client.session?.id).toBe(sid);
  });

  it("answers a rate-limited refresh with 503 and Retry-After, not the 429 on which Chrome ends the bound session", async () => {
    const gate = await dbscGate({ store: "memory", gate: { rate_limits: { default: { limit: 4, period: "1m" } } } });
    const { sid } = await boundBrowser(gate, "ES256"); // login and registration: 2 of the 4
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await refresh(gate, sid)).status);
    expect(statuses).toEqual([403, 403, 503]);
    const limited = await refresh(gate, sid);
    expect(limited.status).toBe(503);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await limited.json()).toEqual({ error: "rate_limited" });
    expect((await gate.request("/app", { method: "GET" })).status).toBe(429); // elsewhere the limit is the usual 429
  });

  it("two isolates refreshing one generation converge on one successor (or one asks for a fresh proof); nobody is logged out", async () => {
    const first = await dbscGate({ store: "durable" });
    const second = await dbscGate({ store: "durable", clock: first.clock });
    const { client, sid } = await boundBrowser(first, "ES256");
    const proof = await client.signProof(challengeOf(await refresh(first, sid), sid));
    const answers = await Promise.all([refresh(first, sid, proof), refresh(second, sid, proof)]);
    expect(answers.map((r) => r.status)).toContain(200);
    for (const answer of answers) expect([200, 403]).toContain(answer.status);
    // The successor is a function of the generation refreshed: both winners hand out the same token, and the session moved on once.
    const issued = new Set(answers.filter((r) => r.status === 200).map((r) => r.headers.get("Set-Cookie")?.split(";")[0]));
    expect(issued.size).toBe(1);
    expect((await first.store.get(sid))?.gen).toBe(2);
    first.clock.advance(10 * MINUTE + 1_000);
    expect(await userSeen(await client.request("/app"))).toBe("alice");
  });

  it("logs Secure-Session-Skipped, and treats the request as the cookie it carries says", async () => {
    const gate = await dbscGate();
    const before = gate.origin.received.length;
    const response = await gate.request("/app", { headers: { "Secure-Session-Skipped": 'server_error;session_identifier="abc", unreachable' } });
    expect(response.status).toBe(401);
    expect(gate.origin.received).toHaveLength(before);
    expect(gate.events("session.device_skipped")).toEqual([
      expect.objectContaining({
        skipped: [
          { reason: "server_error", sid: "abc" },
          { reason: "unreachable", sid: undefined },
        ],
        path: "/app",
      }),
    ]);
  });
});
