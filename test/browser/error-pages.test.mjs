// Contract §9 in a real browser: what a person sees when the gate refuses a page they open
// (no access, too many logins, the store down, a form from another site), and that a
// script on the page still gets the JSON. Screenshots go to a temporary directory.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startBridge } from "../redis/bridge.mjs";
import { startRedisServer } from "../redis/redis-server.mjs";
import { dashboardUser, logIn, openBrowser, sessionCookie, startGate, startSite } from "./harness.mjs";

const SHOTS = process.env.SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), "gatehouse-error-pages-"));

/** The page the browser shows: its heading, what-to-do sentence and reference, after a screenshot. */
async function shownPage(page, response, name) {
  assert.match(response.headers()["content-type"], /^text\/html/);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const text = (selector) => page.locator(selector).textContent();
  const styled = await page.locator("main").evaluate((main) => getComputedStyle(main).borderTopLeftRadius);
  assert.equal(styled, "8px", "the inline style applied under the gate's CSP");
  return { heading: await text("h1"), action: await text("#what-to-do"), reference: await text("#request-id") };
}

/** A fetch() from the page, as the page's own scripts would call the API. */
function fetchJson(page, path, init = {}) {
  return page.evaluate(
    async ([path, init]) => {
      const response = await fetch(path, { ...init, headers: { Accept: "application/json" } });
      return {
        status: response.status,
        type: response.headers.get("content-type"),
        retryAfter: response.headers.get("retry-after"),
        body: await response.json(),
      };
    },
    [path, init],
  );
}

/** The attacker's page: a form that posts to `?target=` as soon as it loads (as in csrf.test.mjs). */
function attackPage(request) {
  const target = new URL(request.url, "http://attacker.invalid").searchParams.get("target") ?? "";
  const attribute = target.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!doctype html><title>You won a prize</title>
<form method="post" action="${attribute}"><input type="hidden" name="confirm" value="yes"></form>
<script>document.forms[0].submit()</script>`;
}

describe("error pages in a real browser", () => {
  let gate;
  let browser;
  let attacker;
  const violations = [];
  before(async () => {
    gate = await startGate();
    browser = await openBrowser();
    attacker = await startSite(attackPage);
    browser.page.on("console", (message) => /Content Security Policy/i.test(message.text()) && violations.push(message.text()));
    await logIn(browser.page, gate, { user: "walker" }); // no admin role
  });
  after(async () => {
    await browser?.close();
    await attacker?.close();
    await gate?.stop();
    console.log(`screenshots: ${SHOTS}`);
  });

  it("shows a non-admin who opens /admin/ that they have no access, and the API still answers JSON", async () => {
    const { page } = browser;
    const response = await page.goto(`${gate.url}/admin/`);
    assert.equal(response.status(), 403);
    const shown = await shownPage(page, response, "forbidden");
    assert.equal(shown.heading, "You don't have access to this page");
    assert.equal(shown.action, "If you think you should have access, ask the person who manages this site.");
    assert.equal(shown.reference, response.headers()["x-request-id"]);
    assert.equal(await page.locator("a", { hasText: "Go to the home page" }).getAttribute("href"), "/");
    const api = await fetchJson(page, "/admin/");
    assert.deepEqual([api.status, api.type, api.body], [403, "application/json", { error: "forbidden" }]);
    assert.deepEqual(violations, []);
  });

  it("shows a form posted from another site that it was blocked, and the user stays logged in", async () => {
    const { context, page } = browser;
    const cookie = await sessionCookie(context, gate);
    const target = `${gate.url}/logout-everywhere`;
    const forged = page.waitForResponse((r) => r.url() === target && r.request().method() === "POST");
    await page.goto(`http://127.0.0.1:${attacker.port}/?target=${encodeURIComponent(target)}`);
    const response = await forged;
    await page.waitForURL(target);
    assert.equal(response.status(), 403);
    const shown = await shownPage(page, response, "csrf");
    assert.equal(shown.heading, "This request was blocked");
    assert.equal(shown.action, "Go back and try again from the site itself.");
    assert.equal((await sessionCookie(context, gate))?.value, cookie.value);
    await page.goto(`${gate.url}/dashboard`);
    assert.equal(await dashboardUser(page), "walker");
  });
});

describe("error pages of a gate over Redis, with a small login limit", () => {
  let redisServer;
  let bridge;
  let gate;
  let browser;
  before(async () => {
    redisServer = await startRedisServer();
    bridge = await startBridge({ redisServer });
    const vars = { SESSION_STORE: "redis", UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: bridge.token };
    const rate_limits = {
      default: { limit: 600, period: "1m", key: "ip" },
      login: { limit: 3, period: "1m", key: "ip" },
      failed_auth: { limit: 10, period: "1m", key: "ip" },
    };
    gate = await startGate({ vars, limitFactor: 1, gate: { rate_limits } });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await gate?.stop();
    await bridge?.close();
    await redisServer?.close();
  });

  it("tells a logged-in user to try again in 5 seconds while the store is down, and keeps the cookie", async () => {
    const { context, page } = browser;
    await logIn(page, gate, { user: "olivia" }); // two of the three logins the limit allows
    const cookie = await sessionCookie(context, gate);
    bridge.setMode("http500"); // the REST endpoint of the store answers 500 to everything now
    try {
      const response = await page.goto(`${gate.url}/dashboard`);
      assert.equal(response.status(), 503);
      assert.equal(response.headers()["retry-after"], "5");
      const shown = await shownPage(page, response, "unavailable");
      assert.equal(shown.heading, "Temporarily unavailable");
      assert.equal(shown.action, "Please try again in 5 seconds.");
      const api = await fetchJson(page, "/dashboard");
      assert.deepEqual([api.status, api.retryAfter, api.body], [503, "5", { error: "unavailable" }]);
      assert.equal((await sessionCookie(context, gate))?.value, cookie.value, "no cookie was cleared");
    } finally {
      bridge.setMode("normal");
    }
    await page.goto(`${gate.url}/dashboard`);
    assert.equal(await dashboardUser(page), "olivia", "back once the store is");
  });

  it("tells a person who opens the login page too often how many seconds to wait", async () => {
    const { page } = browser;
    let response;
    for (let i = 0; i < 5 && response?.status() !== 429; i++) response = await page.goto(`${gate.url}/login`);
    assert.equal(response.status(), 429);
    const seconds = response.headers()["retry-after"];
    assert.match(seconds, /^\d+$/);
    for (const name of ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"]) assert.ok(response.headers()[name], name);
    const shown = await shownPage(page, response, "rate-limited");
    assert.equal(shown.heading, "Too many requests");
    assert.equal(shown.action, `Please wait ${seconds} second${seconds === "1" ? "" : "s"}, then try again.`);
    const api = await fetchJson(page, "/login");
    assert.deepEqual([api.status, api.body], [429, { error: "rate_limited" }]);
  });
});
