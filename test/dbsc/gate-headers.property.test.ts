/**
 * Properties of the gate's DBSC headers, checked against the test client's own
 * RFC 8941 parser (test/dbsc/sf.ts, written separately from src/dbsc/sf.ts):
 * what the gate emits parses back to exactly what it meant, and the readers
 * never throw and never answer something the input did not say.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DbscError } from "../../src/dbsc/errors";
import {
  COMPACT_JWS_PATTERN,
  challengeHeader,
  type DeviceAlgorithm,
  readProofHeader,
  readSessionId,
  readSkipped,
  registrationHeader,
  SESSION_ID_PATTERN,
  serializeString,
} from "../../src/dbsc/headers";
import * as gateSf from "../../src/dbsc/sf";
import * as clientSf from "./sf";

const RUNS = { numRuns: 500 };
/** Printable ASCII, the alphabet of an sf-string, weighted towards the characters that matter. */
const printable = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 }),
  fc.array(fc.constantFrom('"', "\\", ";", ",", "=", " ", "(", ")", "a", "/"), { minLength: 1, maxLength: 12 }).map((a) => a.join("")),
);
/** Any string at all: full Unicode, lone surrogates, controls. */
const anything = fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.string({ unit: "grapheme", maxLength: 20 }));
const algorithms = fc.shuffledSubarray<DeviceAlgorithm>(["ES256", "RS256"], { minLength: 1 });
const sessionId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

describe("emitted headers parse back to exactly what the gate meant", () => {
  it("Secure-Session-Registration: one inner list of the algorithms, exactly two String params", () => {
    fc.assert(
      fc.property(printable, printable, algorithms, (challenge, path, algs) => {
        const members = clientSf.parseList(registrationHeader({ challenge, path, algorithms: algs }));
        expect(members).toHaveLength(1);
        const entry = members[0] as clientSf.InnerList;
        expect(entry.kind).toBe("inner");
        expect(entry.items.map((i) => i.item)).toEqual(algs.map((value) => ({ type: "token", value })));
        expect([...entry.params.keys()]).toEqual(["path", "challenge"]);
        expect(clientSf.stringParam(entry.params, "path")).toBe(path);
        expect(clientSf.stringParam(entry.params, "challenge")).toBe(challenge);
      }),
      RUNS,
    );
  });

  it("Secure-Session-Challenge: one String member with exactly one String param, id", () => {
    fc.assert(
      fc.property(printable, printable, (challenge, id) => {
        const members = clientSf.parseList(challengeHeader(challenge, id));
        expect(members).toHaveLength(1);
        const m = members[0] as clientSf.Item;
        expect(m.item).toEqual({ type: "string", value: challenge });
        expect([...m.params]).toEqual([["id", { type: "string", value: id }]]);
      }),
      RUNS,
    );
  });

  it("any value either round-trips or is refused with a DbscError: never a header that says something else", () => {
    fc.assert(
      fc.property(anything, anything, (challenge, id) => {
        let value: string;
        try {
          value = challengeHeader(challenge, id);
        } catch (error) {
          expect(error).toBeInstanceOf(DbscError);
          expect(/^[\x20-\x7e]*$/.test(challenge) && /^[\x20-\x7e]*$/.test(id) && challenge !== "" && id !== "").toBe(false);
          return;
        }
        const [m] = clientSf.parseList(value) as clientSf.Item[];
        expect([m.item.value, clientSf.stringParam(m.params, "id")]).toEqual([challenge, id]);
      }),
      RUNS,
    );
  });
});

describe("readers never throw and answer only what the input said", () => {
  it("readSessionId: undefined or a valid id taken from the input; every valid id reads back quoted or bare", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          printable,
          printable.map((s) => `"${s}"`),
        ),
        (value) => {
          const id = readSessionId(value);
          if (id !== undefined) {
            expect(id).toMatch(SESSION_ID_PATTERN);
            expect(value).toContain(id);
          }
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(sessionId, (id) => {
        expect(readSessionId(id)).toBe(id);
        expect(readSessionId(serializeString(id))).toBe(id);
      }),
      RUNS,
    );
  });

  it("readProofHeader: undefined or a compact-JWS-shaped substring of the input", () => {
    const jwtish = fc.array(fc.constantFrom("eyJ", "a", "-", "_", ".", '"', "\\", ";", "=", " ", "+", "x"), { maxLength: 30 }).map((a) => a.join(""));
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          jwtish,
          jwtish.map((s) => `"${s}"`),
        ),
        (value) => {
          const jwt = readProofHeader(value);
          if (jwt !== undefined) {
            expect(jwt).toMatch(COMPACT_JWS_PATTERN);
            expect(value).toContain(jwt);
          }
        },
      ),
      RUNS,
    );
  });

  it("readSkipped: at most 8 entries, each with a known reason and, if any, a valid session id", () => {
    const skippedish = fc
      .array(fc.constantFrom("unreachable", "server_error", "x", ";", "session_identifier=", '"1"', '"a b"', ",", " ", "(", ")", "?1", '"'), {
        maxLength: 30,
      })
      .map((a) => a.join(""));
    fc.assert(
      fc.property(fc.oneof(anything, skippedish), (value) => {
        const entries = readSkipped(value);
        expect(entries.length).toBeLessThanOrEqual(8);
        for (const e of entries) {
          expect(["unreachable", "server_error", "quota_exceeded", "other"]).toContain(e.reason);
          if (e.sessionId !== undefined) expect(e.sessionId).toMatch(SESSION_ID_PATTERN);
        }
      }),
      RUNS,
    );
  });
});

describe("the gate's RFC 8941 parser agrees with the test client's", () => {
  /** Strings over the characters RFC 8941's grammar turns on. */
  const sfish = fc
    .array(
      fc.oneof(
        fc.constantFrom('"', "\\", ";", "=", "(", ")", "?", ":", "-", ".", "*", ",", " ", "\t", "/", "0", "1", "9", "a", "Z", "_", "é"),
        fc.constantFrom("ES256", "id", '"x"', "1.234", "123456789012345", "1234567890123.4", ":aGk=:", "?0", "tok/en"),
      ),
      { maxLength: 16 },
    )
    .map((a) => a.join(""));

  /** The client parser's result in the gate parser's shape (it decodes Byte Sequences; the gate keeps their text). */
  const normalise = (value: unknown, also = (v: unknown) => v): unknown =>
    JSON.parse(JSON.stringify(value, (_k, v) => also(v instanceof Map ? [...v] : v instanceof Uint8Array ? btoa(String.fromCharCode(...v)) : v)));
  const isBinary = (v: unknown): v is { type: "binary"; value: string } =>
    typeof v === "object" && v !== null && (v as { type?: unknown }).type === "binary";
  const gate = (value: unknown) => normalise(value, (v) => (isBinary(v) ? { type: "binary", value: btoa(atob(v.value)) } : v));
  const client = <T>(parse: () => T) => {
    try {
      return normalise(parse());
    } catch {
      return undefined;
    }
  };

  it("on Lists and Items: the same values where both parse, and failure in the same places", () => {
    fc.assert(
      fc.property(sfish, (text) => {
        expect(gate(gateSf.parseList(text) ?? null)).toEqual(client(() => clientSf.parseList(text)) ?? null);
        expect(gate(gateSf.parseItem(text) ?? null)).toEqual(client(() => clientSf.parseItem(text)) ?? null);
      }),
      { numRuns: 3000 },
    );
  });
});
