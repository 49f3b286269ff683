import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { cookie, createTestGate, GATE_URL } from "../helpers/gate";
import type { RoutePolicy } from "../../src/config/types";
import { normalizePath } from "../../src/policy/path";
import { DEFAULT_ROUTE, findRoute } from "../../src/policy/match";

/**
 * Properties of the whole gate, through HTTP (createTestGate: real KV, a
 * recording origin). Each oracle is written from the contract, not from the
 * implementation, so a broken filter or matcher makes them fail.
 */

/** Hundreds of requests each: seconds alone, more on a loaded machine, so above vitest's 5 s default. */
const PROPERTY_TIMEOUT = 30_000;
const NAME = "__Host-session";
const JSON_ACCEPT = { Accept: "application/json" };
const SAME_ORIGIN = { "Sec-Fetch-Site": "same-origin" };

describe("property: only exactly one exact-case session cookie with a live token authenticates", () => {
  it(
    "holds for Cookie headers mixing live and dead tokens, look-alike names, duplicates and garbage",
    async () => {
      const gate = await createTestGate();
      const alice = await gate.login("prop-alice", ["user"]);
      const bob = await gate.login("prop-bob", ["user"]);
      const dead = await gate.login("prop-dead", ["user"]);
      await gate.request("/_gate/logout", { method: "POST", headers: { ...cookie(dead), ...SAME_ORIGIN } });
      const users = new Map([
        [alice, "prop-alice"],
        [bob, "prop-bob"],
      ]);

      // RFC 6265 §5.2 trims only spaces and tabs around a name and a value.
      const blank = fc.constantFrom("", "", " ", "\t", "  ");
      const name = fc.constantFrom(
        ...[NAME, NAME, NAME, "__HOST-session", "__host-session", "__Host-Session", `${NAME}2`, `x${NAME}`, NAME.slice(0, -1)],
        // Non-ASCII look-alikes (fullwidth underscores, a Unicode hyphen) are in test/e2e/hostile.test.ts:
        // workerd prints a warning for every non-ASCII header value it is given.
        ...["__proto__", "constructor", "a", "", `"${NAME}"`, "%5F%5FHost-session", "__Host_session", "__Host-session.", "Host-session"],
      );
      const value = fc.constantFrom(
        alice,
        alice,
        bob,
        dead,
        `"${alice}"`,
        alice.slice(1),
        `${alice}A`,
        `${alice.slice(0, 42)}!`,
        alice.toLowerCase(),
        "Q".repeat(43),
        "",
        "%41",
      );
      const garbage = fc.string({ unit: fc.constantFrom(...'ab=;, \t"%!.-_'.split("")), maxLength: 8 });
      const pair = fc.oneof(
        { weight: 5, arbitrary: fc.tuple(blank, name, blank, value, blank).map(([a, n, b, v, c]) => `${a}${n}${b}=${b}${v}${c}`) },
        { weight: 1, arbitrary: garbage },
      );
      // Half the headers also carry an exact live pair somewhere, so both outcomes are common.
      const live = fc.option(
        fc.tuple(fc.nat(5), blank, fc.constantFrom(alice, bob)).map(([at, pad, token]) => ({ at, text: `${pad}${NAME}=${token}${pad}` })),
        { freq: 2 },
      );
      const separator = fc.constantFrom("; ", ";", " ;", ";;", ", ");
      const header = fc.tuple(fc.array(fc.tuple(separator, pair), { maxLength: 5 }), live).map(([pairs, extra]) => {
        const texts = pairs.map(([sep, text], index) => (index === 0 ? text : sep + text));
        if (extra) texts.splice(Math.min(extra.at, texts.length), 0, (texts.length ? "; " : "") + extra.text);
        return texts.join("");
      });
      const authorization = fc.constantFrom(undefined, undefined, "Basic YWxpY2U6c2VjcmV0", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "Bearer");

      /** The oracle, from contract §2: exactly one pair named exactly NAME; the user of its live token, if any. */
      const expectedUser = (text: string): string | undefined => {
        const trim = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, "");
        const named = text.split(";").filter((part) => part.includes("=") && trim(part.slice(0, part.indexOf("="))) === NAME);
        return named.length === 1 ? users.get(trim(named[0].slice(named[0].indexOf("=") + 1))) : undefined;
      };

      const outcomes = { authenticated: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(header, authorization, async (text, auth) => {
          const expected = expectedUser(text);
          outcomes[expected ? "authenticated" : "refused"]++;
          const headers = { Cookie: text, ...JSON_ACCEPT, ...(auth && { Authorization: auth }) };
          gate.origin.received.splice(0);
          const session = await gate.request("/dashboard", { headers });
          expect(session.status).toBe(expected ? 200 : 401);
          expect(gate.origin.received.length).toBe(expected ? 1 : 0);
          if (expected) expect(gate.origin.last().headers["x-gate-user"]).toBe(expected);

          gate.origin.received.splice(0);
          const open = await gate.request("/public/page", { headers });
          expect(open.status).toBe(200);
          const seen = gate.origin.last();
          expect(seen.headers["x-gate-user"]).toBe(expected);
          // The session cookie never reaches the origin, in any position.
          const forwarded = (seen.headers.cookie ?? "").split(/[;,]/).map((part) => part.split("=")[0].replace(/^[ \t]+|[ \t]+$/g, ""));
          expect(forwarded).not.toContain(NAME);
        }),
        { numRuns: 300 },
      );
      // The generator must exercise both sides of the property, not just refusals.
      expect(outcomes.authenticated).toBeGreaterThan(30);
      expect(outcomes.refused).toBeGreaterThan(30);
    },
    PROPERTY_TIMEOUT,
  );
});

