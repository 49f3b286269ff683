import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { browserOf, fingerprintOf } from "../../src/session/fingerprint";
import { CHROME_UA, cookie, createTestGate } from "../helpers/gate";

/** Every string a regular expression is run on while `work` runs. */
function regexInputs(work: () => void): string[] {
  const seen: string[] = [];
  const exec = RegExp.prototype.exec;
  const spy = vi.spyOn(RegExp.prototype, "exec").mockImplementation(function (this: RegExp, input: string) {
    seen.push(input);
    return exec.call(this, input);
  });
  const test = vi.spyOn(RegExp.prototype, "test").mockImplementation(function (this: RegExp, input: string) {
    seen.push(input);
    return exec.call(this, input) !== null;
  });
  try {
    work();
  } finally {
    spy.mockRestore();
    test.mockRestore();
  }
  return seen;
}

/** User-Agents built to make a backtracking expression work hard, at the header limit. */
const CRAFTED = [
  `Version/${"1".repeat(15_000)}`,
  `Mozilla/5.0 Version/1${".1".repeat(7_000)} Mobile/`,
  `Chrome/${"9".repeat(15_000)}`,
  `${"a".repeat(15_000)}/1`,
  `Edg/${"0".repeat(8_000)}${"Version/1 ".repeat(500)}`,
];

describe("the binding fingerprint on hostile User-Agents", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(CRAFTED.map((ua, i) => [i, ua]))("reads a bounded prefix of crafted User-Agent %i, whatever its length", (_, ua) => {
    const inputs = regexInputs(() => browserOf(ua));
    expect(inputs.length).toBeGreaterThan(0);
    expect(Math.max(...inputs.map((input) => input.length))).toBeLessThanOrEqual(512);
  });

  it("gives the same answer for a User-Agent and any extension of it past the bound (property)", () => {
    const token = fc.constantFrom(" Chrome/120", " Version/3 Mobile/x Safari/", " Edg/99", " Firefox/7", " OPR/5", " SamsungBrowser/2", " x");
    fc.assert(
      fc.property(
        fc.string({ maxLength: 600 }),
        fc.array(token, { minLength: 1, maxLength: 20 }).map((parts) => parts.join("")),
        (head, tail) => {
          const prefix = (head + "x".repeat(512)).slice(0, 512);
          expect(browserOf(prefix + tail)).toBe(browserOf(prefix));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never stores or logs an unbounded version: every fingerprint part is short", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2_000 }), fc.string({ maxLength: 60 }), (ua, ip) => {
        const [browser, network] = fingerprintOf(ua, ip).split("|");
        expect(browser.length).toBeLessThanOrEqual(40);
        expect(network.length).toBeLessThanOrEqual(40);
      }),
      { numRuns: 300 },
    );
    expect(browserOf(`Chrome/${"9".repeat(5_000)}`).length).toBeLessThanOrEqual(40);
  });

  it("still tells browser families and major versions apart", () => {
    expect(browserOf(CHROME_UA)).toBe("chrome/126");
    expect(browserOf("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15")).toBe("safari/17");
    expect(browserOf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87")).toBe(
      "edge/126",
    );
  });

  it("answers a crafted User-Agent on a cookie request like any other: bound, logged short", async () => {
    const gate = await createTestGate();
    const token = await gate.login("fp-user");
    const response = await gate.request("/dashboard", { headers: { ...cookie(token), "User-Agent": CRAFTED[0] } });
    expect(response.status).toBe(200);
    const [mismatch] = gate.events("session.binding_mismatch");
    expect(String(mismatch.seen).length).toBeLessThanOrEqual(80);
  });
});
