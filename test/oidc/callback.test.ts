import { describe, expect, it } from "vitest";
import { cookie, tokenFrom } from "../helpers/gate";
import { createCookieJar } from "./flow.mjs";
import { atProvider, callback, createOidcGate, issuerOf, logInWithProvider, startLogin } from "./helpers";
import { expectNoSecretsLogged, expectRefused } from "./refusals";

const JSON_ACCEPT = { Accept: "application/json" };

/** A login's callback URL with `change` applied to its query. */
function edited(callbackUrl: string, change: (params: URLSearchParams) => void, path?: string): string {
  const url = new URL(callbackUrl);
  change(url.searchParams);
  if (path) url.pathname = path;
  return url.href;
}

/** Walks the provider's pages as a browser would, and presses its "Cancel" link: the provider redirects back with error=access_denied. */
async function cancelAtProvider(authorizationUrl: URL): Promise<string> {
  const jar = createCookieJar();
  let url = authorizationUrl.href;
  for (let step = 0; step < 8; step++) {
    const response = await fetch(url, { headers: { cookie: jar.header(url) }, redirect: "manual" });
    jar.store(response, url);
    const location = response.headers.get("location");
    const html = location ? (await response.body?.cancel(), "") : await response.text();
    if (location && !location.startsWith("/") && !location.startsWith(issuerOf())) return location;
    const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
    url = new URL(location ?? abort ?? "", url).href;
  }
  throw new Error("the provider never redirected back");
}

describe("the callback refuses", () => {
  it("a state that was tampered with (same cookie name, other state)", async () => {
    const gate = await createOidcGate();
    const { location, transaction } = await startLogin(gate);
    const { callbackUrl } = await atProvider(location);
    const state = new URL(callbackUrl).searchParams.get("state") as string;
    const tampered = edited(callbackUrl, (params) => params.set("state", `${state.slice(0, -1)}${state.endsWith("A") ? "B" : "A"}`));
    await expectRefused(gate, await callback(gate, tampered, [transaction], JSON_ACCEPT), 401, "state_mismatch");
  });

  it("a state no transaction of this browser has", async () => {
    const gate = await createOidcGate();
    const { location, transaction } = await startLogin(gate);
    const { callbackUrl } = await atProvider(location);
    const tampered = edited(callbackUrl, (params) => params.set("state", "A".repeat(43)));
    await expectRefused(gate, await callback(gate, tampered, [transaction], JSON_ACCEPT), 401, "transaction_missing");
  });

  it("a callback without a state", async () => {
    const gate = await createOidcGate();
    const { location, transaction } = await startLogin(gate);
    const { callbackUrl } = await atProvider(location);
    await expectRefused(
      gate,
      await callback(
        gate,
        edited(callbackUrl, (params) => params.delete("state")),
        [transaction],
        JSON_ACCEPT,
      ),
      401,
      "state_missing",
    );
  });

  it("a callback without its transaction cookie (another browser, or a login CSRF)", async () => {
    const gate = await createOidcGate();
    const { location } = await startLogin(gate);
    const { callbackUrl } = await atProvider(location);
    await expectRefused(gate, await callback(gate, callbackUrl, [], JSON_ACCEPT), 401, "transaction_missing");
  });

  it("a transaction cookie sealed for another transaction, moved under this one's name", async () => {
    const gate = await createOidcGate();
    const mine = await startLogin(gate);
    const other = await startLogin(gate);
    const { callbackUrl } = await atProvider(mine.location);
    const moved = `${mine.transaction.split("=")[0]}=${other.transaction.split("=")[1]}`;
    await expectRefused(gate, await callback(gate, callbackUrl, [moved], JSON_ACCEPT), 401, "transaction_invalid");
  });

  it("a transaction cookie sent twice", async () => {
    const gate = await createOidcGate();
    const { location, transaction } = await startLogin(gate);
    const { callbackUrl } = await atProvider(location);
    await expectRefused(gate, await callback(gate, callbackUrl, [transaction, transaction], JSON_ACCEPT), 401, "transaction_invalid");
  });

  it("a transaction of another provider", async () => {
    const gate = await createOidcGate();
    const { location, transaction } = await startLogin(gate, { provider: "pub" });
    const { callbackUrl } = await atProvider(location);
    const elsewhere = edited(callbackUrl, () => {}, "/_gate/oidc/corp/callback");
    await expectRefused(gate, await callback(gate, elsewhere, [transaction], JSON_ACCEPT), 401, "provider_mismatch");
  });

  it("an authorization response from another issuer (mix-up: iss)", async () => {
    const gate = await createOidcGate();
    const { location, transaction } = await startLogin(gate);
    const { callbackUrl } = await atProvider(location);
    const mixedUp = edited(callbackUrl, (params) => params.set("iss", "https://evil.example"));
    await expectRefused(gate, await callback(gate, mixedUp, [transaction], JSON_ACCEPT), 401, "authorization_response_invalid");
  });

  it("a code used twice (the provider says invalid_grant), and the session of the first use is not extended to the second", async () => {
    const gate = await createOidcGate();
    const { response, callbackUrl, transaction } = await logInWithProvider(gate);
    expect(response.status).toBe(303);
    gate.logs.splice(0);
    const replay = await callback(gate, callbackUrl, [transaction], JSON_ACCEPT);
    await expectRefused(gate, replay, 401, "token_error");
    expect(gate.events("oidc.failed")[0]).toMatchObject({ provider: "corp", reason: "token_error", detail: "invalid_grant" });
    expectNoSecretsLogged(gate, [new URL(callbackUrl).searchParams.get("code") as string, new URL(callbackUrl).searchParams.get("state") as string]);
  });

  it("error=access_denied from the provider (the user pressed Cancel), and clears the transaction", async () => {
    const gate = await createOidcGate();
    const { location, transaction } = await startLogin(gate);
    const callbackUrl = await cancelAtProvider(location);
    expect(new URL(callbackUrl).searchParams.get("error")).toBe("access_denied");
    const response = await callback(gate, callbackUrl, [transaction], JSON_ACCEPT);
    expect(response.headers.getSetCookie()).toContain(`${transaction.split("=")[0]}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`);
    await expectRefused(gate, response, 401, "provider_error");
    expect(gate.events("oidc.failed")[0]).toMatchObject({ detail: "access_denied" });
  });

  it("and shows a navigation a page, with the same status", async () => {
    const gate = await createOidcGate();
    const { location } = await startLogin(gate);
    const response = await callback(gate, (await atProvider(location)).callbackUrl, []);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(gate.origin.received).toEqual([]);
  });

  it("and leaves the session the browser already had alone", async () => {
    const gate = await createOidcGate();
    const token = await gate.login("already-here");
    const { location } = await startLogin(gate);
    const response = await callback(gate, (await atProvider(location)).callbackUrl, [`__Host-session=${token}`], JSON_ACCEPT);
    expect(response.status).toBe(401);
    expect(tokenFrom(response)).toBeUndefined();
    expect((await gate.request("/_gate/session", { headers: cookie(token) })).status).toBe(200);
  });
});

