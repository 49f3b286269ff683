// Device Bound Session Credentials (W3C DBSC) between Debian's Chromium and the
// real gate, end to end: the login offers registration, Chromium makes a key
// (software keys: Linux has no hardware key store) and binds the session,
// refreshes its short-lived cookie with proofs, and a copy of the cookie taken
// out of the browser is worth at most `device_cookie_ttl` to whoever replays it.
//
// Chromium 156 does DBSC over https only (not http://localhost), so the gate
// listens on https with a self-signed certificate that Chromium trusts by its
// key's hash; and Playwright's launch() would replace our --enable-features, so
// Chromium is started by hand and driven over CDP (harness.launchChromium).
// CDP's DBSC events (Network.deviceBoundSessionEventOccurred) say what Chromium
// did; the gate's log says what it did. Two devices run side by side:
//
// - an active one (alice), whose next request after the cookie has under two
//   minutes left makes Chromium refresh proactively (about 70 s in);
// - an idle one (bob), whose cookie a thief copies: it works, cannot be renewed
//   without the key, gets 401 after `device_cookie_ttl` (the minimum, 3 minutes:
//   this is what makes the file take a little over 3 minutes), while the device
//   refreshes on its next navigation; then logging out ends the bound session.
//
// DBSC_NET_LOG=<dir> writes each Chromium's net log there (every header on the wire).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SignJWT, generateKeyPair } from "jose";
import { COOKIE_NAME, dashboardUser, gateSession, launchChromium, requestOverTls, sleep, startGate } from "./harness.mjs";

const TTL_SECONDS = 180;
/** Chromium refreshes a bound session proactively when its cookie expires within 120 s; ask with some margin. */
const PROACTIVE_LEFT_SECONDS = 110;
const REFRESH = "/_gate/dbsc/refresh";
const REGISTRATION = "/_gate/dbsc/registration";
/** What chrome://flags "enable-standard-device-bound-session-credentials" = "Enabled - For developers" turns on, plus the DevTools events. */
const DBSC_FEATURES =
  "--enable-features=DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false/CheckSubdomainRegistration/false," +
  "EnableBoundSessionCredentialsSoftwareKeysForManualTesting,DeviceBoundSessionsDevTools";

/** Polls `check` until it returns something truthy, at most `ms`; throws `message` (a string or a function of nothing) otherwise. */
async function until(check, ms, message) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(typeof message === "function" ? message() : message);
    await sleep(50);
  }
}

/** Requests the gate answered, as wrangler dev logs them: `METHOD /path STATUS`. */
function gateRequests(gate) {
  return gate
    .output()
    .split("\n")
    .map((line) => /^\[gate\]\s+\[wrangler:info\] ([A-Z]+ \S+ \d{3})/.exec(line)?.[1])
    .filter(Boolean);
}

/** Chromium with DBSC on, trusting the gate's certificate, its DBSC events recorded from the page's CDP session. */
async function openDevice(gate, name) {
  const netLog = process.env.DBSC_NET_LOG
    ? [`--log-net-log=${join(process.env.DBSC_NET_LOG, `${name}.json`)}`, "--net-log-capture-mode=Everything"]
    : [];
  const device = await launchChromium([DBSC_FEATURES, `--ignore-certificate-errors-spki-list=${gate.tls.spki}`, ...netLog]);
  try {
    const cdp = await device.context.newCDPSession(device.page);
    const events = [];
    cdp.on("Network.deviceBoundSessionEventOccurred", (event) => events.push(event));
    await cdp.send("Network.enable");
    await cdp.send("Network.enableDeviceBoundSessions", { enable: true });
    return {
      ...device,
      cdp,
      /** Chromium's DBSC events for session `sid` (all without one), in order, from the `from`th on. */
      dbscEvents: (sid, from = 0) => events.filter((event) => sid === undefined || event.sessionId === sid).slice(from),
      /** The bound cookie as Chromium holds it: `{ value, expires }` (Unix seconds), or undefined. */
      async cookie() {
        const { cookies } = await cdp.send("Network.getCookies", { urls: [gate.url] });
        return cookies.find((cookie) => cookie.name === COOKIE_NAME);
      },
      /** Navigates to `path`; resolves to the Cookie header Chromium sent with that navigation ("" for none). */
      async visit(path) {
        return (await this.navigate(path)).cookie;
      },
      /** Navigates to `path`: the Cookie header Chromium sent with it ("" for none) and the status of its (first) answer. */
      async navigate(path) {
        const url = `${gate.url}${path}`;
        const request = device.page.waitForRequest((r) => r.url() === url && r.isNavigationRequest());
        await device.page.goto(url);
        const sent = await request;
        return { cookie: (await sent.headerValue("cookie")) ?? "", status: (await sent.response())?.status() };
      },
    };
  } catch (error) {
    await device.close();
    throw error;
  }
}

