import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { normalizePath } from "../../src/policy/path";

/** The pathname the WHATWG URL parser hands the gate for a request to `path`. */
const parsed = (path: string) => new URL(`https://gate.example${path}`).pathname;

/** Escapes of characters RFC 3986 calls unreserved, which a normalised path spells plainly. */
const isEscapedUnreserved = (hex: string) => /[A-Za-z0-9\-._~]/.test(String.fromCharCode(parseInt(hex, 16)));

describe("normalizePath", () => {
  describe("refuses an encoded separator, in any case and anywhere", () => {
    it.each(["/admin%2Fx", "/admin%2fx", "/a%5Cb", "/a%5cb", "/a%00b", "%2F", "/x/y%2F", "/%2f/admin"])("%s", (pathname) => {
      expect(normalizePath(pathname)).toEqual({ ok: false, reason: "encoded_separator" });
    });
  });

  describe("refuses a % that starts no escape, which decoding could turn into one", () => {
    it.each(["/admin%%32%66", "/public%%32%66..%%32%66admin", "/a%zz", "/a%", "/a%4", "/%%35%63"])("%s", (pathname) => {
      expect(normalizePath(pathname)).toEqual({ ok: false, reason: "malformed_escape" });
    });
  });

  it("refuses a path that does not start with a slash", () => {
    expect(normalizePath("admin")).toEqual({ ok: false, reason: "not_absolute" });
  });

  it("decodes escaped unreserved characters", () => {
    expect(normalizePath("/%61dmin")).toEqual({ ok: true, path: "/admin", match: "/admin" });
    expect(normalizePath("/%41DMIN/%7e%2D%5f%2E%30")).toEqual({ ok: true, path: "/ADMIN/~-_.0", match: "/ADMIN/~-_.0" });
  });

  it("keeps other escapes, upper-cased", () => {
    expect(normalizePath("/caf%c3%a9/a%20b%3bc")).toEqual({ ok: true, path: "/caf%C3%A9/a%20b%3Bc", match: "/caf%C3%A9/a%20b%3Bc" });
  });

  it("does not decode twice: %2561 stays an escaped percent", () => {
    expect(normalizePath("/%2561dmin")).toEqual({ ok: true, path: "/%2561dmin", match: "/%2561dmin" });
  });

  it("merges repeated slashes", () => {
    expect(normalizePath("//admin")).toEqual({ ok: true, path: "/admin", match: "/admin" });
    expect(normalizePath("/a//b///c//")).toEqual({ ok: true, path: "/a/b/c/", match: "/a/b/c/" });
    expect(normalizePath("//")).toEqual({ ok: true, path: "/", match: "/" });
  });

  it("keeps a single trailing slash", () => {
    expect(normalizePath("/a/")).toEqual({ ok: true, path: "/a/", match: "/a/" });
    expect(normalizePath("/")).toEqual({ ok: true, path: "/", match: "/" });
  });

  it("resolves dot segments that decoding revealed, never above the root", () => {
    expect(normalizePath("/public/%2e%2e/admin")).toEqual({ ok: true, path: "/admin", match: "/admin" });
    expect(normalizePath("/%2E/admin/%2e")).toEqual({ ok: true, path: "/admin/", match: "/admin/" });
    expect(normalizePath("/../../admin")).toEqual({ ok: true, path: "/admin", match: "/admin" });
    expect(normalizePath("/a/b/..")).toEqual({ ok: true, path: "/a/", match: "/a/" });
  });

  it("cuts ;parameters from each segment for matching but forwards them", () => {
    expect(normalizePath("/admin;x")).toEqual({ ok: true, path: "/admin;x", match: "/admin" });
    expect(normalizePath("/a;b=c/d;e/")).toEqual({ ok: true, path: "/a;b=c/d;e/", match: "/a/d/" });
  });

  it("matches a segment that is only ;parameters as nothing, as servlet containers do", () => {
    expect(normalizePath("/;x/admin")).toEqual({ ok: true, path: "/;x/admin", match: "/admin" });
    expect(normalizePath("/;a/;b/admin;c")).toEqual({ ok: true, path: "/;a/;b/admin;c", match: "/admin" });
    expect(normalizePath("/admin/;x")).toEqual({ ok: true, path: "/admin/;x", match: "/admin/" });
    expect(normalizePath("/;x")).toEqual({ ok: true, path: "/;x", match: "/" });
  });

  describe("refuses a segment that is a dot segment once its ;parameters are cut", () => {
    it.each(["/public/..;/admin", "/public/..;x=1/admin", "/.;/admin", "/a/%2e%2e;/admin", "/a/%2E;x"])("%s", (pathname) => {
      expect(normalizePath(pathname)).toEqual({ ok: false, reason: "dot_segment_parameter" });
    });
  });

  it("sees the URL parser's output: dot segments and backslashes are already resolved", () => {
    expect(parsed("/public/%2e%2e/admin")).toBe("/admin");
    expect(parsed("/public\\..\\admin")).toBe("/admin");
    expect(normalizePath(parsed("/./admin"))).toEqual({ ok: true, path: "/admin", match: "/admin" });
    expect(normalizePath(parsed("/a%00"))).toEqual({ ok: false, reason: "encoded_separator" });
    expect(normalizePath(parsed("/a\u0000b"))).toEqual({ ok: false, reason: "encoded_separator" });
  });

  describe("properties", () => {
    /** Pieces attackers combine: dots, slashes, escapes of every kind, parameters. */
    const piece = fc.constantFrom(
      "/",
      "/",
      "a",
      "A",
      "admin",
      ".",
      "..",
      ";",
      ";x",
      "=",
      "~",
      "-",
      "_",
      "%",
      "%%",
      "%2e",
      "%2E",
      "%61",
      "%41",
      "%7e",
      "%7E",
      "%25",
      "%2f",
      "%5C",
      "%00",
      "%3b",
      "%20",
      "%c3%a9",
      "%3",
      "2",
      "f",
      "F",
      "3",
      "\\",
      " ",
      "?",
      "#",
      "é",
    );
    const rawPath = fc.array(piece, { maxLength: 14 }).map((pieces) => `/${pieces.join("")}`);

    it("is idempotent: normalising its output again changes nothing", () => {
      fc.assert(
        fc.property(rawPath, fc.boolean(), (raw, throughUrl) => {
          const first = normalizePath(throughUrl ? parsed(raw) : raw);
          if (!first.ok) return;
          expect(normalizePath(first.path)).toEqual(first);
          expect(normalizePath(first.match)).toEqual({ ok: true, path: first.match, match: first.match });
        }),
        { numRuns: 2_000 },
      );
    });

    it("never outputs //, /./, /../, a trailing dot segment, a stray % or an escaped unreserved character", () => {
      fc.assert(
        fc.property(rawPath, fc.boolean(), (raw, throughUrl) => {
          const result = normalizePath(throughUrl ? parsed(raw) : raw);
          if (!result.ok) return;
          for (const out of [result.path, result.match]) {
            expect(out.startsWith("/")).toBe(true);
            expect(out).not.toMatch(/\/\/|\/\.\.?(\/|$)/);
            expect(out).not.toMatch(/%(?![0-9A-F]{2})/);
            expect(out).not.toMatch(/%(2F|5C|00)/i);
            for (const [, hex] of out.matchAll(/%([0-9A-F]{2})/g)) expect(isEscapedUnreserved(hex)).toBe(false);
          }
          expect(result.match).not.toContain(";");
        }),
        { numRuns: 2_000 },
      );
    });
  });
});