describe("the allow lists and the user claim", () => {
  it("refuse an email domain that is not allowed (403)", async () => {
    const gate = await createOidcGate({ corp: { allowed_email_domains: ["corp.example"] } });
    const { response } = await logInWithProvider(gate, { headers: JSON_ACCEPT });
    await expectRefused(gate, response, 403, "email_domain_not_allowed");
  });

  it("refuse an unverified email even in an allowed domain (403), and let a verified one in", async () => {
    const gate = await createOidcGate({ corp: { allowed_email_domains: ["EXAMPLE.com"] } });
    const refused = await logInWithProvider(gate, { user: "bob", headers: JSON_ACCEPT });
    await expectRefused(gate, refused.response, 403, "email_domain_unverified");
    const allowed = await logInWithProvider(gate, { user: "alice", headers: JSON_ACCEPT });
    expect(allowed.response.status).toBe(303);
  });

  it("with user_claim email: an unverified email is no identity (401); a verified one becomes the sub", async () => {
    const gate = await createOidcGate({ corp: { user_claim: "email" } });
    const refused = await logInWithProvider(gate, { user: "bob", headers: JSON_ACCEPT });
    await expectRefused(gate, refused.response, 401, "email_unverified");
    const allowed = await logInWithProvider(gate, { user: "alice", headers: JSON_ACCEPT });
    const session = await (await gate.request("/_gate/session", { headers: cookie(tokenFrom(allowed.response) as string) })).json();
    expect(session).toMatchObject({ sub: "alice@example.com", idp: "corp" });
  });

  it("refuse a user who is not in allowed_users (403)", async () => {
    const gate = await createOidcGate({ corp: { allowed_users: ["bob"] } });
    const { response } = await logInWithProvider(gate, { user: "alice", headers: JSON_ACCEPT });
    await expectRefused(gate, response, 403, "user_not_allowed");
  });

  it("refuse a user_claim the ID token does not have", async () => {
    const gate = await createOidcGate({ corp: { user_claim: "employee_id" } });
    const { response } = await logInWithProvider(gate, { headers: JSON_ACCEPT });
    await expectRefused(gate, response, 401, "user_claim_missing");
  });
});
