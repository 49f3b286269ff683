import { describe, expect, it } from "vitest";
import { DbscError } from "../../src/dbsc/errors";
import { challengeHeader, MAX_PROOF_LENGTH, readProofHeader, readSessionId, readSkipped, registrationHeader } from "../../src/dbsc/headers";
import { type InnerList, type Item, parseList, stringParam } from "./sf";

const SID = "q3Zq1cS7bV0r9mPzYw2xkA";
const JWT = "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJjIn0.c2lnbmF0dXJl";

describe("registrationHeader", () => {
  it("writes the contract's value: both algorithms as tokens, path and challenge as sf-strings", () => {
    expect(registrationHeader({ challenge: "1767225600.abc", path: "/_gate/dbsc/registration" })).toBe(
      '(ES256 RS256);path="/_gate/dbsc/registration";challenge="1767225600.abc"',
    );
    expect(registrationHeader({ challenge: "c", path: "/r", algorithms: ["RS256"] })).toBe('(RS256);path="/r";challenge="c"');
  });

  it("escapes quotes and backslashes, so a hostile challenge or path stays one parameter", () => {
    const value = registrationHeader({ challenge: 'x";authorization="evil', path: '/r\\";challenge="y' });
    expect(value).toBe('(ES256 RS256);path="/r\\\\\\";challenge=\\"y";challenge="x\\";authorization=\\"evil"');
    const [entry, ...rest] = parseList(value) as InnerList[];
    expect(rest).toEqual([]);
    expect([...entry.params.keys()]).toEqual(["path", "challenge"]);
    expect(stringParam(entry.params, "path")).toBe('/r\\";challenge="y');
    expect(stringParam(entry.params, "challenge")).toBe('x";authorization="evil');
  });

  it.each([
    [{ challenge: "ü", path: "/r" }, "not_sf_string"],
    [{ challenge: "a\r\nSet-Cookie: x=1", path: "/r" }, "not_sf_string"],
    [{ challenge: "c", path: "/r\t" }, "not_sf_string"],
    [{ challenge: "", path: "/r" }, "invalid_option"],
    [{ challenge: "c", path: "" }, "invalid_option"],
    [{ challenge: "c", path: "/r", algorithms: [] }, "invalid_option"],
    [{ challenge: "c", path: "/r", algorithms: ["none"] }, "invalid_option"],
    [{ challenge: "c", path: "/r", algorithms: ["HS256"] }, "invalid_option"],
    [{ challenge: "c", path: "/r", algorithms: ["ES256", "ES256"] }, "invalid_option"],
  ])("refuses %j (%s)", (offer, code) => {
    expect(() => registrationHeader(offer as Parameters<typeof registrationHeader>[0])).toThrow(DbscError);
    try {
      registrationHeader(offer as Parameters<typeof registrationHeader>[0]);
    } catch (error) {
      expect((error as DbscError).code).toBe(code);
    }
  });
});

describe("challengeHeader", () => {
  it('writes "<c>";id="<id>" as the draft serialises it', () => {
    expect(challengeHeader("1767225600.mac", SID)).toBe(`"1767225600.mac";id="${SID}"`);
  });

  it("escapes, so neither value can add a parameter or a list member", () => {
    const value = challengeHeader('c";id="other", "x', 'a\\";evil=?1');
    const [member, ...rest] = parseList(value) as Item[];
    expect(rest).toEqual([]);
    expect(member.item).toEqual({ type: "string", value: 'c";id="other", "x' });
    expect([...member.params]).toEqual([["id", { type: "string", value: 'a\\";evil=?1' }]]);
  });

  it("refuses non-ASCII, controls and empty values", () => {
    expect(() => challengeHeader("c\n", SID)).toThrow(DbscError);
    expect(() => challengeHeader("c", "sïd")).toThrow(DbscError);
    expect(() => challengeHeader("", SID)).toThrow(DbscError);
  });
});

