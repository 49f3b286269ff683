import { describe, expect, it } from "vitest";
import { StructuredFieldError, parseItem, parseList, serializeString, serializeToken, stringParam, type InnerList, type Item } from "./sf";

describe("structured fields: Secure-Session-Registration (List of Inner Lists)", () => {
  it("parses the gate's header: algorithms as tokens, path and challenge as strings", () => {
    const [entry, ...rest] = parseList('(ES256 RS256);path="/_gate/dbsc/registration";challenge="c-1"');
    expect(rest).toEqual([]);
    expect(entry.kind).toBe("inner");
    const inner = entry as InnerList;
    expect(inner.items.map((i) => i.item)).toEqual([
      { type: "token", value: "ES256" },
      { type: "token", value: "RS256" },
    ]);
    expect(stringParam(inner.params, "path")).toBe("/_gate/dbsc/registration");
    expect(stringParam(inner.params, "challenge")).toBe("c-1");
    expect(stringParam(inner.params, "authorization")).toBeUndefined();
  });

  it("parses the draft's multi-entry example, and two field lines joined by Headers", () => {
    const one = parseList('(ES256);path="reg1";challenge="cv1";authorization="a", (RS256);path="reg2";challenge="cv2";authorization="b"');
    const headers = new Headers();
    headers.append("Secure-Session-Registration", '(ES256);path="reg1";challenge="cv1";authorization="a"');
    headers.append("Secure-Session-Registration", '(RS256);path="reg2";challenge="cv2";authorization="b"');
    expect(parseList(headers.get("Secure-Session-Registration")!)).toEqual(one);
    expect(one.map((m) => stringParam(m.params, "authorization"))).toEqual(["a", "b"]);
  });

  it("keeps a quoted algorithm a String, which DBSC ignores, and a bare path a Token", () => {
    const [entry] = parseList('("ES256");path=reg') as InnerList[];
    expect(entry.items[0].item).toEqual({ type: "string", value: "ES256" });
    expect(entry.params.get("path")).toEqual({ type: "token", value: "reg" });
    expect(stringParam(entry.params, "path")).toBeUndefined();
  });

  it("reads parameters: bare keys are true, a repeated key keeps the last value", () => {
    const [entry] = parseList("(ES256);a;b=?0;a=1");
    expect([...entry.params]).toEqual([
      ["a", { type: "integer", value: 1 }],
      ["b", { type: "boolean", value: false }],
    ]);
  });

  it("unescapes strings and tolerates the whitespace RFC 9651 allows", () => {
    const [m] = parseList('  "new \\"challenge\\" \\\\ x";id="my session"  ') as Item[];
    expect(m.item).toEqual({ type: "string", value: 'new "challenge" \\ x' });
    expect(stringParam(m.params, "id")).toBe("my session");
    expect(parseList('( ES256   RS256 );path="p" ,\t(ES256)').length).toBe(2);
  });

  it("parses numbers, booleans and byte sequences", () => {
    const items = (parseList("-12, 3.25, ?1, :aGk=:") as Item[]).map((m) => m.item);
    expect(items).toEqual([
      { type: "integer", value: -12 },
      { type: "decimal", value: 3.25 },
      { type: "boolean", value: true },
      { type: "binary", value: new Uint8Array([104, 105]) },
    ]);
  });

  it.each([
    ['(ES256);path="p",'],
    ["(ES256"],
    ['"unterminated'],
    ['"bad \\x escape"'],
    ['"tab\tinside"'],
    ["(ES256)path"],
    ["1234567890123456"],
    ["1.2345"],
    ["1."],
    ['(ES256);Path="p"'],
    ["a, , b"],
    ['"ü"'],
  ])("rejects %j", (value) => {
    expect(() => parseList(value)).toThrow(StructuredFieldError);
  });
});

describe("structured fields: Secure-Session-Challenge and Secure-Session-Skipped", () => {
  it("parses several challenges, each with its id", () => {
    const list = parseList('"c1";id="session 1", "c2";id="session 2"') as Item[];
    expect(list.map((m) => [m.item.value, stringParam(m.params, "id")])).toEqual([
      ["c1", "session 1"],
      ["c2", "session 2"],
    ]);
  });

  it("parses the draft's Secure-Session-Skipped example: tokens with a session_identifier string", () => {
    const list = parseList('unreachable;session_identifier="123", quota_exceeded;session_identifier="456"') as Item[];
    expect(list.map((m) => [m.item, stringParam(m.params, "session_identifier")])).toEqual([
      [{ type: "token", value: "unreachable" }, "123"],
      [{ type: "token", value: "quota_exceeded" }, "456"],
    ]);
  });
});

describe("structured fields: Items (Sec-Secure-Session-Id, Secure-Session-Response)", () => {
  it("reads a quoted id as a String and ignores nothing silently", () => {
    expect(parseItem('"session-id"').item).toEqual({ type: "string", value: "session-id" });
    expect(() => parseItem('"a" "b"')).toThrow(StructuredFieldError);
  });

  it("reads what Chrome sends unquoted: a JWT is token-shaped, an arbitrary id may not parse at all", () => {
    const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJjIn0.sig-_x";
    expect(parseItem(jwt).item).toEqual({ type: "token", value: jwt });
    expect(() => parseItem("3f9a0c")).toThrow(StructuredFieldError); // starts like an Integer, then is not one
    expect(() => parseItem("id with spaces")).toThrow(StructuredFieldError);
  });

  it("serialises strings with escapes, and round-trips them", () => {
    expect(serializeString('a"b\\c')).toBe('"a\\"b\\\\c"');
    for (const s of ["", "plain", 'q"uote', "back\\slash", "~ !#$%&'()*+,-./:;<=>?@[]^_`{|}"]) {
      expect(parseItem(serializeString(s)).item).toEqual({ type: "string", value: s });
    }
    expect(() => serializeString("é")).toThrow(StructuredFieldError);
    expect(() => serializeString("line\nbreak")).toThrow(StructuredFieldError);
    expect(serializeToken("server_error")).toBe("server_error");
    expect(() => serializeToken("1abc")).toThrow(StructuredFieldError);
  });
});
