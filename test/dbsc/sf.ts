/**
 * The parts of RFC 9651 (Structured Field Values for HTTP, which obsoletes
 * RFC 8941) that DBSC needs: Lists (with Inner Lists and Parameters) and Items,
 * parsed exactly as §4.2 says, and serialisation of Strings and Tokens.
 * Dates (`@`) and Display Strings (`%`) are not supported: DBSC uses neither,
 * and a field containing one fails to parse, as it would for an RFC 8941 parser.
 */

/** A Bare Item, tagged so a Token and a String with the same text stay different. */
export type BareItem =
  | { type: "string"; value: string }
  | { type: "token"; value: string }
  | { type: "integer"; value: number }
  | { type: "decimal"; value: number }
  | { type: "boolean"; value: boolean }
  | { type: "binary"; value: Uint8Array };

/** Parameters, in order; a repeated key keeps its first position and its last value (§4.2.3.2). */
export type Params = Map<string, BareItem>;

/** An Item: a Bare Item with Parameters. */
export interface Item {
  kind: "item";
  item: BareItem;
  params: Params;
}
/** An Inner List: Items in parentheses, with Parameters of its own. */
export interface InnerList {
  kind: "inner";
  items: Item[];
  params: Params;
}
/** A List member. */
export type Member = Item | InnerList;

/** Thrown on input that §4.2 says must fail; callers treat the whole field as absent. */
export class StructuredFieldError extends Error {}

