import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import type { Env } from "../../src/config/env";
import { DAY, HOUR, MINUTE } from "./helpers";

const BASE: Env = {
  ORIGIN_URL: "https://origin.example",
  GATE_SECRET: "g".repeat(32),
  GATE_ORIGIN_SECRET: "o".repeat(32),
  SESSIONS: env.SESSIONS as KVNamespace,
};

const parse = (assertion: unknown) => parseConfig({ ...BASE, GATE: { assertion } });
const problems = (assertion: unknown) => {
  const parsed = parse(assertion);
  return parsed.ok ? [] : parsed.problems;
};

describe("GATE.assertion", () => {
  it("defaults to a weekly rotation, an hour's publication lead and an hour's retention", () => {
    const parsed = parseConfig(BASE);
    expect(parsed.ok && parsed.config.assertion).toEqual({ rotateEvery: 7 * DAY, publishAhead: HOUR, retain: HOUR });
  });

  it("reads each period", () => {
    const parsed = parse({ rotate_every: "30d", publish_ahead: "2h", retain: "15m" });
    expect(parsed.ok && parsed.config.assertion).toEqual({ rotateEvery: 30 * DAY, publishAhead: 2 * HOUR, retain: 15 * MINUTE });
  });

  it.each([
    [
      "a rotation faster than the hourly cron",
      { rotate_every: "30m", publish_ahead: "15m" },
      ['GATE.assertion.rotate_every: must be at least 3600s, got "30m"'],
    ],
    ["a lead shorter than the JWKS cache allows", { publish_ahead: "5m" }, ['GATE.assertion.publish_ahead: must be at least 900s, got "5m"']],
    ["a retention shorter than stale isolates need", { retain: "1m" }, ['GATE.assertion.retain: must be at least 600s, got "1m"']],
    [
      "a lead as long as the rotation",
      { rotate_every: "2h", publish_ahead: "2h" },
      ["GATE.assertion.publish_ahead: must be shorter than GATE.assertion.rotate_every"],
    ],
    [
      "a number instead of a duration",
      { retain: 3600 },
      ['GATE.assertion.retain: expected a duration such as "30s", "15m", "12h" or "7d", got 3600'],
    ],
    [
      "a misspelt key",
      { rotate_evry: "7d" },
      [`GATE.assertion.rotate_evry: unknown key: did you mean "rotate_every"? (expected one of rotate_every, publish_ahead, retain)`],
    ],
    ["a table that is not one", "7d", ['GATE.assertion: expected a table, got "7d"']],
  ])("refuses %s, with an exact message", (_label, assertion, expected) => {
    expect(problems(assertion)).toEqual(expected);
  });
});
