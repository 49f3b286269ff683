import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { cookie, createTestGate } from "../helpers/gate";
import { createKvStore } from "../../src/store/kv";
import type { SessionStore } from "../../src/store/types";
import { hashToken } from "../../src/session/token";

type Gate = Awaited<ReturnType<typeof createTestGate>>;

const NAME = "__Host-session";
const JSON_ACCEPT = { Accept: "application/json" };
const CLEARED = "__Host-session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax";
const kv = env.SESSIONS as KVNamespace;

/** A gate with one live session, the origin's log emptied of the login. */
async function withSession(options: Parameters<typeof createTestGate>[0] = {}) {
  const gate = await createTestGate(options);
  const token = await gate.login("hostile-alice", ["user"]);
  gate.origin.received.splice(0);
  return { gate, token, sid: gate.events("session.created")[0].sid as string };
}

/** A refusal the client can read and learn nothing from: 401, generic JSON, no stack trace, nothing forwarded. */
async function expectRefused(gate: Gate, response: Response) {
  expect(response.status).toBe(401);
  const body = await response.text();
  expect(body).toBe('{"error":"unauthenticated"}');
  expect(gate.origin.received).toEqual([]);
}

/** A session-route request with a raw Cookie header. */
const withCookie = (gate: Gate, value: string, path = "/dashboard") => gate.request(path, { headers: { Cookie: value, ...JSON_ACCEPT } });

describe("malformed session cookies", () => {
  const malformed: Array<[string, string]> = [
    ["a bare name", NAME],
    ["an empty value", `${NAME}=`],
    ["an empty name", "=x"],
    ["only separators", ";;;"],
    ["only separators and blanks", " ; ;\t; "],
    ["a value of quotes", `${NAME}=""`],
    ["a quoted value", `${NAME}="abc"`],
    ["an equals sign only", "="],
    ["a value of equals signs", `${NAME}====`],
    ["a percent-encoded value", `${NAME}=%41%42%43`],
    ["a tab inside the value", `${NAME}=abc\tdef`],
  ];

  for (const [label, value] of malformed) {
    it(`refuses ${label} with 401, never 500`, async () => {
      const { gate } = await withSession();
      await expectRefused(gate, await withCookie(gate, value));
    });
  }

  it("refuses the live token in quotes: values are not unquoted", async () => {
    const { gate, token } = await withSession();
    await expectRefused(gate, await withCookie(gate, `${NAME}="${token}"`));
    expect(gate.events("auth.denied")).toEqual([expect.objectContaining({ reason: "malformed" })]);
  });

  it("refuses the live token percent-encoded: values are not URL-decoded", async () => {
    const { gate, token } = await withSession();
    const encoded = [...token].map((char) => "%" + char.charCodeAt(0).toString(16).toUpperCase()).join("");
    await expectRefused(gate, await withCookie(gate, `${NAME}=${encoded}`));
  });

  for (const wrong of ["!", ".", "+", "/", "=", "~", "é"]) {
    it(`refuses a 43-character token with one ${JSON.stringify(wrong)} without a store look-up`, async () => {
      let lookups = 0;
      const real = createKvStore(kv);
      const store: SessionStore = { ...real, lookup: (hash) => (lookups++, real.lookup(hash)) };
      const { gate, token } = await withSession({ store });
      lookups = 0;
      const bad = token.slice(0, 20) + wrong + token.slice(21);
      expect(bad).toHaveLength(43);
      const response = await withCookie(gate, `${NAME}=${bad}`);
      await expectRefused(gate, response);
      expect(response.headers.getSetCookie()).toEqual([CLEARED]);
      expect(lookups).toBe(0);
    });
  }

  it("refuses a 64 KiB cookie value with 401", async () => {
    const { gate } = await withSession();
    await expectRefused(gate, await withCookie(gate, `${NAME}=${"A".repeat(65_536)}`));
  });

  it("forwards a 64 KiB ordinary cookie on a public route and keeps the session", async () => {
    const { gate, token } = await withSession();
    const big = `big=${"x".repeat(65_536)}`;
    const response = await withCookie(gate, `${big}; ${NAME}=${token}`, "/public/page");
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers.cookie).toBe(big);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("hostile-alice");
  });

  it("survives a header of thousands of pairs", async () => {
    const { gate, token } = await withSession();
    const many = Array.from({ length: 5_000 }, (_, i) => `c${i}=${i}`).join("; ");
    const response = await withCookie(gate, `${many}; ${NAME}=${token}`);
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("hostile-alice");
  });
});

