import { describe, expect, it } from "vitest";
import { cookie, tokenFrom } from "../helpers/gate";
import { completeLogout } from "./flow.mjs";
import { type OidcGate, createOidcGate, issuerOf, logInWithProvider } from "./helpers";

const FORM = { "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded" };
const logout = (gate: OidcGate, token: string, headers: Record<string, string> = FORM) =>
  gate.request("/_gate/logout?next=/bye", {
    method: "POST",
    headers: { ...cookie(token), ...headers },
    body: headers["Content-Type"] ? "" : undefined,
  });

describe("POST /_gate/logout of a provider's session (RP-initiated logout)", () => {
  it("ends the session, then 303 to the provider's end_session_endpoint with client_id and post_logout_redirect_uri", async () => {
    const gate = await createOidcGate();
    const { response, jar } = await logInWithProvider(gate);
    const token = tokenFrom(response) as string;
    const answer = await logout(gate, token);
    expect(answer.status).toBe(303);
    const location = new URL(answer.headers.get("location") ?? "");
    expect(location.origin + location.pathname).toBe(`${issuerOf()}/session/end`);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      client_id: "gate-confidential",
      post_logout_redirect_uri: "https://gate.example/login",
    });
    expect(answer.headers.get("clear-site-data")).toBe('"cookies"');
    expect(tokenFrom(answer)).toBe("");
    expect((await gate.request("/_gate/session", { headers: cookie(token) })).status).toBe(401);
    // The provider takes these parameters: its logout ends on the gate's login page.
    const { location: after } = await completeLogout(location, { cookies: jar });
    expect(after).toBe("https://gate.example/login");
    expect(gate.origin.received.filter((seen) => seen.path.startsWith("/_gate"))).toEqual([]);
  });

  it("also for a navigation (Sec-Fetch-Mode: navigate)", async () => {
    const gate = await createOidcGate();
    const token = tokenFrom((await logInWithProvider(gate)).response) as string;
    const answer = await logout(gate, token, { "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate" });
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toMatch(new RegExp(`^${issuerOf()}/session/end\\?`));
  });

  it("answers an API call (fetch) 204 without Location: the provider's session is the browser's to end", async () => {
    const gate = await createOidcGate();
    const token = tokenFrom((await logInWithProvider(gate)).response) as string;
    const answer = await logout(gate, token, { "Sec-Fetch-Site": "same-origin" });
    expect(answer.status).toBe(204);
    expect(answer.headers.get("location")).toBeNull();
    expect((await gate.request("/_gate/session", { headers: cookie(token) })).status).toBe(401);
  });

  it("uses the public origin in post_logout_redirect_uri", async () => {
    const gate = await createOidcGate({ gate: { public_origin: "https://app.example" } });
    const { response } = await logInWithProvider(gate);
    const location = new URL((await logout(gate, tokenFrom(response) as string)).headers.get("location") ?? "");
    expect(location.searchParams.get("post_logout_redirect_uri")).toBe("https://app.example/login");
  });

  it("leaves an X-Gate-Login session's form logout as it was (303 to next)", async () => {
    const gate = await createOidcGate();
    const answer = await logout(gate, await gate.login("alice"));
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toBe("/bye");
  });
});
