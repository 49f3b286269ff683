import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { clearedCookie, readSessionCookie, sessionCookie, withoutSessionCookie } from "../../src/session/cookie";

const NAME = "__Host-session";
const TOKEN = "N9_mNPaxS5YQG4Gho9ijkrjDe1x7TNu-XTmz-yqNf7c";

/** The names of a Cookie header's pairs, as RFC 6265 §5.2 reads them: split on ";", name before the first "=", trimmed. */
const pairsOf = (header: string) =>
  header.split(";").flatMap((pair) => {
    const eq = pair.indexOf("=");
    return eq < 0 ? [] : [{ name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() }];
  });

/** Cookie headers built from fragments that stress the parser: the name, look-alikes, separators, quotes, escapes. */
const cookieHeader = fc
  .array(
    fc.oneof(
      fc.constantFrom(NAME, "__HOST-session", "__host-session", `${NAME}2`, ` ${NAME}`, "a", "__proto__", "constructor", ""),
      fc.constantFrom("=", ";", "; ", ",", ", ", " ", "\t", '"', "%3D", "=="),
      fc.constantFrom(TOKEN, "x", "1"),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 14 },
  )
  .map((parts) => parts.join(""));

describe("readSessionCookie", () => {
  it("reads a missing or empty header as absent", () => {
    expect(readSessionCookie(null, NAME)).toEqual({ kind: "absent" });
    expect(readSessionCookie("", NAME)).toEqual({ kind: "absent" });
    expect(readSessionCookie("a=1; b=2", NAME)).toEqual({ kind: "absent" });
  });

  it("finds the session cookie among others", () => {
    expect(readSessionCookie(`a=1; ${NAME}=${TOKEN}; b=2`, NAME)).toEqual({ kind: "one", value: TOKEN });
  });

  it("counts only the exact-case name", () => {
    for (const lookAlike of ["__HOST-session", "__host-session", "__Host-Session", "__Host-session2", "x__Host-session"]) {
      expect(readSessionCookie(`${lookAlike}=${TOKEN}`, NAME), lookAlike).toEqual({ kind: "absent" });
    }
  });

  it("reads the cookie twice as a duplicate, whatever the values", () => {
    expect(readSessionCookie(`${NAME}=${TOKEN}; ${NAME}=${TOKEN}`, NAME)).toEqual({ kind: "duplicate" });
    expect(readSessionCookie(`${NAME}=${TOKEN}; a=1; ${NAME}=`, NAME)).toEqual({ kind: "duplicate" });
    expect(readSessionCookie(`${NAME}=; ${NAME}=${TOKEN}`, NAME)).toEqual({ kind: "duplicate" });
  });

  it("takes the value as sent: no URL-decoding", () => {
    expect(readSessionCookie(`${NAME}=abc%3D%20`, NAME)).toEqual({ kind: "one", value: "abc%3D%20" });
  });

  it("takes the value as sent: no quote stripping", () => {
    expect(readSessionCookie(`${NAME}="${TOKEN}"`, NAME)).toEqual({ kind: "one", value: `"${TOKEN}"` });
  });

  it("keeps everything after the first = in the value", () => {
    expect(readSessionCookie(`${NAME}=a=b==`, NAME)).toEqual({ kind: "one", value: "a=b==" });
  });

  it("trims whitespace around the name and the value, not inside the value", () => {
    expect(readSessionCookie(`a=1;   ${NAME} \t=  ${TOKEN}  ;b=2`, NAME)).toEqual({ kind: "one", value: TOKEN });
    expect(readSessionCookie(`${NAME}=a b`, NAME)).toEqual({ kind: "one", value: "a b" });
  });

  it("reads an empty value as present and empty", () => {
    expect(readSessionCookie(`${NAME}=`, NAME)).toEqual({ kind: "one", value: "" });
  });

  it("ignores a bare name without =, and empty pairs", () => {
    expect(readSessionCookie(NAME, NAME)).toEqual({ kind: "absent" });
    expect(readSessionCookie(";;;", NAME)).toEqual({ kind: "absent" });
    expect(readSessionCookie(`;;${NAME}=${TOKEN};;`, NAME)).toEqual({ kind: "one", value: TOKEN });
  });

  it("does not read a session cookie hidden after a comma as the session cookie", () => {
    // Two Cookie fields joined with ", ": strict reading leaves the request unauthenticated.
    expect(readSessionCookie(`a=1, ${NAME}=${TOKEN}`, NAME)).toEqual({ kind: "absent" });
    expect(readSessionCookie(`${NAME}=${TOKEN}, b=2`, NAME)).toEqual({ kind: "one", value: `${TOKEN}, b=2` });
  });

  it("reads the configured name, not the default", () => {
    expect(readSessionCookie(`${NAME}=x; sid=${TOKEN}`, "sid")).toEqual({ kind: "one", value: TOKEN });
  });

  it("never throws, and says one only when exactly one pair has the exact name (property)", () => {
    fc.assert(
      fc.property(cookieHeader, (header) => {
        const matches = pairsOf(header).filter((pair) => pair.name === NAME);
        const read = readSessionCookie(header, NAME);
        if (matches.length === 0) expect(read).toEqual({ kind: "absent" });
        else if (matches.length === 1) expect(read).toEqual({ kind: "one", value: matches[0].value });
        else expect(read).toEqual({ kind: "duplicate" });
      }),
      { numRuns: 2_000 },
    );
  });

  it("never throws on any string at all (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (header) => {
        expect(["absent", "one", "duplicate"]).toContain(readSessionCookie(header, NAME).kind);
      }),
    );
  });
});