describe("bytes the platform refuses or rewrites", () => {
  it("cannot even build a request with CR, LF or NUL inside a cookie value (the Headers constructor throws)", () => {
    for (const value of [`${NAME}=a\r\nX-Gate-User: root`, `${NAME}=a\nb`, `${NAME}=a\rb`, `${NAME}=a\0b`]) {
      expect(() => new Request("https://gate.example/", { headers: { Cookie: value } }), JSON.stringify(value)).toThrow(TypeError);
    }
  });

  it("strips CR/LF around the whole header value, leaving the token intact", async () => {
    const { gate, token } = await withSession();
    const response = await withCookie(gate, `${NAME}=${token}\r\n`);
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("hostile-alice");
  });

  it("refuses a token with a non-ASCII (latin-1) byte appended", async () => {
    const { gate, token } = await withSession();
    await expectRefused(gate, await withCookie(gate, `${NAME}=${token.slice(0, 42)}\xe9`));
  });

  it("passes other cookies with latin-1 bytes and still authenticates", async () => {
    const { gate, token } = await withSession();
    const response = await withCookie(gate, `caf\xe9=cr\xe8me; ${NAME}=${token}`);
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("hostile-alice");
    expect(gate.origin.last().headers.cookie).toBe("caf\xe9=cr\xe8me");
  });
});

describe("cookie names and duplicates", () => {
  it("treats __proto__ and constructor as ordinary cookie names", async () => {
    const { gate, token } = await withSession();
    const response = await withCookie(gate, `__proto__=1; constructor=2; toString=3; ${NAME}=${token}; hasOwnProperty=4`);
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers.cookie).toBe("__proto__=1; constructor=2; toString=3; hasOwnProperty=4");
    expect(gate.origin.last().headers["x-gate-user"]).toBe("hostile-alice");
  });

  it("refuses the live token under __proto__ or constructor", async () => {
    const { gate, token } = await withSession();
    await expectRefused(gate, await withCookie(gate, `__proto__=${token}`));
    await expectRefused(gate, await withCookie(gate, `constructor=${token}`));
  });

  it("refuses a duplicated session cookie, even with the live token twice", async () => {
    const { gate, token } = await withSession();
    const response = await withCookie(gate, `${NAME}=${token}; ${NAME}=${token}`);
    await expectRefused(gate, response);
    expect(gate.events("auth.denied")).toEqual([expect.objectContaining({ reason: "duplicate_cookie" })]);
  });

  it("refuses a live token shadowed by a planted one, in either order", async () => {
    const { gate, token } = await withSession();
    const planted = "P".repeat(43);
    await expectRefused(gate, await withCookie(gate, `${NAME}=${planted}; ${NAME}=${token}`));
    await expectRefused(gate, await withCookie(gate, `${NAME}=${token}; ${NAME}=${planted}`));
  });

  it("refuses a duplicated session cookie on a public route, forwarding without identity or token", async () => {
    const { gate, token } = await withSession();
    const response = await withCookie(gate, `${NAME}=${token}; a=1; ${NAME}=x`, "/public/page");
    expect(response.status).toBe(200);
    const seen = gate.origin.last();
    expect(seen.headers["x-gate-user"]).toBeUndefined();
    expect(seen.headers.cookie).toBe("a=1");
  });

  it("does not count a look-alike name as a duplicate", async () => {
    const { gate, token } = await withSession();
    const response = await withCookie(gate, `__HOST-session=x; ${NAME}=${token}; __host-session=y`);
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("hostile-alice");
  });

  it("leaves split Cookie headers (joined with a comma) unauthenticated, never leaking the token", async () => {
    const { gate, token } = await withSession();
    for (const [first, second] of [["a=1", `${NAME}=${token}`], [`${NAME}=${token}`, "b=2"]]) {
      const headers = new Headers(JSON_ACCEPT);
      headers.append("Cookie", first);
      headers.append("Cookie", second);
      const joined = headers.get("cookie")!;
      expect(joined).toBe(`${first}, ${second}`);
      await expectRefused(gate, await withCookie(gate, joined));
      const response = await withCookie(gate, joined, "/public/page");
      expect(response.status).toBe(200);
      expect(JSON.stringify(gate.origin.received.splice(0))).not.toContain(token);
    }
  });
});

describe("hostile Authorization headers", () => {
  for (const value of ["Bearer", "Bearer ", "Bearer a b", `Bearer ${"A".repeat(65_536)}`, "Bearer \xe9\xe9", "Basic", "Negotiate =="]) {
    it(`answers ${JSON.stringify(value.slice(0, 20))} with 401, never 500`, async () => {
      const gate = await createTestGate();
      await expectRefused(gate, await gate.request("/dashboard", { headers: { Authorization: value, ...JSON_ACCEPT } }));
    });
  }
});

