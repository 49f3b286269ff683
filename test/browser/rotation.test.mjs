// Token rotation as a browser lives it: pages and parallel fetches keep working
// while the cookie changes under them. rotate_every is 3 s here (15 m shipped).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { dashboardUser, gateSession, logIn, openBrowser, sessionCookie, sleep, startGate } from "./harness.mjs";

const SESSION = { rotate_every: "3s", rotation_grace: "1s" };
/** Long enough for three rotations at 3 s; the test asserts at least two. */
const BROWSE_MS = 12_000;
const PAUSE_MS = 600;
const PARALLEL_FETCHES = 4;

describe("rotation in a real browser", () => {
  let gate;
  let browser;
  before(async () => {
    gate = await startGate({ session: SESSION });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await gate?.stop();
  });

  it("keeps the user logged in across several rotations while the cookie value changes", async (t) => {
    const { context, page } = browser;
    await logIn(page, gate, { user: "rotating-rita" });
    const { body: first } = await gateSession(page);
    const values = [(await sessionCookie(context, gate)).value];
    const deadline = Date.now() + BROWSE_MS;
    let rounds = 0;
    while (Date.now() < deadline) {
      rounds += 1;
      const response = await page.goto(`${gate.url}/dashboard?round=${rounds}`);
      assert.equal(response.status(), 200, `round ${rounds}: the dashboard loads`);
      assert.equal(new URL(page.url()).pathname, "/dashboard", `round ${rounds}: not sent to the login page`);
      assert.equal(await dashboardUser(page), "rotating-rita");
      // Several requests at once carry the same cookie; at a rotation boundary they must all pass.
      const answers = await page.evaluate(
        (count) =>
          Promise.all(
            Array.from({ length: count }, () => fetch("/_gate/session").then(async (r) => ({ status: r.status, sid: (await r.json()).sid }))),
          ),
        PARALLEL_FETCHES,
      );
      assert.deepEqual(
        answers,
        Array.from({ length: PARALLEL_FETCHES }, () => ({ status: 200, sid: first.sid })),
        `round ${rounds}: every fetch passes, same session`,
      );
      const { value } = await sessionCookie(context, gate);
      if (value !== values.at(-1)) values.push(value);
      await sleep(PAUSE_MS);
    }
    t.diagnostic(`${rounds} rounds, ${values.length - 1} rotations`);
    assert.ok(values.length >= 3, `at least two rotations in ${BROWSE_MS / 1000} s, saw ${values.length - 1}`);
    assert.equal(new Set(values).size, values.length, "every rotation gives a new token");
    assert.ok(gate.events("session.rotated").length >= 2, "the gate logged the rotations");
    assert.deepEqual(gate.events("session.reuse_detected"), [], "no rotation was mistaken for token theft");
    assert.deepEqual(gate.events("session.revoked"), []);
    const { status, body } = await gateSession(page);
    assert.equal(status, 200);
    assert.equal(body.sid, first.sid, "the session id survives rotation");
  });
});