/**
 * Logs `user` in through the demo form (any non-empty password), as harness.logIn does, and checks it lands on
 * /dashboard; resolves to the headers of the login (POST /login) response.
 */
async function logInAs(device, gate, user) {
  const { page } = device;
  await page.goto(`${gate.url}/login`);
  await page.fill("#username", user);
  await page.fill("#password", "correct horse");
  const answer = page.waitForResponse((r) => r.url() === `${gate.url}/login` && r.request().method() === "POST");
  const denied = gate.events("auth.denied").length;
  await page.click('form[action="/login"] button[type=submit]');
  const headers = (await answer).headers();
  // The dashboard, or the login page again (?next=) if the gate refused the redirected navigation.
  await page.waitForURL((url) => url.pathname === "/dashboard" || url.searchParams.has("next"));
  assert.equal(
    new URL(page.url()).pathname,
    "/dashboard",
    `logged in, Chromium landed on ${page.url()}: the gate refused the navigation after the login (${JSON.stringify(gate.events("auth.denied").slice(denied))}). ` +
      "Chromium sends it with the login's cookie alongside the registration POST; if the registration lands first, that cookie is " +
      "the one the binding replaced, which must be served within rotation_grace (and its refusal must not clear the new bound cookie)",
  );
  return headers;
}

/** Waits for the gate's `session.device_bound` of `user` and Chromium's session creation; checks both; returns the gate's event. */
async function bound(device, gate, user) {
  const event = await until(
    () => gate.events("session.device_bound").find((e) => e.sub === user),
    10_000,
    () => `the gate never bound ${user}'s session (no session.device_bound); DBSC events from Chromium: ${JSON.stringify(device.dbscEvents())}`,
  );
  assert.equal(event.alg, "ES256", "Chromium's software keys are ES256");
  assert.match(event.jkt, /^[A-Za-z0-9_-]{43}$/);
  const created = await until(
    () => device.dbscEvents(event.sid).find((e) => e.creationEventDetails),
    5_000,
    `Chromium reported no creation of DBSC session ${event.sid}`,
  );
  assert.equal(created.succeeded, true, JSON.stringify(created));
  const session = created.creationEventDetails.newSession;
  assert.equal(session.refreshUrl, `${gate.url}${REFRESH}`);
  assert.deepEqual(
    session.cookieCravings.map(({ name, path, secure, httpOnly, sameSite }) => ({ name, path, secure, httpOnly, sameSite })),
    [{ name: COOKIE_NAME, path: "/", secure: true, httpOnly: true, sameSite: "Lax" }],
  );
  return event;
}

/** Waits for Chromium's successful refresh of `sid` after `seen` events, and the gate's `session.device_refreshed` to `gen`. */
async function refreshed(device, gate, sid, { seen, gen }) {
  const event = await until(
    () => device.dbscEvents(sid, seen).find((e) => e.refreshEventDetails),
    10_000,
    () => `Chromium did not refresh DBSC session ${sid}; its events: ${JSON.stringify(device.dbscEvents(sid, seen))}`,
  );
  assert.equal(event.succeeded, true, `Chromium's refresh failed: ${JSON.stringify(event)}`);
  assert.equal(event.refreshEventDetails.refreshResult, "Refreshed");
  await until(
    () => gate.events("session.device_refreshed").some((e) => e.sid === sid && e.gen === gen),
    5_000,
    `no session.device_refreshed for ${sid} to gen ${gen}`,
  );
  return event;
}

/** A request from outside the browser (Node, no key), as a cookie thief sends it; trusts the gate's certificate. */
function outside(gate, path, { method = "GET", token, headers = {} } = {}) {
  return requestOverTls(`${gate.url}${path}`, gate.tls.pem, { method, headers: { ...(token && { Cookie: `${COOKIE_NAME}=${token}` }), ...headers } });
}

