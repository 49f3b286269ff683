// WebSockets through the gate in a real browser: the demo dashboard's live panel
// (demo/static/live.js) opens a socket to the demo origin's /live through the
// gate, shows the identity the origin saw on the handshake, and shows the gate's
// 1008 "session ended" when the session is revoked elsewhere, within
// GATE.websocket.recheck. A page of another origin cannot open a socket with the
// user's cookie: the gate refuses the handshake and the origin never sees it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort, logIn, openBrowser, sessionCookie, sleep, startGate, startSite } from "./harness.mjs";

/**
 * The recheck under test, short (the schema's minimum is 1s). A revocation is
 * seen at the next recheck, so the close comes at most RECHECK_MS after it, plus
 * the recheck's store read and the delivery of the close (LATE_MS, generous for a busy machine).
 */
const RECHECK_MS = 2_000;
const LATE_MS = 750;
const SESSION_ENDED = "the gate closed this socket: session ended (1008)";
/** Logging in from here lands on the public home page, whose page opens no socket. */
const HOME_AFTER_LOGIN = "/login?next=%2F";

/** A page that opens `?target=` as a WebSocket and shows the outcome in its title. */
function socketPage(request) {
  const target = new URL(request.url, "http://site.invalid").searchParams.get("target") ?? "";
  return `<!doctype html><title>connecting</title><script>
const ws = new WebSocket(${JSON.stringify(target)});
const seen = [];
ws.onopen = () => seen.push("open");
ws.onmessage = (e) => seen.push("message " + e.data);
ws.onerror = () => seen.push("error");
ws.onclose = (e) => { seen.push("close " + e.code); document.title = seen.join(", "); };
</script>`;
}

/** Waits on the dashboard (where logIn lands) for the live panel's socket to be open and to show who the origin saw. */
async function openLivePanel(page, gate) {
  if (page.url() !== `${gate.url}/dashboard`) await page.goto(`${gate.url}/dashboard`);
  await page.waitForSelector('#live[data-state="open"]');
  await page.waitForFunction(() => !document.querySelector("#live-user .muted"));
  return {
    user: await page.textContent("#live-user"),
    session: await page.textContent("#live-session"),
    assertion: await page.textContent("#live-assertion"),
  };
}

/** Waits for the panel to show its socket closed; resolves to what it shows, and when the page saw the close (its clock is ours). */
async function panelClosed(page, timeout = RECHECK_MS + LATE_MS + 1_000) {
  await page.waitForSelector('#live[data-state="closed"]', { timeout });
  const panel = page.locator("#live");
  return {
    closedAt: Number(await panel.getAttribute("data-closed-at")),
    status: await page.textContent("#live-status"),
    code: await panel.getAttribute("data-close-code"),
    reason: await panel.getAttribute("data-close-reason"),
  };
}

/** The demo origin's log of /live handshakes and closes. */
const liveLines = (gate) =>
  gate
    .output()
    .split("\n")
    .filter((line) => /^\[origin\]\s+(GET \/live|WS \/live)/.test(line));
/** The statuses the gate answered /live with, from wrangler's request log (`GET /live 403 Forbidden`). */
const liveAnswers = (gate) => [...gate.output().matchAll(/^\[gate\]\s+\[wrangler:info\] GET \/live (\d{3})/gm)].map((match) => Number(match[1]));
/** The gate as a WebSocket URL. */
const wsUrl = (gate, path) => `${gate.url.replace(/^http/, "ws")}${path}`;

/**
 * `it`, for a test that holds a socket open. wrangler dev reloads the Worker when
 * a source file changes, and a reload cuts every open socket (1006): when that
 * happened while the test ran (the working tree edited under a running suite),
 * the test runs once more and says why. Any other failure stands.
 */
function socketTest(name, gateOf, body) {
  it(name, async (t) => {
    const gate = gateOf();
    const from = gate.output().length;
    try {
      await body(t);
    } catch (error) {
      if (!gate.output().slice(from).includes("Reloading local server")) throw error;
      t.diagnostic(
        `wrangler reloaded the Worker during the test (a source file changed), which cut its sockets; running it again. First failure: ${String(error.message).split("\n")[0]}`,
      );
      await gate.settle(() => gate.output().slice(from).includes("Local server updated and ready"), 15_000);
      await body(t);
    }
  });
}