describe("withoutSessionCookie", () => {
  it("removes the session cookie and keeps the others in order", () => {
    expect(withoutSessionCookie(`a=1; ${NAME}=${TOKEN}; b=2`, NAME)).toBe("a=1; b=2");
  });

  it("leaves nothing when the session cookie was alone", () => {
    expect(withoutSessionCookie(`${NAME}=${TOKEN}`, NAME)).toBe("");
  });

  it("removes every copy of a duplicated session cookie", () => {
    expect(withoutSessionCookie(`${NAME}=x; a=1; ${NAME}=y`, NAME)).toBe("a=1");
  });

  it("keeps look-alike names, which are other cookies", () => {
    const others = "__HOST-session=x; __host-session=y; __Host-session2=z";
    expect(withoutSessionCookie(`${others}; ${NAME}=${TOKEN}`, NAME)).toBe(others);
  });

  it("removes a bare session cookie name and empty pairs", () => {
    expect(withoutSessionCookie(`a=1; ${NAME}; ;; b=2`, NAME)).toBe("a=1; b=2");
  });

  it("removes a session cookie joined after a comma, keeping other values' commas", () => {
    expect(withoutSessionCookie(`a=1, ${NAME}=${TOKEN}`, NAME)).toBe("a=1");
    expect(withoutSessionCookie(`${NAME}=${TOKEN}, b=2`, NAME)).toBe("b=2");
    expect(withoutSessionCookie(`prefs=a,b; c=1, d=2; ${NAME}=${TOKEN}`, NAME)).toBe("prefs=a,b; c=1, d=2");
  });

  it("keeps values as sent: quotes, escapes and inner spaces", () => {
    expect(withoutSessionCookie(`q="a b"; e=%3D; ${NAME}=${TOKEN}`, NAME)).toBe('q="a b"; e=%3D');
  });

  it("never leaves the session cookie's name or a live token behind (property)", () => {
    fc.assert(
      fc.property(cookieHeader, (header) => {
        const rest = withoutSessionCookie(header, NAME);
        expect(readSessionCookie(rest, NAME)).toEqual({ kind: "absent" });
        expect(rest.split(/[;,]/).some((part) => part.split("=")[0].trim() === NAME)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it("keeps every other comma-free pair, in order (property)", () => {
    const pair = fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), fc.stringMatching(/^[A-Za-z0-9%"_=-]{0,8}$/));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 8 }), fc.array(fc.nat(8), { maxLength: 3 }), (pairs, at) => {
        const others = pairs.filter(([name]) => name !== NAME).map(([name, value]) => `${name}=${value}`);
        const all = [...others];
        for (const index of at) all.splice(Math.min(index, all.length), 0, `${NAME}=${TOKEN}`);
        expect(withoutSessionCookie(all.join("; "), NAME)).toBe(others.join("; "));
      }),
    );
  });
});

describe("sessionCookie and clearedCookie", () => {
  it("sets a host-only, Secure, HttpOnly cookie with the given lifetime", () => {
    expect(sessionCookie({ name: NAME, sameSite: "Lax" }, TOKEN, 43_200)).toBe(
      `${NAME}=${TOKEN}; Path=/; Max-Age=43200; Secure; HttpOnly; SameSite=Lax`,
    );
  });

  it("uses the configured SameSite", () => {
    expect(sessionCookie({ name: NAME, sameSite: "Strict" }, TOKEN, 60)).toBe(
      `${NAME}=${TOKEN}; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Strict`,
    );
  });

  it("never sets a Domain or Expires", () => {
    const line = sessionCookie({ name: NAME, sameSite: "Lax" }, TOKEN, 100);
    expect(line).not.toMatch(/domain=/i);
    expect(line).not.toMatch(/expires=/i);
  });

  it("rounds Max-Age down so the cookie never outlives the session, and never below 0", () => {
    expect(sessionCookie({ name: NAME, sameSite: "Lax" }, TOKEN, 59.999)).toContain("; Max-Age=59;");
    expect(sessionCookie({ name: NAME, sameSite: "Lax" }, TOKEN, -5)).toContain("; Max-Age=0;");
  });

  it("clears the cookie with an empty value and Max-Age=0, with the same attributes", () => {
    expect(clearedCookie({ name: NAME, sameSite: "Lax" })).toBe(`${NAME}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`);
    expect(clearedCookie({ name: NAME, sameSite: "Strict" })).toBe(`${NAME}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict`);
  });
});

describe("cookie names padded with Unicode spaces", () => {
  it.each(["\u00a0", "\ufeff", "\u3000", "\u2028", "\x0b", "\x0c"])("does not read %j + name as the session cookie", (pad) => {
    expect(readSessionCookie(`${pad}__Host-session=${"A".repeat(43)}`, "__Host-session")).toEqual({ kind: "absent" });
    expect(readSessionCookie(`a=1;${pad}__Host-session=${"A".repeat(43)}`, "__Host-session")).toEqual({ kind: "absent" });
  });

  it("still reads the name behind spaces and tabs", () => {
    expect(readSessionCookie(`a=1; \t__Host-session=${"A".repeat(43)} \t`, "__Host-session")).toEqual({ kind: "one", value: "A".repeat(43) });
  });
});