/** The challenge of a 403 refresh answer, after checking it is one for `sid` that sets no cookie. */
function challengeOf(response, sid) {
  assert.equal(response.status, 403);
  assert.deepEqual(response.setCookies, [], "a refresh without the device's proof sets no cookie");
  const match = /^"([^"]+)";id="([^"]+)"$/.exec(response.headers.get("secure-session-challenge") ?? "");
  assert.ok(match, `a Secure-Session-Challenge: ${response.headers.get("secure-session-challenge")}`);
  assert.equal(match[2], sid);
  return match[1];
}

describe("DBSC in Chromium against the real gate (https, software keys)", { concurrency: true }, () => {
  let gate;
  /** `it`, whose failure also shows the gate's recent requests and log events (both devices'). */
  const step = (name, fn) =>
    it(name, async (t) => {
      try {
        await fn(t);
      } catch (error) {
        const lines = (gate?.output() ?? "").split("\n").filter((line) => /^\[gate\]\s+(\{"time"|\[wrangler:info\])|✘|rror|[Rr]eload/.test(line));
        const tail = `\n--- the gate's last ${Math.min(lines.length, 40)} lines ---\n${lines.slice(-40).join("\n")}`;
        if (error instanceof Error) error.stack = `${error.stack}${tail}`; // what the reporter prints
        throw error;
      }
    });
  before(async () => {
    gate = await startGate({ https: true, session: { device_cookie_ttl: `${TTL_SECONDS / 60}m` } });
  });
  after(async () => {
    await gate?.stop();
  });

  describe("an active device", { concurrency: 1 }, () => {
    let device;
    let sid;
    let first; // the cookie registration issued
    let second; // the one the refresh issued
    before(async () => {
      device = await openDevice(gate, "alice");
    });
    after(async () => {
      await device?.close();
    });

    step("logs in through the demo form; the login offers registration and Chromium binds the session", async () => {
      const headers = await logInAs(device, gate, "alice");
      assert.match(
        headers["secure-session-registration"] ?? "",
        /^\(ES256 RS256\);path="\/_gate\/dbsc\/registration";challenge="\d+\.[A-Za-z0-9_-]{43}"$/,
        "the login response carries Secure-Session-Registration",
      );
      ({ sid } = await bound(device, gate, "alice"));
      // wrangler logs each request once answered, through a pipe: it may come after the gate's own event.
      await until(() => gateRequests(gate).includes(`POST ${REGISTRATION} 200`), 2_000, "no POST of the registration answered 200 in wrangler's log");
      assert.equal(await dashboardUser(device.page), "alice");

      const listed = await device.page.evaluate(async () => (await fetch("/_gate/sessions", { headers: { Accept: "application/json" } })).json());
      assert.deepEqual(
        listed.sessions.map(({ sid: id, device_bound, current }) => ({ sid: id, device_bound, current })),
        [{ sid, device_bound: true, current: true }],
      );
      first = await device.cookie();
      const left = first.expires - Date.now() / 1_000;
      assert.ok(left > TTL_SECONDS - 10 && left <= TTL_SECONDS, `the bound cookie lives device_cookie_ttl (${left} s left)`);
    });

    step("refreshes through /_gate/dbsc/refresh when its cookie has under 2 minutes left, and stays alice with the new cookie", async (t) => {
      assert.ok(first, "needs the bound session of the step before");
      await sleep((first.expires - PROACTIVE_LEFT_SECONDS) * 1_000 - Date.now());
      const seen = device.dbscEvents(sid).length;
      const started = await device.navigate("/dashboard");
      const refresh = await refreshed(device, gate, sid, { seen, gen: 2 });
      // Chromium refreshes on a request, not on a timer, and does not hold that request back: it goes with the old cookie,
      // alongside the refresh POST, and how the gate answers depends on which of the two it finishes first.
      const old = started.cookie === `${COOKIE_NAME}=${first.value}`;
      t.diagnostic(`the navigation that started the refresh carried ${old ? "the old" : "another"} cookie, and got ${started.status}`);
      assert.equal(
        started.status,
        200,
        `the navigation that started the refresh got ${started.status} (${JSON.stringify(gate.events("auth.denied").slice(-3))}): ` +
          "it carried the cookie the refresh was replacing, which must be served within rotation_grace",
      );
      t.diagnostic(`wasFullyProactiveRefresh: ${refresh.refreshEventDetails.wasFullyProactiveRefresh}`);
      await until(() => gateRequests(gate).includes(`POST ${REFRESH} 200`), 2_000, "no POST of a refresh answered 200 in wrangler's log");

      second = await device.cookie();
      assert.ok(
        second,
        `Chromium holds no bound cookie after its refresh: a response since cleared it (${JSON.stringify(gate.events("auth.denied").slice(-3))}); ` +
          "a request sent with the old cookie alongside the refresh was refused, and the refusal's Set-Cookie deleted the new one",
      );
      assert.notEqual(second.value, first.value, "the refresh replaced the cookie");
      assert.ok(second.expires - Date.now() / 1_000 > TTL_SECONDS - 10, "with a full device_cookie_ttl");
      assert.equal(await device.visit("/dashboard"), `${COOKIE_NAME}=${second.value}`, "the next navigation carries the new cookie");
      assert.equal(await dashboardUser(device.page), "alice");
      assert.equal((await gateSession(device.page)).body.sid, sid, "the same session");
    });

    step("is not logged out when the cookie from before its refresh comes back (as Chromium's own racing request may send it)", async () => {
      assert.ok(second, "needs the refresh of the step before");
      const replay = await outside(gate, "/api/whoami", { token: first.value });
      await gate.settle(() => gate.events("session.revoked").some((e) => e.sid === sid), 1_000);
      assert.deepEqual(
        gate.events("session.revoked").filter((e) => e.sid === sid),
        [],
        `GATE BUG: the cookie the refresh replaced (answered ${replay.status}) ended alice's device-bound session as reuse ` +
          `(${JSON.stringify(gate.events("session.reuse_detected").filter((e) => e.sid === sid))}). An older token of a bound ` +
          "session is worth nothing without the device's key: refuse it (or serve it inside rotation_grace), never revoke, " +
          "or a thief's copy, and the request Chromium sends alongside a proactive refresh, log the device out (docs/dbsc.md)",
      );
      assert.ok([200, 401].includes(replay.status), `the replayed old cookie got ${replay.status}`);
      const issued = replay.setCookies.filter((line) => !line.startsWith(`${COOKIE_NAME}=;`)); // clearing it is fine
      assert.deepEqual(issued, [], "the old cookie earns no new one");
      assert.equal(await device.visit("/dashboard"), `${COOKIE_NAME}=${second.value}`);
      assert.equal(await dashboardUser(device.page), "alice");
    });
  });

  describe("an idle device and a thief", { concurrency: 1 }, () => {
    let device;
    let sid;
    let boundAt; // ms, the gate's time of the binding: the stolen cookie's issue
    let stolen;
    before(async () => {
      device = await openDevice(gate, "bob");
    });
    after(async () => {
      await device?.close();
    });

    step("binds bob's session; a copy of the bound cookie works from outside the browser", async () => {
      await logInAs(device, gate, "bob");
      const event = await bound(device, gate, "bob");
      sid = event.sid;
      boundAt = Date.parse(event.time);
      stolen = (await device.cookie()).value;
      await device.page.goto("about:blank"); // idle: no request to the gate until the copy has expired
      const replay = await outside(gate, "/api/whoami", { token: stolen });
      assert.equal(replay.status, 200);
      assert.deepEqual(JSON.parse(await replay.text()), { user: "bob", method: "GET" });
    });

    step("cannot be renewed without the key: refreshes without a proof, or with the thief's own, get 403 and a challenge, no cookie", async () => {
      assert.ok(stolen, "needs the copied cookie of the step before");
      // Outside a browser any header can be sent: the Fetch Metadata that gets a cookie-carrying POST past the CSRF check too.
      const headers = { "Sec-Secure-Session-Id": sid, "Sec-Fetch-Site": "same-origin" };
      const challenge = challengeOf(await outside(gate, REFRESH, { method: "POST", token: stolen, headers }), sid);
      const { privateKey } = await generateKeyPair("ES256");
      const forged = await new SignJWT({ jti: challenge }).setProtectedHeader({ alg: "ES256", typ: "dbsc+jwt" }).sign(privateKey);
      challengeOf(await outside(gate, REFRESH, { method: "POST", token: stolen, headers: { ...headers, "Secure-Session-Response": forged } }), sid);
      await until(
        () => gate.events("session.device_proof_failed").some((e) => e.sid === sid && e.phase === "refresh" && e.reason === "signature"),
        2_000,
        "no session.device_proof_failed (signature) for the thief's proof",
      );
      assert.equal(gate.events("session.device_refreshed").filter((e) => e.sid === sid).length, 0);
    });

    step("after device_cookie_ttl the copy gets 401 and the session stands: the device refreshes on its next navigation", async () => {
      assert.ok(stolen, "needs the copied cookie");
      await sleep(boundAt + TTL_SECONDS * 1_000 + 1_500 - Date.now());
      const reached = gate.originRequests().length;
      const denied = gate.events("auth.denied").length;
      const replay = await outside(gate, "/api/whoami", { token: stolen });
      assert.equal(replay.status, 401);
      await until(
        () =>
          gate
            .events("auth.denied")
            .slice(denied)
            .some((e) => e.reason === "device_cookie_expired"),
        2_000,
        () => `no auth.denied (device_cookie_expired) for the expired copy: ${JSON.stringify(gate.events("auth.denied").slice(denied))}`,
      );
      assert.equal(gate.originRequests().length, reached, "nothing reached the origin");
      assert.deepEqual(
        gate.events("session.revoked").filter((e) => e.sid === sid),
        [],
        "an expired bound cookie is not reuse",
      );

      assert.equal(await device.cookie(), undefined, "Chromium's copy has expired too");
      const seen = device.dbscEvents(sid).length;
      const sentWith = await device.visit("/dashboard");
      await refreshed(device, gate, sid, { seen, gen: 2 });
      const renewed = await device.cookie();
      assert.notEqual(renewed.value, stolen);
      assert.equal(sentWith, `${COOKIE_NAME}=${renewed.value}`, "Chromium held the navigation back until the refresh set the new cookie");
      assert.equal(await dashboardUser(device.page), "bob");
    });

    step("logging out from the dashboard ends it: refreshes get 401 and Chromium ends its bound session", async () => {
      assert.equal(await dashboardUser(device.page), "bob", "needs the dashboard of the step before");
      const seen = device.dbscEvents(sid).length;
      await device.page.click('form[action="/_gate/logout"] button[type=submit]');
      await device.page.waitForURL(`${gate.url}/login`);
      await until(() => gate.events("session.revoked").some((e) => e.sid === sid && e.reason === "logout"), 2_000, "no session.revoked (logout)");
      assert.equal(await device.cookie(), undefined, "the logout cleared the cookie");

      // The cookie is gone, so the next request in scope (the redirect to /login) made Chromium refresh: 401 ends its session.
      const ended = await until(
        () => device.dbscEvents(sid, seen).find((e) => e.terminationEventDetails),
        10_000,
        () => `Chromium did not end DBSC session ${sid}; its events since the logout: ${JSON.stringify(device.dbscEvents(sid, seen))}`,
      );
      assert.equal(ended.terminationEventDetails.deletionReason, "RefreshFatalError");
      const failed = device.dbscEvents(sid, seen).find((e) => e.refreshEventDetails);
      assert.equal(failed?.refreshEventDetails.failedRequest?.responseError, 401, JSON.stringify(failed));
      const refreshes = () => gateRequests(gate).filter((line) => line.startsWith(`POST ${REFRESH}`)).length;
      const refused = () => gateRequests(gate).filter((line) => line === `POST ${REFRESH} 401`).length;
      await until(() => refused() > 0, 2_000, "wrangler logged no 401 to Chromium's refresh"); // the log comes through a pipe
      const counted = refreshes();
      assert.equal((await outside(gate, REFRESH, { method: "POST", headers: { "Sec-Secure-Session-Id": sid } })).status, 401);
      await until(() => refreshes() === counted + 1, 2_000, "wrangler logged no answer to the refresh from outside");

      assert.equal(await device.visit("/dashboard"), "", "no cookie");
      assert.equal(new URL(device.page.url()).pathname, "/login");
      await sleep(500);
      assert.equal(refreshes(), counted + 1, "Chromium has no session left to refresh");
    });
  });
});
