// A provider that is down, slow or broken (the harness's faults): 503
// `unavailable`, logged, nothing created, and nobody logged out.
import { beforeEach, describe, expect, it } from "vitest";
import { cookie, tokenFrom } from "../helpers/gate";
import { type OidcGate, atProvider, callback, control, createOidcGate, issuerOf, logInWithProvider, startLogin } from "./helpers";
import { expectRefused } from "./refusals";

const ISSUER = issuerOf("outage");
const JSON_ACCEPT = { Accept: "application/json" };
const fault = (target: string, mode: string) => control(ISSUER, "fault", { target, mode });
const alive = async (gate: OidcGate, token: string) => (await gate.request("/_gate/session", { headers: cookie(token) })).status === 200;

beforeEach(async () => {
  await control(ISSUER, "reset");
});

describe("a provider that is down", () => {
  it.each([
    ["answers 500", "http500", "discovery_unavailable"],
    ["answers garbage", "garbage", "discovery_unavailable"],
  ])("at discovery (%s): the login answers 503 and sets no cookie", async (_name, mode, reason) => {
    const gate = await createOidcGate({ harness: "outage" });
    await fault("discovery", mode);
    const response = await gate.request("/_gate/oidc/corp/login?next=/x", { headers: JSON_ACCEPT });
    expect(response.headers.get("retry-after")).toBe("5");
    expect(response.headers.getSetCookie()).toEqual([]);
    await expectRefused(gate, response, 503, reason);
  });

  it("at discovery (hangs): the login gives up after about 5 s with 503", async () => {
    const gate = await createOidcGate({ harness: "outage" });
    await fault("discovery", "hang");
    const started = Date.now();
    const response = await gate.request("/_gate/oidc/corp/login", { headers: JSON_ACCEPT });
    expect(Date.now() - started).toBeLessThan(8_000);
    await expectRefused(gate, response, 503, "discovery_unavailable");
    expect(gate.events("oidc.failed")[0]).toMatchObject({ detail: "TimeoutError" });
  }, 20_000);

  it("at discovery, claiming another issuer (mix-up): 503 discovery_invalid", async () => {
    const gate = await createOidcGate({ harness: "outage" });
    await control(ISSUER, "discovery", { overrides: { issuer: "https://evil.example" } });
    await expectRefused(gate, await gate.request("/_gate/oidc/corp/login", { headers: JSON_ACCEPT }), 503, "discovery_invalid");
  });

  it("is tried again on the next request once it is back (a failed discovery is not cached)", async () => {
    const gate = await createOidcGate({ harness: "outage" });
    await fault("discovery", "http500");
    expect((await gate.request("/_gate/oidc/corp/login", { headers: JSON_ACCEPT })).status).toBe(503);
    await fault("discovery", "normal");
    expect((await gate.request("/_gate/oidc/corp/login")).status).toBe(302);
  });

  it.each([
    ["token", "http500", "token_unavailable"],
    ["token", "garbage", "token_unavailable"],
    ["jwks", "http500", "jwks_unavailable"],
    ["jwks", "garbage", "jwks_unavailable"],
  ])("at the callback (%s %s): 503, and the session the browser had stays", async (target, mode, reason) => {
    const gate = await createOidcGate({ harness: "outage" });
    const existing = await gate.login("already-here");
    gate.origin.received.splice(0);
    const { location, transaction } = await startLogin(gate);
    const { callbackUrl } = await atProvider(location);
    await fault(target, mode);
    const response = await callback(gate, callbackUrl, [transaction, `__Host-session=${existing}`], JSON_ACCEPT);
    gate.logs.splice(
      0,
      gate.logs.findIndex((line) => line.event === "oidc.failed"),
    );
    await expectRefused(gate, response, 503, reason);
    expect(gate.events("session.revoked")).toEqual([]);
    expect(await alive(gate, existing)).toBe(true);
  });

  it("at the token endpoint (hangs): 503 after about 5 s", async () => {
    const gate = await createOidcGate({ harness: "outage" });
    const { location, transaction } = await startLogin(gate);
    const { callbackUrl } = await atProvider(location);
    await fault("token", "hang");
    await expectRefused(gate, await callback(gate, callbackUrl, [transaction], JSON_ACCEPT), 503, "token_unavailable");
  }, 20_000);

  it("for a back-channel logout whose keys cannot be fetched: 503, nobody logged out", async () => {
    const gate = await createOidcGate({ harness: "outage" });
    const token = tokenFrom((await logInWithProvider(gate)).response) as string;
    const fresh = await createOidcGate({ harness: "outage", store: gate.store });
    await fault("jwks", "http500");
    const { logoutToken } = await control<{ logoutToken: string }>(ISSUER, "backchannel-logout", { sub: "alice" });
    const response = await fresh.request("/_gate/oidc/corp/backchannel-logout", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ logout_token: logoutToken }).toString(),
    });
    expect(response.status).toBe(503);
    expect(fresh.events("oidc.failed")[0]).toMatchObject({ reason: "jwks_unavailable" });
    expect(await alive(gate, token)).toBe(true);
  });

  it("at logout: the session still ends, and the browser goes to the login page", async () => {
    const gate = await createOidcGate({ harness: "outage" });
    const token = tokenFrom((await logInWithProvider(gate)).response) as string;
    const fresh = await createOidcGate({ harness: "outage", store: gate.store });
    await fault("discovery", "http500");
    const headers = { ...cookie(token), "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded" };
    const response = await fresh.request("/_gate/logout", { method: "POST", headers, body: "" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/login");
    expect(await alive(gate, token)).toBe(false);
    expect(fresh.events("oidc.failed")[0]).toMatchObject({ reason: "rp_logout_unavailable", step: "rp_logout" });
  });

  it("without an end_session_endpoint, a logout stays local", async () => {
    await control(ISSUER, "discovery", { overrides: { end_session_endpoint: null } });
    const gate = await createOidcGate({ harness: "outage" });
    const token = tokenFrom((await logInWithProvider(gate)).response) as string;
    const headers = { ...cookie(token), "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded" };
    const response = await gate.request("/_gate/logout", { method: "POST", headers, body: "" });
    expect(response.headers.get("location")).toBe("/login");
  });
});