describe("WebSockets through the gate in Chromium (the dashboard's live panel)", () => {
  let gate;
  let browser;
  let sameSite;
  before(async () => {
    sameSite = await startSite(socketPage, await freePort());
    gate = await startGate({ gate: { websocket: { recheck: `${RECHECK_MS / 1_000}s` } }, env: { DEMO_LIVE_TICK_MS: "500" } });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await sameSite?.close();
    await gate?.stop();
  });

  socketTest(
    "opens the panel's socket with the identity the origin saw, verified, and echoes through it",
    () => gate,
    async () => {
      const { page } = browser;
      await logIn(page, gate, { user: "socket-sam" });
      const seen = await openLivePanel(page, gate);
      assert.equal(seen.user, "socket-sam");
      assert.match(seen.session, /^\S{8,}$/);
      assert.match(seen.assertion, /^verified ✓ \(sub socket-sam\)$/, "the origin verified X-Gate-Assertion on the handshake");
      await page.waitForFunction(() => document.querySelector("#live-log").textContent.includes("tick 1"));
      await page.fill("#live-text", "hello through the gate");
      await page.click('#live-form button[type="submit"]');
      await page.waitForFunction(() => document.querySelector("#live-log").textContent.includes("echo: hello through the gate"));
      assert.ok(gate.originRequests().includes("GET /live → 101"), `the origin upgraded: ${liveLines(gate)}`);
    },
  );

  socketTest(
    "shows 1008 session ended within recheck when the user logs out in another tab",
    () => gate,
    async (t) => {
      const { context, page } = browser;
      await logIn(page, gate, { user: "tabbed-tom" });
      await openLivePanel(page, gate);
      const tab = await context.newPage();
      let loggedOutAt;
      try {
        await tab.goto(`${gate.url}/`);
        loggedOutAt = Date.now(); // the logout happens during the click: measured from before it, to be strict
        await Promise.all([tab.waitForURL(`${gate.url}/login`), tab.click('form[action="/_gate/logout"] button[type=submit]')]);
      } finally {
        await tab.close();
      }
      const closed = await panelClosed(page);
      assert.equal(closed.status, SESSION_ENDED);
      assert.ok(closed.closedAt - loggedOutAt <= RECHECK_MS + LATE_MS, `closed ${closed.closedAt - loggedOutAt} ms after the logout`);
      t.diagnostic(`logout → 1008 on the page: ${closed.closedAt - loggedOutAt} ms (recheck ${RECHECK_MS} ms)`);
    },
  );

  socketTest(
    "shows 1008 session ended within recheck when the user logs out everywhere in another browser",
    () => gate,
    async (t) => {
      const { page } = browser;
      await logIn(page, gate, { user: "everywhere-eve" });
      const seen = await openLivePanel(page, gate);
      assert.equal(seen.user, "everywhere-eve");

      const other = await openBrowser();
      let revokedAt;
      try {
        await logIn(other.page, gate, { user: "everywhere-eve" });
        await other.page.goto(`${gate.url}/logout-everywhere`);
        revokedAt = Date.now();
        await Promise.all([other.page.waitForURL(`${gate.url}/`), other.page.click('form[action="/logout-everywhere"] button[type=submit]')]);
      } finally {
        await other.close();
      }
      const closed = await panelClosed(page);
      assert.equal(closed.status, SESSION_ENDED);
      assert.deepEqual([closed.code, closed.reason], ["1008", "session ended"]);
      assert.ok(closed.closedAt - revokedAt <= RECHECK_MS + LATE_MS, `closed ${closed.closedAt - revokedAt} ms after the revocation`);
      t.diagnostic(`revocation → 1008 on the page: ${closed.closedAt - revokedAt} ms (recheck ${RECHECK_MS} ms)`);
      await gate.settle(() =>
        gate.events("session.websocket_closed").some((event) => event.sid === seen.session && event.reason === "session_ended"),
      );
      const ends = gate.events("session.websocket_closed").filter((e) => e.sid === seen.session && e.reason !== "client_closed");
      assert.deepEqual(
        ends.map((e) => [e.reason, e.code]),
        [["session_ended", 1008]],
        "the gate logged the end (a client_closed is the landing page's socket, closed by the navigation)",
      );
      await gate.settle(() => liveLines(gate).some((line) => line.includes("user=everywhere-eve") && line.includes("closed")));
      assert.ok(
        liveLines(gate).some((line) => /WS \/live closed 1000 "session ended" .* user=everywhere-eve$/.test(line)),
        `the origin got 1000 "session ended": ${liveLines(gate)}`,
      );
    },
  );

  socketTest(
    "shows 1008 session ended within recheck when an admin revokes the session",
    () => gate,
    async (t) => {
      const { page } = browser;
      await logIn(page, gate, { user: "revoked-rita" });
      const seen = await openLivePanel(page, gate);
      const revokedAt = Date.now();
      const answer = await fetch(`${gate.url}/_gate/admin/sessions/${seen.session}`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${gate.adminToken}` },
      });
      assert.ok(answer.ok, `admin DELETE answered ${answer.status}`);
      const closed = await panelClosed(page);
      assert.equal(closed.status, SESSION_ENDED);
      assert.ok(closed.closedAt - revokedAt <= RECHECK_MS + LATE_MS, `closed ${closed.closedAt - revokedAt} ms after the revocation`);
      t.diagnostic(`revocation → 1008 on the page: ${closed.closedAt - revokedAt} ms (recheck ${RECHECK_MS} ms)`);

      // Reconnecting is a new handshake, refused without a session: the panel says it did not open.
      const reached = gate.originRequests().length;
      await page.click("#live-reconnect");
      const again = await panelClosed(page, 5_000);
      assert.match(again.status, /^the socket did not open: the gate refused the handshake/);
      assert.deepEqual(gate.originRequests().slice(reached), [], "the refused handshake never reached the origin");
    },
  );

  it("refuses a handshake from another origin of the site, which carries the user's cookie, before it reaches the origin", async () => {
    const { page } = browser;
    await logIn(page, gate, { user: "hijacked-hal", from: HOME_AFTER_LOGIN });
    const [blocked, reached, answered] = [gate.events("csrf.blocked").length, gate.originRequests().length, liveAnswers(gate).length];
    const logged = [];
    const onConsole = (message) => logged.push(message.text());
    page.on("console", onConsole);
    const foreign = `http://localhost:${sameSite.port}`;
    await page.goto(`${foreign}/?target=${encodeURIComponent(wsUrl(gate, "/live"))}`);
    await page.waitForFunction(() => document.title !== "connecting");
    page.off("console", onConsole);
    assert.equal(await page.title(), "error, close 1006", "the page never had an open socket");
    assert.ok(
      logged.some((text) => text.includes("Unexpected response code: 403")),
      `the browser saw 403: ${logged}`,
    );
    await gate.settle(() => gate.events("csrf.blocked").length > blocked && liveAnswers(gate).length > answered);
    // hijackVerdict runs only for a valid session: the same-site page's handshake did carry the SameSite=Lax cookie.
    assert.deepEqual(
      gate
        .events("csrf.blocked")
        .slice(blocked)
        .map((event) => [event.reason, event.path]),
      [[`websocket_origin:${foreign}`, "/live"]],
    );
    assert.deepEqual(liveAnswers(gate).slice(answered), [403]);
    await gate.settle(() => false, 300);
    assert.deepEqual(gate.originRequests().slice(reached), [], "nothing reached the origin");
    assert.deepEqual(
      liveLines(gate).filter((line) => line.includes("user=hijacked-hal")),
      [],
      "the origin never saw a /live handshake",
    );
  });

  it("answers 401 to a cross-site page's handshake, which does not carry the cookie (SameSite=Lax); nothing reaches the origin", async () => {
    const { page } = browser;
    await logIn(page, gate, { user: "cross-cora", from: HOME_AFTER_LOGIN });
    const [blocked, reached, answered] = [gate.events("csrf.blocked").length, gate.originRequests().length, liveAnswers(gate).length];
    await page.goto(`http://127.0.0.1:${sameSite.port}/?target=${encodeURIComponent(wsUrl(gate, "/live"))}`);
    await page.waitForFunction(() => document.title !== "connecting");
    assert.equal(await page.title(), "error, close 1006");
    await gate.settle(() => liveAnswers(gate).length > answered);
    assert.deepEqual(liveAnswers(gate).slice(answered), [401], "no session: refused before the Origin check");
    assert.equal(gate.events("csrf.blocked").length, blocked);
    await gate.settle(() => false, 300);
    assert.deepEqual(gate.originRequests().slice(reached), [], "nothing reached the origin");
  });
});

describe("a WebSocket and the rotation of its session's cookie, in Chromium", () => {
  /** Short rotation (15m shipped): the cookie the socket's handshake carried is past its grace within seconds. */
  const SESSION = { rotate_every: "2s", rotation_grace: "1s" };
  let gate;
  let browser;
  before(async () => {
    gate = await startGate({ session: SESSION, gate: { websocket: { recheck: "1s" } }, env: { DEMO_LIVE_TICK_MS: "500" } });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await gate?.stop();
  });

  socketTest(
    "keeps the panel's socket open after another tab's request rotated the cookie it was opened with",
    () => gate,
    async () => {
      const { context, page } = browser;
      await logIn(page, gate, { user: "rotating-ros" });
      const seen = await openLivePanel(page, gate);
      const opened = (await sessionCookie(context, gate)).value;
      await sleep(2_500);
      const tab = await context.newPage();
      try {
        await tab.goto(`${gate.url}/`);
      } finally {
        await tab.close();
      }
      assert.notEqual((await sessionCookie(context, gate)).value, opened, "the other tab's request rotated the cookie");
      // Past the old token's grace, and several rechecks later: the recheck follows the session, not the token.
      await sleep(3_500);
      assert.equal(await page.locator("#live").getAttribute("data-state"), "open", await page.textContent("#live-status"));
      await page.fill("#live-text", "still here");
      await page.click('#live-form button[type="submit"]');
      await page.waitForFunction(() => document.querySelector("#live-log").textContent.includes("echo: still here"));
      assert.ok(gate.events("session.rotated").some((event) => event.sid === seen.session));
      assert.deepEqual(
        gate.events("session.websocket_closed").filter((event) => event.sid === seen.session && event.reason !== "client_closed"),
        [],
      );
    },
  );
});
