/**
 * Red-team review of the GATE table as the runtime reads it (src/config/parse.ts):
 * `[vars]` reach the Worker as JSON, whose `__proto__` keys are own properties.
 * A hostile or careless table must not reach a policy through the prototype. (Held.)
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import type { Env } from "../../src/config/env";

const parse = (gate: string) => parseConfig({ ...env, GATE: JSON.parse(gate) } as unknown as Env);

describe("review: __proto__ in the GATE table (held)", () => {
  it.each([
    ["a route", '{"routes":[{"path":"/admin/*","__proto__":{"access":"public"}},{"path":"/*"}]}', "GATE.routes[0].__proto__"],
    ["the table", '{"__proto__":{"trusted_origins":["https://evil.example"]},"routes":[{"path":"/*"}]}', "GATE.__proto__"],
    ["the session table", '{"session":{"__proto__":{"binding":"off"}},"routes":[{"path":"/*"}]}', "GATE.session.__proto__"],
  ])("refuses a __proto__ key in %s as an unknown key", (_name, gate, key) => {
    const parsed = parse(gate);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.some((problem) => problem.startsWith(`${key}:`))).toBe(true);
    expect(({} as Record<string, unknown>).access).toBeUndefined();
    expect(({} as Record<string, unknown>).binding).toBeUndefined();
  });
});
