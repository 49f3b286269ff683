// Logging out in a real browser: the session ends, and Back does not bring the
// protected page back from a cache.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { dashboardUser, gateSession, logIn, openBrowser, sessionCookie, startGate } from "./harness.mjs";

/** Posts a form to `action` from the current page, as a logout button elsewhere on the site would. */
function postForm(page, action) {
  return page.evaluate((target) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = target;
    document.body.append(form);
    form.submit();
  }, action);
}

describe("logout in a real browser", () => {
  let gate;
  let browser;
  before(async () => {
    gate = await startGate();
  });
  beforeEach(async () => {
    await browser?.close();
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await gate?.stop();
  });

  it("serves the protected page with Cache-Control: no-store", async () => {
    const { page } = browser;
    await logIn(page, gate, { user: "carol" });
    const response = await page.goto(`${gate.url}/dashboard`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()["cache-control"] ?? "", /(^|[ ,])no-store([ ,]|$)/);
    assert.equal(await dashboardUser(page), "carol");
  });

  it("ends the session with the Log out button, and Back does not show the dashboard again", async () => {
    const { context, page } = browser;
    await logIn(page, gate, { user: "dave" });
    await page.goto(`${gate.url}/dashboard`);
    assert.equal(await dashboardUser(page), "dave");
    const { body: session } = await gateSession(page);

    await page.click('form[action="/_gate/logout"] button[type=submit]');
    await page.waitForURL(`${gate.url}/login`);
    assert.equal(await sessionCookie(context, gate), undefined, "the cookie is gone");
    assert.equal((await gateSession(page)).status, 401);
    assert.ok(gate.events("session.revoked").some((event) => event.sid === session.sid && event.reason === "logout"));

    const asked = [];
    page.on("request", (request) => request.url().startsWith(`${gate.url}/dashboard`) && asked.push(request.url()));
    await page.goBack();
    await page.waitForLoadState("load");
    assert.equal(await dashboardUser(page), undefined, "Back must not render the dashboard");
    assert.deepEqual(asked, [`${gate.url}/dashboard`], "Back asked the gate again instead of using a cache");
    const url = new URL(page.url());
    assert.equal(url.pathname, "/login");
    assert.equal(url.searchParams.get("next"), "/dashboard");
  });

  it("follows a local ?next= after a form logout", async () => {
    const { context, page } = browser;
    await logIn(page, gate, { user: "erin" });
    await postForm(page, "/_gate/logout?next=%2F%3Fbye%3D1");
    await page.waitForURL(`${gate.url}/?bye=1`);
    assert.equal(await sessionCookie(context, gate), undefined);
    assert.equal((await gateSession(page)).status, 401);
  });

  for (const next of ["//evil.example", "https://evil.example", "/%5Cevil.example", "%2F%2Fevil.example", "/%09/evil.example"]) {
    it(`refuses ?next=${next} on logout and goes to the login page`, async () => {
      const { context, page } = browser;
      await logIn(page, gate, { user: "frank" });
      await postForm(page, `/_gate/logout?next=${next}`);
      await page.waitForURL((url) => url.href !== `${gate.url}/dashboard`);
      assert.equal(page.url(), `${gate.url}/login`);
      assert.equal(await sessionCookie(context, gate), undefined);
    });
  }
});
