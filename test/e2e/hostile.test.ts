import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
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
    const encoded = [...token].map((char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`).join("");
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

  // Larger Cookie headers get 431 before anything reads them: test/hardening/limits.test.ts.
  it("refuses a 15 KiB cookie value with 401", async () => {
    const { gate } = await withSession();
    await expectRefused(gate, await withCookie(gate, `${NAME}=${"A".repeat(15_360)}`));
  });

  it("forwards a 15 KiB ordinary cookie on a public route and keeps the session", async () => {
    const { gate, token } = await withSession();
    const big = `big=${"x".repeat(15_360)}`;
    const response = await withCookie(gate, `${big}; ${NAME}=${token}`, "/public/page");
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers.cookie).toBe(big);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("hostile-alice");
  });

  it("survives a header of a thousand pairs", async () => {
    const { gate, token } = await withSession();
    const many = Array.from({ length: 1_000 }, (_, i) => `c${i}=${i}`).join("; ");
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

  it("refuses the live token under non-ASCII look-alike names, passing them on as ordinary cookies", async () => {
    const { gate, token } = await withSession();
    const lookAlikes = [
      "\uff3f\uff3fHost-session",
      "__Host\u2010session",
      "__Host-s\u0435ssion",
      "\u200b__Host-session",
      "__Host-session\u200b",
      "__\u0397ost-session",
    ];
    for (const name of lookAlikes) {
      await expectRefused(gate, await withCookie(gate, `${name}=${token}`));
      const response = await withCookie(gate, `${name}=${token}`, "/public/page");
      expect(response.status).toBe(200);
      expect(gate.origin.received.splice(0).map((seen) => seen.headers["x-gate-user"])).toEqual([undefined]);
    }
  });

  it("does not count a look-alike name as a duplicate", async () => {
    const { gate, token } = await withSession();
    const response = await withCookie(gate, `__HOST-session=x; ${NAME}=${token}; __host-session=y`);
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("hostile-alice");
  });

  it("leaves split Cookie headers (joined with a comma) unauthenticated, never leaking the token", async () => {
    const { gate, token } = await withSession();
    for (const [first, second] of [
      ["a=1", `${NAME}=${token}`],
      [`${NAME}=${token}`, "b=2"],
    ]) {
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
  for (const value of ["Bearer", "Bearer ", "Bearer a b", `Bearer ${"A".repeat(16_000)}`, "Bearer \xe9\xe9", "Basic", "Negotiate =="]) {
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
    ["roles only under a __proto__ key", ({ roles: _, ...record }) => `{"__proto__":{"roles":["admin"]},${JSON.stringify(record).slice(1)}`],
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

// The property "only one exact session cookie with a live token authenticates" is in
// test/hardening/properties.test.ts, with the other properties of the gate.
