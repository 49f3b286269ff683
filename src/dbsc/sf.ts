/**
 * The parts of RFC 8941 (Structured Field Values for HTTP) DBSC's request headers
 * need, parsed exactly as §4.2 says: Items with Parameters (`Sec-Secure-Session-Id`,
 * `Secure-Session-Response`) and Lists (`Secure-Session-Skipped`). The parsers never
 * throw: where §4.2 fails they answer `undefined`, and the field counts as absent
 * (§4.2 step 6). Byte Sequences are checked, but kept as text: DBSC reads none.
 * Serialisation of what the gate emits is in headers.ts.
 */

/** A Bare Item, tagged so that a Token and a String with the same text stay different. */
export type BareItem =
  | { type: "string"; value: string }
  | { type: "token"; value: string }
  | { type: "integer" | "decimal"; value: number }
  | { type: "boolean"; value: boolean }
  | { type: "binary"; value: string };

/** Parameters in order of first appearance; a repeated key keeps its last value (§4.2.3.2). */
export type Params = Map<string, BareItem>;

/** An Item or an Inner List, each with its Parameters; a List's members are either. */
export type Item = { kind: "item"; item: BareItem; params: Params };
export type InnerList = { kind: "inner"; items: Item[]; params: Params };
export type Member = Item | InnerList;

const DIGIT = /^[0-9]$/;
const ALPHA = /^[A-Za-z]$/;
const KEY_FIRST = /^[a-z*]$/;
const KEY_CHAR = /^[a-z0-9_\-.*]$/;
const TOKEN_CHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z:/]$/;
const BASE64 = /^[A-Za-z0-9+/=]*$/;

/** Thrown inside this module only, and caught by {@link parseField}. */
const FAIL = Symbol("sf-fail");

/** The field text and the parser's position in it. */
type Cursor = { s: string; i: number };

const peek = (c: Cursor) => c.s[c.i] ?? "";
const fail = (): never => {
  throw FAIL;
};
/** Skips the characters in `chars` (SP for §4.2.1.2 and §4.2.3.2, OWS for §4.2.1). */
const skip = (c: Cursor, chars = " ") => {
  while (peek(c) !== "" && chars.includes(peek(c))) c.i++;
};

/** §4.2.5 */
function parseString(c: Cursor): string {
  c.i++; // DQUOTE
  let out = "";
  while (c.i < c.s.length) {
    const ch = c.s[c.i++];
    if (ch === "\\") {
      const next = c.s[c.i++];
      if (next !== '"' && next !== "\\") fail();
      out += next;
    } else if (ch === '"') return out;
    else if (ch < "\x20" || ch > "\x7e") fail();
    else out += ch;
  }
  return fail();
}

/** §4.2.6 */
function parseToken(c: Cursor): string {
  const start = c.i++;
  while (TOKEN_CHAR.test(peek(c))) c.i++;
  return c.s.slice(start, c.i);
}

/** §4.2.4: at most 15 integer digits; a decimal has at most 12 before and 3 after the point. */
function parseNumber(c: Cursor): BareItem {
  const negative = peek(c) === "-";
  if (negative) c.i++;
  if (!DIGIT.test(peek(c))) fail();
  let digits = "";
  let decimal = false;
  while (c.i < c.s.length) {
    const ch = peek(c);
    if (DIGIT.test(ch)) digits += ch;
    else if (ch === "." && !decimal) {
      if (digits.length > 12) fail();
      decimal = true;
      digits += ch;
    } else break;
    c.i++;
    if (digits.length > (decimal ? 16 : 15)) fail();
  }
  const sign = negative ? -1 : 1;
  if (!decimal) return { type: "integer", value: sign * Number(digits) };
  if (digits.endsWith(".") || digits.length - digits.indexOf(".") - 1 > 3) fail();
  return { type: "decimal", value: sign * Number(digits) };
}

/** §4.2.7 (kept as its base64 text) and §4.2.8. */
function parseBinaryOrBoolean(c: Cursor): BareItem {
  if (peek(c) === "?") {
    const value = c.s[c.i + 1];
    if (value !== "0" && value !== "1") fail();
    c.i += 2;
    return { type: "boolean", value: value === "1" };
  }
  const end = c.s.indexOf(":", c.i + 1);
  if (end < 0) fail();
  const text = c.s.slice(c.i + 1, end);
  if (!BASE64.test(text)) fail();
  atob(text); // throws on what does not decode (a length of 1 mod 4, a misplaced "="); missing padding is fine, as §4.2.7 advises
  c.i = end + 1;
  return { type: "binary", value: text };
}

/** §4.2.3.1 */
function parseBareItem(c: Cursor): BareItem {
  const ch = peek(c);
  if (ch === "-" || DIGIT.test(ch)) return parseNumber(c);
  if (ch === '"') return { type: "string", value: parseString(c) };
  if (ch === "*" || ALPHA.test(ch)) return { type: "token", value: parseToken(c) };
  if (ch === ":" || ch === "?") return parseBinaryOrBoolean(c);
  return fail();
}

/** §4.2.3.2 and §4.2.3.3 */
function parseParams(c: Cursor): Params {
  const params: Params = new Map();
  while (peek(c) === ";") {
    c.i++;
    skip(c);
    if (!KEY_FIRST.test(peek(c))) fail();
    const start = c.i;
    while (KEY_CHAR.test(peek(c))) c.i++;
    const key = c.s.slice(start, c.i);
    let value: BareItem = { type: "boolean", value: true };
    if (peek(c) === "=") {
      c.i++;
      value = parseBareItem(c);
    }
    params.set(key, value);
  }
  return params;
}

/** §4.2.3 */
const parseItemAt = (c: Cursor): Item => ({ kind: "item", item: parseBareItem(c), params: parseParams(c) });

/** §4.2.1.1 and §4.2.1.2 */
function parseMember(c: Cursor): Member {
  if (peek(c) !== "(") return parseItemAt(c);
  c.i++;
  const items: Item[] = [];
  while (c.i < c.s.length) {
    skip(c);
    if (peek(c) === ")") {
      c.i++;
      return { kind: "inner", items, params: parseParams(c) };
    }
    items.push(parseItemAt(c));
    if (peek(c) !== " " && peek(c) !== ")") fail();
  }
  return fail();
}

/** Runs a parser over a whole field value, SP trimmed (§4.2 step 2); `undefined` where §4.2 fails. */
function parseField<T>(value: string, parse: (c: Cursor) => T): T | undefined {
  const c: Cursor = { s: value.replace(/^ +| +$/g, ""), i: 0 };
  try {
    const result = parse(c);
    return c.i === c.s.length ? result : undefined;
  } catch {
    return undefined; // FAIL, or atob's DOMException
  }
}

/** Parses an Item field (§4.2 with field type "item"), or `undefined` when it is not one. */
export const parseItem = (value: string): Item | undefined => parseField(value, parseItemAt);

/** Parses a List field (§4.2.1); an empty value is an empty List. `undefined` when it is not a List. */
export function parseList(value: string): Member[] | undefined {
  return parseField(value, (c) => {
    const members: Member[] = [];
    while (c.i < c.s.length) {
      members.push(parseMember(c));
      skip(c, " \t");
      if (c.i >= c.s.length) break;
      if (c.s[c.i++] !== ",") fail();
      skip(c, " \t");
      if (c.i >= c.s.length) fail(); // a trailing comma
    }
    return members;
  });
}