describe("corrupted records in the store", () => {
  const session = (sid: string) => kv.get(`ses:${sid}`).then((text) => JSON.parse(text!) as Record<string, unknown>);
  const corruptions: Array<[string, (record: Record<string, unknown>) => string]> = [
    ["malformed JSON", () => "{not json"],
    ["a NaN time (stored as null)", (record) => JSON.stringify({ ...record, lastSeenAt: NaN })],
    ["a missing time", ({ expiresAt: _, ...record }) => JSON.stringify(record)],
    ["a time written as text", (record) => JSON.stringify({ ...record, expiresAt: String(record.expiresAt) })],
    ["roles that are not strings", (record) => JSON.stringify({ ...record, roles: [{ admin: true }] })],
    ["a JSON array", () => "[]"],
    ["a JSON number", () => "42"],
    ["a JSON null", () => "null"],
    ["an empty string", () => ""],
  ];

  for (const [label, corrupt] of corruptions) {
    it(`answers 401 and logs store.corrupt for a session record with ${label}`, async () => {
      const { gate, token, sid } = await withSession();
      await kv.put(`ses:${sid}`, corrupt(await session(sid)));
      const response = await withCookie(gate, `${NAME}=${token}`);
      await expectRefused(gate, response);
      expect(gate.events("store.corrupt")).toHaveLength(1);
      expect(JSON.stringify(gate.logs)).not.toContain(token);
      const self = await gate.request("/_gate/session", { headers: cookie(token) });
      expect(self.status).toBe(401);
    });
  }

  it("answers 401 and logs store.corrupt for a malformed token pointer", async () => {
    const { gate, token } = await withSession();
    await kv.put(`tok:${await hashToken(token)}`, '{"sid":42}');
    await expectRefused(gate, await withCookie(gate, `${NAME}=${token}`));
    expect(gate.events("store.corrupt")).toHaveLength(1);
  });

  it("forwards a public route without identity when the record is corrupt", async () => {
    const { gate, token, sid } = await withSession();
    await kv.put(`ses:${sid}`, "{not json");
    const response = await withCookie(gate, `${NAME}=${token}`, "/public/page");
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers["x-gate-user"]).toBeUndefined();
  });

  it("lists no corrupt session on GET /_gate/sessions and never fails", async () => {
    const { gate, token, sid } = await withSession();
    const second = await gate.login("hostile-alice", ["user"]);
    await kv.put(`ses:${sid}`, "{not json");
    const response = await gate.request("/_gate/sessions", { headers: cookie(second) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { sessions: Array<{ sid: string }> };
    expect(body.sessions.map((entry) => entry.sid)).not.toContain(sid);
    expect(token).not.toBe(second);
  });
});

describe("only one exact session cookie with a live token authenticates (property)", () => {
  it("holds for cookie headers mixing the live token, look-alikes, duplicates and garbage", async () => {
    const { gate, token } = await withSession();
    const other = "Q".repeat(42) + "A";
    const blank = fc.constantFrom("", " ", "\t", "  ");
    const name = fc.constantFrom(NAME, NAME, "__HOST-session", "__host-session", `${NAME}2`, `x${NAME}`, "__proto__", "a", "");
    const value = fc.constantFrom(token, token, `"${token}"`, token.slice(1), `${token}A`, `${token.slice(0, 42)}!`, other, "", "%41");
    const garbage = fc.string({ unit: fc.constantFrom(..."ab=;, \t\"%!.-_".split("")), maxLength: 8 });
    const pair = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(blank, name, blank, value, blank).map(([a, n, b, v, c]) => `${a}${n}${b}=${b}${v}${c}`) },
      { weight: 1, arbitrary: garbage },
    );
    // Half the headers also carry the exact live pair somewhere, so both outcomes are common.
    const live = fc.option(fc.tuple(fc.nat(5), blank).map(([at, pad]) => ({ at, text: `${pad}${NAME}=${token}${pad}` })), { freq: 2 });
    const header = fc
      .tuple(fc.array(pair, { maxLength: 5 }), live, fc.constantFrom("; ", ";", ", "))
      .map(([pairs, extra, separator]) => (extra ? pairs.toSpliced(Math.min(extra.at, pairs.length), 0, extra.text) : pairs).join(separator));

    /** The oracle, from the contract: exactly one pair named exactly NAME, and its value is the live token. */
    const authenticates = (text: string) => {
      const named = text.split(";").filter((part) => part.includes("=") && part.slice(0, part.indexOf("=")).trim() === NAME);
      return named.length === 1 && named[0].slice(named[0].indexOf("=") + 1).trim() === token;
    };

    const outcomes = { authenticated: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(header, async (text) => {
        gate.origin.received.splice(0);
        const expected = authenticates(text);
        outcomes[expected ? "authenticated" : "refused"]++;
        const session = await withCookie(gate, text);
        expect(session.status).toBe(expected ? 200 : 401);
        expect(gate.origin.received.length).toBe(expected ? 1 : 0);
        if (expected) expect(gate.origin.last().headers["x-gate-user"]).toBe("hostile-alice");

        gate.origin.received.splice(0);
        const open = await withCookie(gate, text, "/public/page");
        expect(open.status).toBe(200);
        const seen = gate.origin.last();
        expect(seen.headers["x-gate-user"]).toBe(expected ? "hostile-alice" : undefined);
        // The session cookie never reaches the origin; the same token under another name is just another cookie.
        const forwarded = (seen.headers.cookie ?? "").split(/[;,]/).map((part) => part.split("=")[0].trim());
        expect(forwarded).not.toContain(NAME);
      }),
      { numRuns: 300 },
    );
    // The generator must exercise both sides of the property, not just refusals.
    expect(outcomes.authenticated).toBeGreaterThan(20);
    expect(outcomes.refused).toBeGreaterThan(20);
  });
});
