/**
 * Red-team review of device-bound sessions (contract §12, §15), from outside:
 * a thief holding a copy of a cookie, and a browser whose requests race its
 * own refresh. Contract §12: "A bound token past its ttl gets 401 and is not
 * treated as reuse"; test/dbsc/thief.test.ts: nothing the thief sends "logs
 * the real device out".
 */
import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import { boundBrowser, browserOn, dbscGate, logIn, userSeen } from "../dbsc/real-gate";

const MINUTE = 60_000;

describe("review: an earlier bound cookie after the device refreshed", () => {
  // Found by the red-team review and fixed (medium). After a refresh the session's token is `dbsc-refresh` HMAC of the old
  // one's hash (src/session/device.ts refreshSuccessor), but src/session/authenticate.ts
  // `standing()` checks a previous-generation token only against the rotation successor
  // (successorOf): it never matches, so the earlier bound cookie is always
  // "reuse_detected" and the whole session is revoked. A thief replaying an expired
  // copy is handed a button that logs the device out.
  // The fix: in standing(), for a session with `device`, refuse an older generation as
  // "device_cookie_expired" (no revocation), or accept the previous one in its grace
  // window when refreshSuccessor(session) matches, without handing on a successor.
  it("a stolen bound cookie replayed after the device refreshed gets 401, and the device stays logged in", async () => {
    const gate = await dbscGate();
    const { client, sid } = await boundBrowser(gate, "ES256");
    const stolen = client.exportCookie()?.value ?? "";
    gate.clock.advance(10 * MINUTE + 1_000);
    expect(await userSeen(await client.request("/app"))).toBe("alice"); // the device refreshed: generation 2
    gate.clock.advance(31_000); // past rotation_grace: the predecessor is no longer served either
    const before = gate.origin.received.length;

    const replayed = await gate.request("/app", { headers: { ...cookie(stolen), Accept: "application/json" } });

    expect(replayed.status).toBe(401);
    expect(replayed.headers.getSetCookie()).toEqual([]); // the browser's DBSC session owns the cookie: not cleared
    expect(gate.origin.received).toHaveLength(before);
    expect(gate.events("session.revoked")).toEqual([]);
    expect(await userSeen(await client.request("/app"))).toBe("alice");
    expect((await gate.store.get(sid))?.device).toBeDefined();
  });

  // Same hole, no attacker at all: a request (another tab, a fetch already in flight)
  // that left with the previous bound cookie and arrives just after the refresh.
  it("a request still carrying the previous bound cookie when the refresh lands does not end the session", async () => {
    const gate = await dbscGate();
    const { client } = await boundBrowser(gate, "ES256");
    const inFlight = client.exportCookie()?.value ?? "";
    gate.clock.advance(9 * MINUTE);
    expect((await client.refresh()).kind).toBe("refreshed");

    await gate.request("/app", { headers: { ...cookie(inFlight), Accept: "application/json" } });

    expect(gate.events("session.reuse_detected")).toEqual([]);
    expect(await userSeen(await client.request("/app"))).toBe("alice");
  });

  // Same mechanism one step earlier (lower severity: §15 only says the pre-registration cookie
  // "lasts at most rotation_grace longer"): a copy of the cookie taken before the browser
  // registered, replayed after the grace window, revokes the now device-bound session.
  // The fix: as above; for a bound session an older generation is refused, never treated as reuse.
  it("a cookie stolen before registration, replayed after the grace window, does not log the bound device out", async () => {
    const gate = await dbscGate();
    const client = await browserOn(gate, "ES256");
    await logIn(gate, client, "alice");
    const stolen = client.exportCookie()?.value ?? "";
    expect((await client.register()).kind).toBe("registered");
    gate.clock.advance(MINUTE);

    const replayed = await gate.request("/app", { headers: { ...cookie(stolen), Accept: "application/json" } });

    expect(replayed.status).toBe(401);
    expect(gate.events("session.revoked")).toEqual([]);
    expect(await userSeen(await client.request("/app"))).toBe("alice");
  });
});

describe("review: Secure-Session-Skipped and the log", () => {
  // Found by the red-team review and fixed (low: log flooding and forged log lines). src/app.ts mounts logSkippedRefresh
  // (src/endpoints/dbsc.ts) before admit(), so every request, anonymous and already
  // rate-limited ones included, writes up to 8 `session.device_skipped` lines naming
  // whatever session ids the sender chose.
  // The fix: run logSkippedRefresh after admit() (only admitted requests), and write one
  // line per request (the reasons as a list), or none for a request without a cookie.
  it("a rate-limited client cannot make the gate write more than one skipped line per admitted request", async () => {
    const gate = await createTestGate({ store: "memory", gate: { rate_limits: { default: { limit: 1, period: "1m", key: "ip" } } } });
    const forged = Array.from({ length: 8 }, (_, i) => `unreachable;session_identifier="victimSid${i}"`).join(", ");
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await gate.request("/public/x", { headers: { "Secure-Session-Skipped": forged } })).status);
    }
    expect(statuses.filter((status) => status === 429)).toHaveLength(9);
    expect(gate.events("session.device_skipped").length).toBeLessThanOrEqual(1);
  });
});
