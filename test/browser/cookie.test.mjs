// Logging in through the demo form in Chromium, and what the browser then holds.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { COOKIE_NAME, dashboardUser, gateSession, logIn, openBrowser, sessionCookie, startGate } from "./harness.mjs";

const TWELVE_HOURS = 12 * 3_600;

describe("login in a real browser", () => {
  let gate;
  let browser;
  before(async () => {
    gate = await startGate();
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await gate?.stop();
  });

  it("sends an unauthenticated navigation to the login form and back to the page after login", async () => {
    const { page } = browser;
    await page.goto(`${gate.url}/dashboard`);
    assert.equal(new URL(page.url()).pathname, "/login");
    assert.equal(new URL(page.url()).searchParams.get("next"), "/dashboard");
    await logIn(page, gate, { user: "alice", from: null });
    assert.equal(page.url(), `${gate.url}/dashboard`);
    assert.equal(await dashboardUser(page), "alice");
    const { status, body } = await gateSession(page);
    assert.equal(status, 200);
    assert.equal(body.sub, "alice");
  });

  it("keeps the session cookie out of page JavaScript: HttpOnly, Secure, SameSite=Lax, host-only", async () => {
    const { context, page } = browser;
    await page.goto(`${gate.url}/dashboard`);
    assert.equal(await dashboardUser(page), "alice", "still logged in");
    // document.cookie works on this page (a script cookie shows up), but never shows the session cookie.
    const visible = await page.evaluate(() => {
      // biome-ignore lint/suspicious/noDocumentCookie: the test is what a page script can see and set.
      document.cookie = "probe=visible; Path=/";
      return document.cookie;
    });
    assert.match(visible, /(^|; )probe=visible(;|$)/);
    assert.doesNotMatch(visible, new RegExp(COOKIE_NAME));
    const cookie = await sessionCookie(context, gate);
    assert.ok(cookie, `the browser holds ${COOKIE_NAME}`);
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(cookie.httpOnly, true, "HttpOnly");
    assert.equal(cookie.secure, true, "Secure");
    assert.equal(cookie.sameSite, "Lax");
    assert.equal(cookie.path, "/");
    assert.equal(cookie.domain, "localhost", "host-only: no Domain attribute");
    const now = Date.now() / 1_000;
    assert.ok(
      cookie.expires > now + TWELVE_HOURS - 120 && cookie.expires <= now + TWELVE_HOURS + 5,
      `expires with the absolute timeout (12h), got ${cookie.expires - now} s`,
    );
  });

  it("does not let page JavaScript replace the session cookie", async () => {
    const { context, page } = browser;
    const before = await sessionCookie(context, gate);
    await page.evaluate((name) => {
      // biome-ignore lint/suspicious/noDocumentCookie: a page script planting look-alike cookies is the attack under test.
      document.cookie = `${name}=${"A".repeat(43)}; Path=/; Secure`;
      // biome-ignore lint/suspicious/noDocumentCookie: as above.
      document.cookie = `${name}=${"B".repeat(43)}; Path=/`;
    }, COOKIE_NAME);
    const after = await sessionCookie(context, gate);
    assert.equal(after.value, before.value);
    assert.equal(after.httpOnly, true);
    assert.equal((await gateSession(page)).status, 200);
  });
});
