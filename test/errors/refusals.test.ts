// Contract §5, §9: the page never says why a token was refused. Whatever the reason the log
// records (malformed, unknown, revoked, expired, reused, duplicated), the page is the same one.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cookie, createTestGate, tokenFrom } from "../helpers/gate";

type Gate = Awaited<ReturnType<typeof createTestGate>>;

const NAVIGATION = { Accept: "text/html", "Sec-Fetch-Mode": "navigate" };
const REASON_WORDS = /malformed|unknown|revoked|expired|timeout|reuse|rotat|mismatch|duplicate|ambiguous|corrupt|invalid|token|signature|cookie/i;
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const TOKEN_CHARS = `${BASE64URL}=.%+/ `;

/** The 401 page of a navigation to /_gate/session with `credentials`, its request id replaced by a placeholder. */
async function refusalPage(gate: Gate, credentials: Record<string, string>): Promise<string> {
  const response = await gate.request("/_gate/session", { headers: { ...NAVIGATION, ...credentials } });
  expect(response.status).toBe(401);
  expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
  const id = response.headers.get("X-Request-Id") ?? "";
  return (await response.text()).replaceAll(id, "REQUEST-ID");
}

/** The reasons the log gave for refusing tokens so far. */
const loggedReasons = (gate: Gate) => gate.events("auth.denied").map((event) => String(event.reason));

describe("the 401 page is the same whatever the reason the token was refused", () => {
  it("for tokens of any shape, as a cookie or a bearer token", async () => {
    const gate = await createTestGate();
    const reference = await refusalPage(gate, {});
    expect(reference).not.toMatch(REASON_WORDS);
    const anyShape = fc
      .string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 80 })
      .map((t) => t.trim())
      .filter((t) => t !== "" && !t.includes(";"));
    const wellFormed = fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 43, maxLength: 43 }); // the shape of a real token, unknown to the store
    const token = fc.oneof(anyShape, wellFormed);
    await fc.assert(
      fc.asyncProperty(token, fc.boolean(), async (value, asBearer) => {
        const credentials = asBearer ? { Authorization: `Bearer ${value}` } : cookie(value);
        expect(await refusalPage(gate, credentials)).toBe(reference);
      }),
      { numRuns: 60 },
    );
    expect(loggedReasons(gate)).toEqual(expect.arrayContaining(["malformed", "unknown_token"]));
  });

  it("for a duplicated cookie, a revoked, an expired and a reused session", async () => {
    const gate = await createTestGate();
    const reference = await refusalPage(gate, {});
    const pages: string[] = [];
    const first = await gate.login("alice");
    const second = await gate.login("bob");
    pages.push(await refusalPage(gate, { Cookie: `__Host-session=${first}; __Host-session=${second}` }));

    const revoked = await gate.login("carol");
    await gate.request("/_gate/logout", { method: "POST", headers: { ...cookie(revoked), "Sec-Fetch-Site": "same-origin" } });
    pages.push(await refusalPage(gate, cookie(revoked)));

    const idle = await gate.login("dave");
    gate.clock.advance(31 * 60_000);
    pages.push(await refusalPage(gate, cookie(idle)));

    const rotated = await gate.login("erin");
    gate.clock.advance(16 * 60_000);
    const next = tokenFrom(await gate.request("/dashboard", { headers: cookie(rotated) }));
    expect(next).toMatch(/^.{20,}$/);
    gate.clock.advance(60_000); // past rotation_grace: the old token is a reused one now
    pages.push(await refusalPage(gate, cookie(rotated)));

    for (const page of pages) expect(page).toBe(reference);
    const reasons = [...loggedReasons(gate), ...gate.events("session.expired").map((event) => String(event.reason))];
    expect(reasons).toEqual(expect.arrayContaining(["duplicate_cookie", "idle_timeout", "reuse_detected"]));
    for (const reason of reasons) expect(reference).not.toContain(reason);
  });
});
