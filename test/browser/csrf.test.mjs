// Cross-site request forgery from a real second web site: an auto-submitting
// form that posts to the gate while the victim is logged in.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { COOKIE_NAME, dashboardUser, gateSession, logIn, openBrowser, sessionCookie, startGate, startSite } from "./harness.mjs";

/** The attacker's page: a form that posts to `?target=` as soon as it loads. */
function attackPage(request) {
  const target = new URL(request.url, "http://attacker.invalid").searchParams.get("target") ?? "";
  const attribute = target.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!doctype html><title>You won a prize</title>
<form method="post" action="${attribute}"><input type="hidden" name="confirm" value="yes"></form>
<script>document.forms[0].submit()</script>`;
}

// localhost:<other port> is another origin on the gate's own site (SameSite=Lax still sends the
// cookie, so only the CSRF check stands in the way); 127.0.0.1 is another site altogether.
const ATTACKERS = [
  { name: "another origin of the same site", host: "localhost", fetchSite: "same-site", cookieSent: true },
  { name: "another site", host: "127.0.0.1", fetchSite: "cross-site", cookieSent: false },
];
const TARGETS = ["/logout-everywhere", "/_gate/logout"];

describe("CSRF in a real browser", () => {
  let gate;
  let browser;
  let attacker;
  before(async () => {
    gate = await startGate();
    browser = await openBrowser();
    attacker = await startSite(attackPage);
    await logIn(browser.page, gate, { user: "victim" });
  });
  after(async () => {
    await browser?.close();
    await attacker?.close();
    await gate?.stop();
  });

  for (const { name, host, fetchSite, cookieSent } of ATTACKERS) {
    for (const path of TARGETS) {
      it(`refuses a form posted to ${path} from ${name} (${host}), and the user stays logged in`, async () => {
        const { context, page } = browser;
        const cookie = await sessionCookie(context, gate);
        const blocked = gate.events("csrf.blocked").length;
        const reached = gate.originRequests().length;
        const forged = page.waitForResponse((response) => response.url() === gate.url + path && response.request().method() === "POST");
        await page.goto(`http://${host}:${attacker.port}/?target=${encodeURIComponent(gate.url + path)}`);
        const response = await forged;
        const sent = await response.request().allHeaders();
        assert.equal(sent["sec-fetch-site"], fetchSite);
        assert.equal((sent.cookie ?? "").includes(`${COOKIE_NAME}=${cookie.value}`), cookieSent, "the session cookie was sent as SameSite=Lax says");
        assert.equal(response.status(), 403);
        // A form post is a navigation: the person sees the readable 403 page, not JSON (contract §9).
        assert.match(response.headers()["content-type"], /^text\/html/);
        assert.match(await response.text(), /<h1>This request was blocked<\/h1>/);
        await gate.settle();
        assert.equal(gate.events("csrf.blocked").length, blocked + 1, "the gate logged csrf.blocked");
        // (The browser may fetch /favicon.ico for the error page; the forged POST must not get through.)
        assert.deepEqual(
          gate
            .originRequests()
            .slice(reached)
            .filter((line) => !line.startsWith("GET ")),
          [],
          "the POST never reached the origin",
        );
        assert.equal((await sessionCookie(context, gate))?.value, cookie.value, "the cookie was not cleared");
        await page.goto(`${gate.url}/dashboard`);
        assert.equal(await dashboardUser(page), "victim", "still logged in");
      });
    }
  }

  // The control: the very same POST from the gate's own page does act, so the refusals above are CSRF's doing.
  it("lets the dashboard's own 'Log out everywhere' form through, which ends the session", async () => {
    const { context, page } = browser;
    await page.goto(`${gate.url}/dashboard`);
    const answered = page.waitForResponse((response) => response.url() === `${gate.url}/logout-everywhere` && response.request().method() === "POST");
    await page.click('form[action="/logout-everywhere"] button[type=submit]');
    const response = await answered;
    assert.equal((await response.request().allHeaders())["sec-fetch-site"], "same-origin");
    assert.equal(response.status(), 303);
    await page.waitForURL(`${gate.url}/`);
    assert.ok(await gate.settle(() => gate.originRequests().includes("POST /logout-everywhere → 303")), "the origin acted");
    assert.equal(await sessionCookie(context, gate), undefined);
    assert.equal((await gateSession(page)).status, 401);
  });
});
