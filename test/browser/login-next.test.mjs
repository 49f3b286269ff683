// After a session ends (idle, or revoked), the browser is sent to the login page
// and comes back to where it was; `next` never leads off the site.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { dashboardUser, gateSession, logIn, openBrowser, sessionCookie, sleep, startGate } from "./harness.mjs";

/** Short, so a test can wait it out (30m shipped). */
const IDLE_TIMEOUT_S = 3;

/** `next` values that point off the site, written as they appear in the login URL's query. */
const HOSTILE_QUERIES = [
  "//evil.example",
  "https://evil.example",
  "/\\evil.example",
  "%2F%2Fevil.example",
  "%252F%252Fevil.example",
  "/%09/evil.example",
  "javascript:alert(1)",
];
/** The same ideas as the form field's value, for a tampered form that skips the login page's own check. */
const HOSTILE_FIELDS = ["//evil.example", "https://evil.example", "/\\evil.example", "%2F%2Fevil.example", "/\t/evil.example", "\\\\evil.example"];

describe("expired sessions and next in a real browser", () => {
  let gate;
  let browser;
  before(async () => {
    gate = await startGate({ session: { idle_timeout: `${IDLE_TIMEOUT_S}s` } });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await gate?.stop();
  });

  it("sends an idle session to the login page and returns to the original page after login", async () => {
    const { context, page } = browser;
    await logIn(page, gate, { user: "idle-ida" });
    const { body: session } = await gateSession(page);
    await page.goto(`${gate.url}/dashboard?tab=2`);
    assert.equal(await dashboardUser(page), "idle-ida");

    await sleep((IDLE_TIMEOUT_S + 1) * 1_000);
    await page.goto(`${gate.url}/dashboard?tab=2`);
    assert.equal(page.url(), `${gate.url}/login?next=%2Fdashboard%3Ftab%3D2`);
    assert.equal(await sessionCookie(context, gate), undefined, "the dead cookie is cleared");
    assert.ok(gate.events("session.expired").some((event) => event.sid === session.sid));

    await logIn(page, gate, { user: "idle-ida", from: null });
    assert.equal(page.url(), `${gate.url}/dashboard?tab=2`);
    assert.equal(await dashboardUser(page), "idle-ida");
    assert.notEqual((await gateSession(page)).body.sid, session.sid, "a new session");
  });

  it("sends a session revoked through the admin API to the login page, and back after login", async () => {
    const { page } = browser;
    await logIn(page, gate, { user: "revoked-rob" });
    const { body: session } = await gateSession(page);
    const revoked = await fetch(`${gate.url}/_gate/admin/sessions/${session.sid}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${gate.adminToken}` },
    });
    assert.ok(revoked.ok, `admin DELETE answered ${revoked.status}`);

    await page.goto(`${gate.url}/dashboard?from=revoked`);
    assert.equal(page.url(), `${gate.url}/login?next=%2Fdashboard%3Ffrom%3Drevoked`);
    await logIn(page, gate, { user: "revoked-rob", from: null });
    assert.equal(page.url(), `${gate.url}/dashboard?from=revoked`);
    assert.equal(await dashboardUser(page), "revoked-rob");
  });

  for (const query of HOSTILE_QUERIES) {
    it(`lands on /dashboard, not off the site, after login from /login?next=${query}`, async () => {
      const { page } = browser;
      await logIn(page, gate, { user: "nina", from: `/login?next=${query}` });
      assert.equal(page.url(), `${gate.url}/dashboard`);
      assert.equal(await dashboardUser(page), "nina");
    });
  }

  for (const value of HOSTILE_FIELDS) {
    it(`lands on /dashboard when the form's next field is tampered to ${JSON.stringify(value)}`, async () => {
      const { page } = browser;
      await page.goto(`${gate.url}/login`);
      await page.locator('input[name="next"]').evaluate((input, tampered) => (input.value = tampered), value);
      await logIn(page, gate, { user: "tess", from: null });
      assert.equal(page.url(), `${gate.url}/dashboard`);
      assert.equal(await dashboardUser(page), "tess");
    });
  }
});