/** The identity headers the gate itself sets (contract §4). */
const GATE_SET = ["x-gate-user", "x-gate-session", "x-gate-roles", "x-gate-auth-time", "x-gate-assertion"];
/** Contract §4: lower-cased, `_` read as `-`. */
const contractCanonical = (name: string) => name.toLowerCase().replaceAll("_", "-");
/** Stronger than the contract: also what an origin applying Unicode compatibility folding (NFKC) would read. */
const foldedCanonical = (name: string) => contractCanonical(name.normalize("NFKC"));
const isGateName = (name: string) => contractCanonical(name).startsWith("x-gate-") || foldedCanonical(name).startsWith("x-gate-");
/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Header names: x-gate-* in every case and separator, near misses that are not, and Unicode look-alikes. */
function headerNames() {
  const sep = fc.constantFrom("-", "_");
  const spell = (word: string) =>
    fc.tuple(...[...word].map((ch) => (ch === "-" ? sep : fc.constantFrom(ch.toLowerCase(), ch.toUpperCase())))).map((chars) => chars.join(""));
  const suffix = fc.constantFrom("user", "session", "roles", "auth-time", "assertion", "anything", "u");
  const gateName = fc.tuple(spell("x-gate-"), suffix.chain(spell)).map(([prefix, rest]) => prefix + rest);
  const nearMiss = fc.constantFrom(
    "x-gatex-user",
    "xgate-user",
    "x-gate",
    "x_gate",
    "gate-user",
    "x--gate-user",
    "x-gat-user",
    "y-gate-user",
    "x-gateuser",
    "x-custom",
    "X-Gate",
  );
  const LOOK_ALIKES: Record<string, string[]> = {
    x: ["\uff58", "\u0445"],
    g: ["\uff47", "\u0261"],
    a: ["\uff41", "\u0430"],
    t: ["\uff54"],
    e: ["\uff45", "\u0435"],
    "-": ["\uff0d", "\u2010", "\u2011"],
    _: ["\uff3f"],
    s: ["\u017f"],
    u: ["\uff55"],
  };
  const lookAlike = fc.tuple(gateName, fc.nat(), fc.nat()).map(([name, at, pick]) => {
    const chars = [...name];
    const index = at % chars.length;
    const options = LOOK_ALIKES[chars[index].toLowerCase()];
    if (!options) return `\u200b${name}`;
    chars[index] = options[pick % options.length];
    return chars.join("");
  });
  return fc.oneof({ weight: 4, arbitrary: gateName }, { weight: 2, arbitrary: nearMiss }, { weight: 1, arbitrary: lookAlike });
}

