// Logging in through an identity provider in a real browser: the demo's OpenID
// Provider (demo/idp.mjs, oidc-provider on 127.0.0.1) and its own HTML login
// page, the gate's OIDC endpoints, and back to the demo origin's dashboard.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { dashboardUser, gateSession, openBrowser, sessionCookie, startGate } from "./harness.mjs";

/** Signs in at the provider's own page: its form#login-form, input#login, button#login-submit. */
async function signInAtProvider(page, gate, user) {
  await page.waitForURL((url) => url.origin === gate.idpUrl);
  await page.fill("#login", user);
  await page.click("#login-submit");
}

describe("OpenID Connect login in a real browser", () => {
  let gate;
  let browser;
  before(async () => {
    gate = await startGate({ idp: true });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await gate?.stop();
  });

  it("logs in through the provider's login page and lands on the dashboard with the identity", async () => {
    const { context, page } = browser;
    await page.goto(`${gate.url}/dashboard?tab=2`);
    assert.equal(page.url(), `${gate.url}/login?next=%2Fdashboard%3Ftab%3D2`);
    await page.click("#oidc-login");
    await signInAtProvider(page, gate, "alice");
    await page.waitForURL(`${gate.url}/dashboard?tab=2`);
    assert.equal(await dashboardUser(page), "demo:alice");
    assert.match(await page.locator("body").textContent(), /X-Gate-Assertion verified/);

    const { status, body } = await gateSession(page);
    assert.equal(status, 200);
    assert.equal(body.sub, "demo:alice");
    assert.equal(body.idp, "demo");
    assert.deepEqual(body.roles, ["user", "admin"]);
    const cookies = await context.cookies(gate.url);
    assert.ok(await sessionCookie(context, gate), "the session cookie is set");
    assert.deepEqual(
      cookies.filter((cookie) => cookie.name.startsWith("__Host-gate-oidc-")),
      [],
      "the transaction cookie is gone",
    );
    assert.ok(gate.events("oidc.login").some((event) => event.sub === "demo:alice" && event.provider === "demo"));
    // The admin page needs role admin and a fresh login: both come from the provider.
    await page.goto(`${gate.url}/admin/`);
    assert.match(await page.locator("h1").textContent(), /Admin/);
  });

  it("logs out at the gate, then at the provider (RP-initiated logout), and ends on the login page", async () => {
    const { context, page } = browser;
    await page.goto(`${gate.url}/dashboard`);
    await page.click('form[action="/_gate/logout"] button[type=submit]');
    await page.waitForURL((url) => url.origin === gate.idpUrl);
    assert.equal(await sessionCookie(context, gate), undefined, "the gate's session ended first");
    await page.click("#logout-yes");
    await page.waitForURL(`${gate.url}/login`);
    assert.equal((await gateSession(page)).status, 401);

    // Signed out at the provider too: the next login asks for the user again.
    await page.click("#oidc-login");
    await signInAtProvider(page, gate, "bob");
    await page.waitForURL(`${gate.url}/dashboard`);
    assert.equal(await dashboardUser(page), "demo:bob");
  });
});