const DIGIT = /[0-9]/;
const ALPHA = /[A-Za-z]/;
const LCALPHA = /[a-z]/;
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const KEYCHAR = /[a-z0-9_\-.*]/;

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  private peek(): string {
    return this.s[this.i] ?? "";
  }
  private fail(what: string): never {
    throw new StructuredFieldError(`${what} at ${this.i} in ${JSON.stringify(this.s)}`);
  }
  private skipSP(): void {
    while (this.peek() === " ") this.i++;
  }
  private skipOWS(): void {
    while (this.peek() === " " || this.peek() === "\t") this.i++;
  }
  done(): boolean {
    return this.i >= this.s.length;
  }

  /** §4.2.1 */
  list(): Member[] {
    const members: Member[] = [];
    while (!this.done()) {
      members.push(this.member());
      this.skipOWS();
      if (this.done()) return members;
      if (this.s[this.i++] !== ",") this.fail("expected ','");
      this.skipOWS();
      if (this.done()) this.fail("trailing ','");
    }
    return members;
  }

  /** §4.2.1.1 */
  member(): Member {
    if (this.peek() === "(") return this.innerList();
    return this.item();
  }

  /** §4.2.1.2 */
  innerList(): InnerList {
    this.i++; // "("
    const items: Item[] = [];
    while (!this.done()) {
      this.skipSP();
      if (this.peek() === ")") {
        this.i++;
        return { kind: "inner", items, params: this.params() };
      }
      items.push(this.item());
      const c = this.peek();
      if (c !== " " && c !== ")") this.fail("expected SP or ')' in inner list");
    }
    return this.fail("unterminated inner list");
  }

  /** §4.2.3 */
  item(): Item {
    const item = this.bareItem();
    return { kind: "item", item, params: this.params() };
  }

  /** §4.2.3.1 */
  bareItem(): BareItem {
    const c = this.peek();
    if (c === "-" || DIGIT.test(c)) return this.number();
    if (c === '"') return { type: "string", value: this.string() };
    if (c === "*" || ALPHA.test(c)) return { type: "token", value: this.token() };
    if (c === ":") return { type: "binary", value: this.binary() };
    if (c === "?") return { type: "boolean", value: this.boolean() };
    return this.fail("unexpected character");
  }

  /** §4.2.3.2 */
  params(): Params {
    const params: Params = new Map();
    while (this.peek() === ";") {
      this.i++;
      this.skipSP();
      const key = this.key();
      let value: BareItem = { type: "boolean", value: true };
      if (this.peek() === "=") {
        this.i++;
        value = this.bareItem();
      }
      params.set(key, value);
    }
    return params;
  }

  /** §4.2.3.3 */
  private key(): string {
    const c = this.peek();
    if (c !== "*" && !LCALPHA.test(c)) this.fail("expected key");
    const start = this.i;
    while (!this.done() && KEYCHAR.test(this.peek())) this.i++;
    return this.s.slice(start, this.i);
  }

  /** §4.2.4 */
  private number(): BareItem {
    const start = this.i;
    if (this.peek() === "-") this.i++;
    if (!DIGIT.test(this.peek())) this.fail("expected digit");
    let decimal = false;
    while (!this.done()) {
      const c = this.peek();
      if (DIGIT.test(c)) this.i++;
      else if (c === "." && !decimal) {
        if (this.i - start > 12 + (this.s[start] === "-" ? 1 : 0)) this.fail("decimal too long");
        decimal = true;
        this.i++;
      } else break;
      const len = this.i - start - (this.s[start] === "-" ? 1 : 0);
      if ((!decimal && len > 15) || (decimal && len > 16)) this.fail("number too long");
    }
    const text = this.s.slice(start, this.i);
    if (!decimal) return { type: "integer", value: Number(text) };
    if (text.endsWith(".")) this.fail("decimal ends with '.'");
    if (text.length - text.indexOf(".") - 1 > 3) this.fail("more than 3 fraction digits");
    return { type: "decimal", value: Number(text) };
  }

  /** §4.2.5 */
  private string(): string {
    this.i++; // opening DQUOTE
    let out = "";
    while (!this.done()) {
      const c = this.s[this.i++];
      if (c === "\\") {
        const next = this.s[this.i++];
        if (next !== '"' && next !== "\\") this.fail("bad escape");
        out += next;
      } else if (c === '"') return out;
      else if (c < "\x20" || c > "\x7e") this.fail("non-printable in string");
      else out += c;
    }
    return this.fail("unterminated string");
  }

  /** §4.2.6 */
  private token(): string {
    const start = this.i++;
    while (!this.done() && (TCHAR.test(this.peek()) || this.peek() === ":" || this.peek() === "/")) this.i++;
    return this.s.slice(start, this.i);
  }

  /** §4.2.7 */
  private binary(): Uint8Array {
    this.i++;
    const end = this.s.indexOf(":", this.i);
    if (end < 0) this.fail("unterminated byte sequence");
    const text = this.s.slice(this.i, end);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) this.fail("bad base64");
    this.i = end + 1;
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  }

  /** §4.2.8 */
  private boolean(): boolean {
    this.i++;
    const c = this.s[this.i++];
    if (c === "1") return true;
    if (c === "0") return false;
    return this.fail("bad boolean");
  }
}

/** Strips the SP that §4.2 step 2 discards around a whole field value. */
const trimSP = (s: string) => s.replace(/^ +| +$/g, "");

/** Parses a List field (several field lines are one value joined with ", ", as `Headers.get` joins them). */
export function parseList(value: string): Member[] {
  return new Parser(trimSP(value)).list();
}

/** Parses an Item field, such as `Sec-Secure-Session-Id` or `Secure-Session-Response`. */
export function parseItem(value: string): Item {
  const p = new Parser(trimSP(value));
  const item = p.item();
  if (!p.done()) throw new StructuredFieldError(`trailing characters in ${JSON.stringify(value)}`);
  return item;
}

/** Serialises a String (§4.1.6): quotes it, escaping `"` and `\`; throws on anything outside %x20-7E. */
export function serializeString(value: string): string {
  if (/[^\x20-\x7e]/.test(value)) throw new StructuredFieldError(`not serialisable as sf-string: ${JSON.stringify(value)}`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Serialises a Token (§4.1.7); throws if `value` is not token-shaped. */
export function serializeToken(value: string): string {
  if (!/^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/.test(value)) throw new StructuredFieldError(`not a token: ${value}`);
  return value;
}

/** The value of parameter `key` if it is a String, else undefined. */
export function stringParam(params: Params, key: string): string | undefined {
  const v = params.get(key);
  return v?.type === "string" ? v.value : undefined;
}