describe("property: no client-supplied header whose name normalises to x-gate-* reaches the origin", () => {
  it(
    "holds for any spelling, with or without a session, named in Connection or not",
    async () => {
      const gate = await createTestGate();
      const token = await gate.login("prop-carol", ["user", "ops"]);
      const sid = gate.events("session.created")[0].sid as string;
      const identity = { "x-gate-user": "prop-carol", "x-gate-roles": "user,ops", "x-gate-session": sid };
      const outcomes = { forwarded: 0, refused: 0, passedThrough: 0 };
      let runs = 0;

      const request = fc.record({
        names: fc.uniqueArray(headerNames(), { minLength: 1, maxLength: 6, selector: (name) => name.toLowerCase() }),
        connection: fc.subarray(["close", "keep-alive", "x-gate-user", "X_Gate_Roles", "x-custom"]),
        namedInConnection: fc.nat(),
        withSession: fc.boolean(),
        path: fc.constantFrom("/public/page", "/dashboard"),
      });

      await fc.assert(
        fc.asyncProperty(request, async ({ names, connection, namedInConnection, withSession, path }) => {
          const run = ++runs;
          const markers = names.map((_, index) => `marker-${run}-${index}`);
          const sent: Array<[string, string]> = names.map((name, index) => [name, markers[index]]);
          // Only token names in Connection: workerd warns about every non-ASCII header value.
          const tokens = names.filter((name) => TOKEN.test(name));
          const listed = tokens.length ? [...connection, tokens[namedInConnection % tokens.length]] : connection;
          sent.push(["Connection", listed.join(", ")]);
          if (withSession) sent.push(["Cookie", `${NAME}=${token}`]);
          let headers: Headers;
          try {
            headers = new Headers([...sent, ["Accept", "application/json"]]);
          } catch {
            return; // the platform cannot even send this name
          }
          gate.origin.received.splice(0);
          const response = await gate.request(path, { headers: Object.fromEntries(headers) });

          if (names.some((name) => !TOKEN.test(name))) {
            // A name that is not an HTTP token is a malformed request: refused before anything reads it.
            expect(response.status).toBe(400);
            expect(gate.origin.received).toEqual([]);
            outcomes.refused++;
            return;
          }
          if (!withSession && path === "/dashboard") {
            expect(response.status).toBe(401);
            expect(gate.origin.received).toEqual([]);
            return;
          }
          expect(response.status).toBe(200);
          outcomes.forwarded++;
          const received = gate.origin.last().headers;
          for (const [name, value] of Object.entries(received)) {
            if (!isGateName(name)) continue;
            expect(GATE_SET, `${name} reached the origin`).toContain(name);
            for (const marker of markers) expect(value, `${name} carries a client value`).not.toContain(marker);
          }
          for (const [name, value] of Object.entries(identity)) expect(received[name]).toBe(withSession ? value : undefined);
          expect(received.connection).toBeUndefined();
          const connectionNames = listed.map(contractCanonical);
          // Two-sided: headers that are neither the gate's nor named in Connection still reach the origin.
          names.forEach((name, index) => {
            if (isGateName(name) || connectionNames.includes(contractCanonical(name))) return;
            expect(received[name.toLowerCase()], `${name} was dropped`).toContain(markers[index]);
            outcomes.passedThrough++;
          });
        }),
        { numRuns: 300 },
      );
      expect(outcomes.forwarded).toBeGreaterThan(60);
      expect(outcomes.refused).toBeGreaterThan(10);
      expect(outcomes.passedThrough).toBeGreaterThan(10);
    },
    PROPERTY_TIMEOUT,
  );

  it(
    "holds for the origin's response headers on their way to the client",
    async () => {
      const gate = await createTestGate();
      const names = fc.uniqueArray(
        headerNames().filter((name) => TOKEN.test(name)),
        { minLength: 1, maxLength: 6, selector: (name) => name.toLowerCase() },
      );
      await fc.assert(
        fc.asyncProperty(names, async (list) => {
          gate.origin.reply(() => new Response("ok", { headers: list.map((name, index) => [name, `reply-${index}`]) }));
          const response = await gate.request("/public/page");
          expect(response.status).toBe(200);
          for (const name of response.headers.keys()) expect(contractCanonical(name).startsWith("x-gate-"), `${name} reached the client`).toBe(false);
          list.forEach((name, index) => {
            if (!contractCanonical(name).startsWith("x-gate-")) expect(response.headers.get(name)).toBe(`reply-${index}`);
          });
        }),
        { numRuns: 200 },
      );
    },
    PROPERTY_TIMEOUT,
  );
});

