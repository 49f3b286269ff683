// trusted_origins from a real second web site: a page on a trusted origin calls
// the gate's origin with credentials (preflighted JSON POST), as an SPA on
// app.example.com calling api.example.com would; a page on another origin of
// the same site tries the same and is refused by the CSRF check.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort, logIn, openBrowser, startGate, startSite } from "./harness.mjs";

/** A page whose script calls `?target=` and shows the outcome in its title. */
function callerPage(request) {
  const target = new URL(request.url, "http://site.invalid").searchParams.get("target") ?? "";
  return `<!doctype html><title>calling</title><script>
fetch(${JSON.stringify(target)}, { method: "POST", credentials: "include", headers: { "Content-Type": "application/json" }, body: "{}" })
  .then(async (r) => { document.title = "status " + r.status + " " + (await r.text()); })
  .catch((e) => { document.title = "failed " + e.message; });
</script>`;
}

describe("trusted_origins in a real browser", () => {
  let gate;
  let browser;
  let trusted;
  let other;
  before(async () => {
    const [trustedPort, otherPort] = [await freePort(), await freePort()];
    const trustedOrigin = `http://localhost:${trustedPort}`;
    trusted = await startSite(callerPage, trustedPort);
    other = await startSite(callerPage, otherPort);
    gate = await startGate({ gate: { trusted_origins: [trustedOrigin] }, env: { DEMO_CORS_ORIGINS: trustedOrigin } });
    browser = await openBrowser();
    await logIn(browser.page, gate, { user: "partner-user" });
  });
  after(async () => {
    await browser?.close();
    await trusted?.close();
    await other?.close();
    await gate?.stop();
  });

  it("lets a trusted origin's preflighted, credentialed POST through, with the user's identity", async () => {
    const { page } = browser;
    const reached = gate.originRequests().length;
    await page.goto(`http://localhost:${trusted.port}/?target=${encodeURIComponent(`${gate.url}/api/whoami`)}`);
    await page.waitForFunction(() => document.title !== "calling");
    assert.equal(await page.title(), 'status 200 {"user":"partner-user","method":"POST"}');
    await gate.settle(() =>
      gate
        .originRequests()
        .slice(reached)
        .some((line) => line.startsWith("POST /api/whoami")),
    );
    const seen = gate.originRequests().slice(reached);
    assert.ok(
      seen.some((line) => line.startsWith("OPTIONS /api/whoami → 204")),
      `the preflight reached the origin: ${seen}`,
    );
    assert.ok(seen.some((line) => line.startsWith("POST /api/whoami → 200")));
    assert.equal(gate.events("csrf.blocked").length, 0);
  });

  it("refuses the same call from another origin of the site, before it reaches the origin", async () => {
    const { page } = browser;
    const blocked = gate.events("csrf.blocked").length;
    const reached = gate.originRequests().length;
    await page.goto(`http://localhost:${other.port}/?target=${encodeURIComponent(`${gate.url}/api/whoami`)}`);
    await page.waitForFunction(() => document.title !== "calling");
    // The preflight is answered without CORS headers for this origin, so the browser sent no POST
    // (and the page learnt nothing): send it as a simple request, which browsers send without asking.
    assert.match(await page.title(), /^failed /);
    const answer = page.waitForResponse((response) => response.url() === `${gate.url}/api/whoami` && response.request().method() === "POST");
    await page.evaluate((url) => void fetch(url, { method: "POST", mode: "no-cors", credentials: "include", body: "x" }), `${gate.url}/api/whoami`);
    const response = await answer;
    assert.equal(response.status(), 403);
    await gate.settle(() => gate.events("csrf.blocked").length > blocked);
    assert.deepEqual(
      gate
        .events("csrf.blocked")
        .slice(blocked)
        .map((event) => event.reason),
      ["sec-fetch-site:same-site"],
      "refused on Fetch Metadata: the browser said same-site, from an origin that is not trusted",
    );
    assert.deepEqual(
      gate
        .originRequests()
        .slice(reached)
        .filter((line) => line.startsWith("POST")),
      [],
      "no POST reached the origin",
    );
  });
});
