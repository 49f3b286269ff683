/**
 * The string matchers that replace URLPattern for literal route patterns must
 * decide exactly as URLPattern (`{ ignoreCase: true }`) does, on every ASCII
 * path the normaliser can produce (no dot segments: those are resolved before
 * matching): fast-check over patterns and paths built from the same pieces, so that
 * near misses (a prefix, another case, a trailing slash) are common.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { literalMatcher } from "../../src/policy/match";

const segment = fc.constantFrom("api", "API", "Api", "admin", "static", "s", "a.b", "x-y", "~u", "_z", "login", "LOGIN", "v1");
const pattern = fc
  .tuple(fc.array(segment, { maxLength: 3 }), fc.constantFrom("", "/", "/*"))
  .map(([parts, end]) => (parts.length > 0 ? `/${parts.join("/")}${end}` : end === "/*" ? "/*" : "/"));
const path = fc
  .tuple(fc.array(fc.oneof(segment, fc.constantFrom("%41", "x", "", "API2")), { maxLength: 4 }), fc.boolean())
  .map(([parts, slash]) => `/${parts.join("/")}${slash ? "/" : ""}`);

describe("literal route matchers", () => {
  it("decide as URLPattern does, for every literal pattern and ASCII path", () => {
    fc.assert(
      fc.property(pattern, path, (written, pathname) => {
        const matcher = literalMatcher(written);
        expect(matcher).toBeDefined();
        const expected = new URLPattern({ pathname: written }, { ignoreCase: true }).test({ pathname });
        expect(matcher?.(pathname.replace(/[A-Z]/g, (c) => c.toLowerCase()))).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it("leave every other pattern to URLPattern", () => {
    for (const written of ["/users/:id", "/files/*.png", "/(a|b)", "/a{s}?", "/a+", "/é", "/a//b", "/a/**"])
      expect(literalMatcher(written)).toBeUndefined();
  });
});