describe("property: the route the gate decides on is the route of the path the origin receives", () => {
  const SEGMENTS = [
    ...["public", "PUBLIC", "Public", "admin", "ADMIN", "aDmin", "deny", "DENY", "read-only", "webhooks", "login", "LOGIN", "x", "page", "A"],
    ...["_gate", "_GATE", "session", "sessions", "jwks.json", "health", "%5Fgate"],
    ...["", ".", "..", "%2e", "%2E%2e", ".%2e", "%2e.", "%61dmin", "%41DMIN", "%7e", "~", "a;b", ";x", "..;", ".;x", "admin;x", "public;v=1"],
    ...["%3B", "%3b", "%25", "%2561dmin", "%2F", "%2f", "%5C", "%00", "%", "%zz", "%e9", "caf%C3%A9", "a%20b", "a b", "\\", "..\\", "%2e%2e%5c", "é"],
  ];
  const path = fc
    .tuple(
      fc.constantFrom("/", "//", "/./", "/../", "/_gate/"),
      fc.array(fc.tuple(fc.constantFrom(...SEGMENTS), fc.constantFrom("/", "/", "//")), { minLength: 1, maxLength: 5 }),
      fc.constantFrom("", "", "/", "?next=/admin", "#/admin"),
    )
    .map(([lead, parts, tail]) => lead + parts.map(([segment, sep], index) => (index ? sep : "") + segment).join("") + tail);

  it(
    "holds for dot segments, escapes, doubled slashes, case, trailing slashes and ;parameters",
    async () => {
      const gate = await createTestGate();
      const user = cookie(await gate.login("prop-dave", ["user"]));
      const { routes } = gate.config;
      /**
       * Every path an origin may read in a pathname: the gate's reading (`;parameters`
       * cut), the whole path, `%3B` read as `;`, `%25XX` decoded once more, and each
       * of those with trailing dots and spaces cut from every segment (Windows/IIS)
       * (src/policy/readings.ts says why); `undefined` when one cannot be normalised.
       */
      const originReadings = (pathname: string): string[] | undefined => {
        const normalized = normalizePath(pathname);
        if (!normalized.ok) return undefined;
        const more = [normalized.path.replace(/%3B/gi, ";"), normalized.path.replace(/%25([0-9A-F]{2})/gi, "%$1")].map((reading) =>
          normalizePath(reading),
        );
        if (!more.every((reading) => reading.ok)) return undefined;
        const readings = [normalized.match, normalized.path, ...more.map((reading) => (reading.ok ? reading.match : ""))];
        const trim = (reading: string) =>
          reading
            .split("/")
            .map((segment) => segment.replace(/(?:\.|%20)+$/i, ""))
            .join("/");
        return [...readings, ...readings.map(trim)];
      };
      /** Whether any reading of the path is the gate's own: then it is never forwarded (contract §14). */
      const isGatePath = (pathname: string) => {
        const normalized = normalizePath(pathname);
        return normalized.ok && [normalized.match, ...(originReadings(pathname) ?? [])].some((reading) => /^\/_gate(\/|$)/i.test(reading));
      };
      /** The route of a request, when every reading of its path agrees on one; `undefined` when the path must be refused. */
      const decide = (method: string, pathname: string): RoutePolicy | undefined => {
        const routesRead = originReadings(pathname)?.map((reading) => findRoute(routes, method, reading) ?? DEFAULT_ROUTE);
        return routesRead?.every((route) => route === routesRead[0]) ? routesRead[0] : undefined;
      };
      const counts = { forwarded: 0, refused: 0, denied: 0, endpoint: 0 };

      await fc.assert(
        fc.asyncProperty(path, fc.constantFrom("GET", "HEAD", "POST", "DELETE"), async (sent, method) => {
          gate.origin.received.splice(0);
          const response = await gate.request(sent, { method, headers: { ...user, ...JSON_ACCEPT, ...SAME_ORIGIN } });
          const pathname = new URL(GATE_URL + sent).pathname;
          if (isGatePath(pathname)) {
            expect(gate.origin.received, "a /_gate/ path reached the origin").toEqual([]);
            counts.endpoint++;
            return;
          }
          const route = decide(method, pathname);
          if (!route) {
            expect(response.status).toBe(400);
            expect(gate.origin.received).toEqual([]);
            counts.refused++;
            return;
          }
          const allowed = route.access === "public" || (route.access === "session" && !route.roles);
          if (!allowed) {
            expect(response.status).toBe(route.access === "deny" ? 404 : 403);
            expect(gate.origin.received).toEqual([]);
            counts.denied++;
            return;
          }
          expect(response.status).toBe(200);
          expect(gate.origin.received).toHaveLength(1);
          counts.forwarded++;
          const seen = gate.origin.last();
          // The origin's path is already normal: normalising it again changes nothing…
          const again = normalizePath(seen.path);
          expect(again.ok && again.path).toBe(seen.path);
          // …and it falls under the very route the gate decided on.
          expect(decide(method, seen.path), `${sent} was decided as ${route.path}, the origin got ${seen.path}`).toBe(route);
        }),
        { numRuns: 400 },
      );
      for (const outcome of Object.values(counts)) expect(outcome).toBeGreaterThan(10);
    },
    PROPERTY_TIMEOUT,
  );
});