describe("readSessionId", () => {
  it("reads the draft's sf-string and Chrome's bare id alike", () => {
    expect(readSessionId(`"${SID}"`)).toBe(SID);
    expect(readSessionId(SID)).toBe(SID);
    expect(readSessionId("3f9a0b")).toBe("3f9a0b"); // bare, and not an sf-item (it starts like an Integer)
    expect(readSessionId(`  "${SID}"  `)).toBe(SID);
  });

  it("ignores parameters on the sf-string, as the draft says, but not on a bare value", () => {
    expect(readSessionId(`"${SID}";x=1;y="z"`)).toBe(SID);
    expect(readSessionId(`${SID};x=1`)).toBeUndefined();
  });

  it.each([
    ["", "empty"],
    ['""', "empty string"],
    [`"${SID}`, "unterminated"],
    [`"${SID}"x`, "trailing characters"],
    ['"ab\\"c"', "an escaped quote"],
    ['"ab\\\\c"', "a backslash"],
    ['"a b"', "a space"],
    ["a b", "a bare space"],
    ['"sïd"', "non-ASCII"],
    ["sïd", "bare non-ASCII"],
    ['"a\tb"', "a tab"],
    [`"${"a".repeat(65)}"`, "65 characters"],
    ["a".repeat(65), "65 bare characters"],
    [`"${SID}", "other"`, "two field lines joined"],
    [`${SID}, other`, "two bare lines joined"],
    ["?1", "a Boolean"],
    [":aGk=:", "a Byte Sequence"],
    ["a.b", "a dot"],
  ])("refuses %j (%s)", (value) => {
    expect(readSessionId(value)).toBeUndefined();
  });

  it("accepts 64 characters and reads null or undefined as absent", () => {
    expect(readSessionId("a".repeat(64))).toBe("a".repeat(64));
    expect(readSessionId(null)).toBeUndefined();
    expect(readSessionId(undefined)).toBeUndefined();
  });
});

describe("readProofHeader", () => {
  it("reads a quoted or a bare compact JWT, ignoring parameters on the quoted one", () => {
    expect(readProofHeader(`"${JWT}"`)).toBe(JWT);
    expect(readProofHeader(JWT)).toBe(JWT);
    expect(readProofHeader(`"${JWT}";v=2`)).toBe(JWT);
    expect(readProofHeader("eyJhbGciOiJub25lIn0.eyJqdGkiOiJjIn0.")).toBe("eyJhbGciOiJub25lIn0.eyJqdGkiOiJjIn0."); // left for proof.ts to refuse by name
  });

  it.each([
    [`"${JWT}`, "unterminated"],
    [`Bearer ${JWT}`, "a scheme"],
    [`"${JWT}", "${JWT}"`, "two field lines joined"],
    [`${JWT}, ${JWT}`, "two bare lines joined"],
    ["a.b", "two parts"],
    ["a.b.c.d.e", "a JWE's five parts"],
    [`"${JWT.replace(".", '\\".')}"`, "an escaped quote inside"],
    [`${JWT}=`, "base64 padding"],
    [`${JWT.replace("e", "+")}`, "a base64 (not base64url) character"],
    ['"eyJ.é.x"', "non-ASCII"],
    [`${JWT};x=1`, "a bare value with a parameter"],
    ['{"payload":"x","signature":"y"}', "the JSON serialisation"],
  ])("refuses %j (%s)", (value) => {
    expect(readProofHeader(value)).toBeUndefined();
  });

  it(`accepts up to ${MAX_PROOF_LENGTH} characters and no more`, () => {
    const at = (n: number) => `eyJ.e30.${"A".repeat(n - 8)}`;
    expect(readProofHeader(at(MAX_PROOF_LENGTH))).toHaveLength(MAX_PROOF_LENGTH);
    expect(readProofHeader(`"${at(MAX_PROOF_LENGTH)}"`)).toHaveLength(MAX_PROOF_LENGTH);
    expect(readProofHeader(at(MAX_PROOF_LENGTH + 1))).toBeUndefined();
    expect(readProofHeader(`"${at(MAX_PROOF_LENGTH + 1)}"`)).toBeUndefined();
  });
});

describe("readSkipped", () => {
  it("reads the draft's example", () => {
    expect(readSkipped('unreachable;session_identifier="123", quota_exceeded;session_identifier="456"')).toEqual([
      { reason: "unreachable", sessionId: "123" },
      { reason: "quota_exceeded", sessionId: "456" },
    ]);
    expect(readSkipped(`server_error;session_identifier="${SID}"`)).toEqual([{ reason: "server_error", sessionId: SID }]);
  });

  it("names an unknown token 'other' and drops a session id that is not an sf-string session id", () => {
    expect(readSkipped('made_up;session_identifier="1"')).toEqual([{ reason: "other", sessionId: "1" }]);
    expect(readSkipped("unreachable;session_identifier=abc")).toEqual([{ reason: "unreachable" }]);
    expect(readSkipped('unreachable;session_identifier="a b"')).toEqual([{ reason: "unreachable" }]);
    expect(readSkipped('unreachable;session_identifier="a\\"b"')).toEqual([{ reason: "unreachable" }]);
  });

  it("drops members that are not tokens, keeps at most 8, and reads an invalid or overlong field as none", () => {
    expect(readSkipped('"unreachable", 1, (server_error), ?1, server_error')).toEqual([{ reason: "server_error" }]);
    expect(readSkipped(Array(20).fill("unreachable").join(", "))).toHaveLength(8);
    for (const bad of ['unreachable;session_identifier="1', "unreachable,", "unreachable;Session=1", "ü", "a".repeat(3000), null, undefined, ""]) {
      expect(readSkipped(bad)).toEqual([]);
    }
  });
});
